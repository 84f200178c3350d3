#!/usr/bin/env bash
# checkpatch.sh: scripts/checkpatch.pl --strict on the series as it will be
# mailed (Signed-off-by added by mail.sh), with codespell. Any error or
# warning fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$(bash "$ROOT/scripts/tree.sh" series)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A placeholder sign-off where the machine has no git identity (CI).
if ! git config user.email >/dev/null 2>&1; then
	export GIT_COMMITTER_NAME="Series Submitter" GIT_COMMITTER_EMAIL="submitter@example.org"
fi
MAIL_NO_RECIPIENTS=1 bash "$ROOT/scripts/mail.sh" "$tmp" 2>/dev/null
opts=(--strict --no-tree --quiet --show-types --color=never)
dict=$(ls /usr/lib/python3/dist-packages/codespell_lib/data/dictionary.txt 2>/dev/null || true)
[ -n "$dict" ] && opts+=(--codespell --codespellfile "$dict")
bad=0 n=0
for p in "$tmp"/[0-9][0-9][0-9][0-9]-*.patch; do
	case $p in */0000-*) continue;; esac
	[ -e "$p" ] || continue
	n=$((n + 1))
	if ! out=$(cd "$tree" && perl ./scripts/checkpatch.pl "${opts[@]}" "$p" 2>&1) || [ -n "$out" ]; then
		echo "== ${p##*/}"; echo "$out"; bad=1
	fi
done
[ $bad -eq 0 ] || die "checkpatch --strict reports errors or warnings (above)"
log "checkpatch: $n patches clean (--strict${dict:+, codespell})"
