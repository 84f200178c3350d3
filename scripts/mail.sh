#!/usr/bin/env bash
# mail.sh [OUTDIR]: write the series as mails (default out/mail/): your
# Signed-off-by added from your git identity, threaded, To/Cc from the tree's
# scripts/get_maintainer.pl. Nothing is sent: use git send-email or b4 on it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$ROOT/out/mail}
tree=$(bash "$ROOT/scripts/tree.sh" series)
base=$(git -C "$tree" rev-parse "$(base_rev)^{commit}")
ident=$(git -C "$tree" var GIT_COMMITTER_IDENT 2>/dev/null | sed 's/>.*/>/') ||
	die "no git identity: set user.name and user.email, they become your Signed-off-by"
[ -z "${MAIL_NO_RECIPIENTS:-}" ] || recip=()
rm -rf "$out" && mkdir -p "$out"
git -C "$tree" -c core.abbrev=12 format-patch -q -o "$out" --signoff --thread=shallow \
	--no-signature --cover-letter --cover-from-description=subject \
	--subject-prefix="PATCH v1" --base="$base" "$base..HEAD"
if [ -z "${MAIL_NO_RECIPIENTS:-}" ]; then
	# To: the mm maintainers and linux-mm; Cc: everyone else get_maintainer.pl names.
	(cd "$tree" && ./scripts/get_maintainer.pl --rolestats --no-git --no-git-fallback \
		$(ls "$out"/[0-9]*.patch | grep -v /0000-) 2>/dev/null) > "$out/.recipients"
	for f in "$out"/*.patch; do
		python3 - "$f" "$out/.recipients" <<'PY'
import re, sys
path, rec = sys.argv[1], sys.argv[2]
to, cc = [], []
for line in open(rec, encoding="utf-8"):
    m = re.match(r"^(.*?@\S+?)(?: \((.*)\))?$", line.strip())
    if not m:
        continue
    who, role = m.group(1), m.group(2) or ""
    mm = re.search(r"(maintainer|list):MEMORY MANAGEMENT", role)
    (to if mm else cc).append(who)
text = open(path, encoding="utf-8").read()
head, sep, body = text.partition("\n\n")
if to:
    head += "\nTo: " + ",\n    ".join(to)
if cc:
    head += "\nCc: " + ",\n    ".join(cc)
open(path, "w", encoding="utf-8").write(head + sep + body)
PY
	done
	rm -f "$out/.recipients"
fi
log "mail: $(ls "$out" | wc -l) mails in $out, signed off by $ident"
