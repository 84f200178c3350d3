#!/usr/bin/env bash
# recipients.sh TREE DIR MAIL...: add To:/Cc: headers to the given mails,
# from TREE's scripts/get_maintainer.pl run on the whole series (DIR's
# numbered patches, cover letter excluded). To: the MEMORY MANAGEMENT maintainers and
# linux-mm; Cc: everyone else it names. Deterministic for a given tree.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=${1:?usage: recipients.sh TREE DIR MAIL...}
dir=${2:?usage: recipients.sh TREE DIR MAIL...}
shift 2
patches=$(ls "$dir"/[0-9]*.patch 2>/dev/null | grep -v '/0000-' || true)
[ -n "$patches" ] || die "no patches given"
rec=$(cd "$tree" && ./scripts/get_maintainer.pl --rolestats --no-git --no-git-fallback $patches 2>/dev/null) ||
	die "get_maintainer.pl failed in $tree"
for f in "$@"; do
	python3 - "$f" "$rec" <<'PY'
import re, sys
path, rec = sys.argv[1], sys.argv[2]
to, cc = [], []
for line in rec.splitlines():
    m = re.match(r"^(.*?@\S+?)(?: \((.*)\))?$", line.strip())
    if not m:
        continue
    who, role = m.group(1), m.group(2) or ""
    (to if re.search(r"(maintainer|list):MEMORY MANAGEMENT", role) else cc).append(who)
# get_maintainer.pl's order varies from run to run: sort, lists last.
def key(who):
    return ("<" not in who, who.lstrip('"').lower())
to, cc = sorted(set(to), key=key), sorted(set(cc), key=key)
text = open(path, encoding="utf-8").read()
head, sep, body = text.partition("\n\n")
head = re.sub(r"\n(To|Cc): .*(\n[ \t].*)*", "", head)
if to:
    head += "\nTo: " + ",\n    ".join(to)
if cc:
    head += "\nCc: " + ",\n    ".join(cc)
open(path, "w", encoding="utf-8").write(head + sep + body)
PY
done
