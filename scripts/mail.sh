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
	mapfile -t to < <(cd "$tree" && ./scripts/get_maintainer.pl --no-rolestats --no-git \
		--no-git-fallback --no-roles --no-rolestats "$out"/0[0-9][0-9][1-9]-*.patch 2>/dev/null |
		grep '@' | sort -u)
	for f in "$out"/*.patch; do
		python3 - "$f" "${to[@]}" <<'PY'
import sys
path, people = sys.argv[1], sys.argv[2:]
lists = [p for p in people if "list" in p or p.startswith("linux-")]
to = [p for p in people if p not in lists][:1] or lists[:1]
cc = [p for p in people if p not in to]
text = open(path, encoding="utf-8").read()
head, sep, body = text.partition("\n\n")
head += "".join(["\nTo: " + ", ".join(to)] if to else []) + ("\nCc: " + ",\n    ".join(cc) if cc else "")
open(path, "w", encoding="utf-8").write(head + sep + body)
PY
	done
fi
log "mail: $(ls "$out" | wc -l) mails in $out, signed off by $ident"
