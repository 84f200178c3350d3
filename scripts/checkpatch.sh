#!/usr/bin/env bash
# checkpatch.sh: scripts/checkpatch.pl --strict on the series as it will be
# mailed, with codespell. Any error, warning or check fails. The mails come
# from mail.sh as a submitter other than the series' placeholder author would
# send them (From: and Signed-off-by: "Series Submitter
# <submitter@example.org>", whatever this machine's git identity), so that
# checkpatch sees the authorship and sign-off of a real submission.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$(bash "$ROOT/scripts/tree.sh" series)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GIT_AUTHOR_NAME="Series Submitter" GIT_AUTHOR_EMAIL="submitter@example.org"
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
MAIL_NO_RECIPIENTS=1 bash "$ROOT/scripts/mail.sh" "$tmp/mail" 2>"$tmp/mail.log" ||
	{ grep -v '^\[[0-9:]*\] ' "$tmp/mail.log" >&2; die "mail.sh failed"; }
opts=(--strict --no-tree --quiet --show-types --color=never)
dict=$(ls /usr/lib/python3/dist-packages/codespell_lib/data/dictionary.txt 2>/dev/null || true)
[ -n "$dict" ] && opts+=(--codespell --codespellfile "$dict")
bad=0 n=0
for p in "$tmp"/mail/[0-9][0-9][0-9][0-9]-*.patch; do
	case $p in */0000-*) continue;; esac
	[ -e "$p" ] || continue
	n=$((n + 1))
	if ! out=$(cd "$tree" && perl ./scripts/checkpatch.pl "${opts[@]}" "$p" 2>&1) || [ -n "$out" ]; then
		echo "== ${p##*/}"; echo "$out"; bad=1
	fi
done
[ $n -gt 0 ] || die "mail.sh wrote no patch"
[ $bad -eq 0 ] || die "checkpatch --strict reports errors or warnings (above)"
log "checkpatch: $n patches clean (--strict${dict:+, codespell})"
