#!/usr/bin/env bash
# check-copies.sh: prove that the plain files under mm/, include/, tools/,
# Documentation/ (and lib/, arch/, fs/) are byte-identical to what patches/
# creates, and that every file the patches add has its copy. The patches are
# applied to a scratch index of the base (no checkout, nothing else touched).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

repo=$BASE_REPO
[ -z "${KERNEL_TREE:-}" ] || repo=$KERNEL_TREE
[ -n "${KERNEL_TREE:-}" ] || bash "$ROOT/scripts/fetch-base.sh"
base=$(git -C "$repo" rev-parse "$(base_rev)^{commit}")
idx=$(mktemp)
trap 'rm -f "$idx"' EXIT
export GIT_INDEX_FILE=$idx
git -C "$repo" read-tree "$base"
added=()
shopt -s nullglob
for p in "$PATCHES"/[0-9]*.patch; do
	case $p in */0000-*) continue;; esac
	git -C "$repo" apply --cached "$p" || die "${p##*/} does not apply to $(base_rev)"
	while read -r f; do added+=("$f"); done < <(sed -n 's|^+++ b/\(.*\)$|\1|p' "$p" |
		while read -r f; do grep -q "^--- /dev/null" <(grep -B1 -F "+++ b/$f" "$p") && echo "$f"; done)
done
bad=0
for f in "${added[@]:+${added[@]}}"; do
	blob=$(git -C "$repo" ls-files -s -- "$f" | awk '{print $2}')
	if [ ! -f "$ROOT/$f" ]; then
		echo "check-copies: $f is added by the series but has no copy in the repo" >&2; bad=1
	elif [ "$(git -C "$repo" hash-object "$ROOT/$f")" != "$blob" ]; then
		echo "check-copies: $f differs from what patches/ creates" >&2; bad=1
	fi
done
for d in mm include tools Documentation lib arch fs; do
	[ -d "$ROOT/$d" ] || continue
	while read -r f; do
		rel=${f#"$ROOT"/}
		printf '%s\n' "${added[@]:+${added[@]}}" | grep -qxF "$rel" ||
			{ echo "check-copies: $rel is not a file the series adds" >&2; bad=1; }
	done < <(find "$ROOT/$d" -type f)
done
[ $bad -eq 0 ] || die "kernel-path copies do not match patches/ (run: make export)"
echo "check-copies: ${#added[@]} added files match patches/"
