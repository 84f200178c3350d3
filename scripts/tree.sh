#!/usr/bin/env bash
# tree.sh series|base: make sure a kernel source tree exists and print its path.
#
#   series  $TREE (./linux): a git worktree on branch $BRANCH = base + git am
#           patches/*.patch. Created when missing. When it exists, it must hold
#           exactly the series in patches/ (else: make export, or make reset).
#   base    a clean detached worktree of the base, for the comparison kernel.
#
# The base is our imported Debian tree ($CACHE/linux, tag $BASE_TAG), or with
# KERNEL_TREE=/path/to/linux the user's own repository at BASE (default HEAD):
# there only new worktrees and a new branch are created; the user's branches,
# index and uncommitted work are never touched.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

what=${1:?usage: tree.sh series|base}
need git

if [ -n "${KERNEL_TREE:-}" ]; then
	git -C "$KERNEL_TREE" rev-parse --git-dir >/dev/null 2>&1 ||
		die "KERNEL_TREE=$KERNEL_TREE is not a git tree"
	repo=$(cd "$KERNEL_TREE" && pwd)
	[ -f "$repo/mm/huge_memory.c" ] || die "KERNEL_TREE=$KERNEL_TREE is not a Linux kernel tree (no mm/huge_memory.c)"
else
	bash "$ROOT/scripts/fetch-base.sh"
	repo=$BASE_REPO
fi
base=$(base_rev)
basecommit=$(git -C "$repo" rev-parse -q --verify "$base^{commit}") ||
	die "base '$base' is not a commit in $repo"

# git am needs a committer; a fresh machine may have no git identity.
if ! git config user.email >/dev/null 2>&1; then
	export GIT_COMMITTER_NAME="thp test bed" GIT_COMMITTER_EMAIL="testbed@localhost"
fi

patches() { ls "$PATCHES"/[0-9]*.patch 2>/dev/null | grep -v '/0000-' || true; }

if [ "$what" = base ]; then
	dir=$CACHE/src-base
	[ -z "${KERNEL_TREE:-}" ] || dir=$CACHE/src-base-${basecommit:0:12}
	if [ ! -d "$dir" ]; then
		git -C "$repo" worktree prune
		git -C "$repo" worktree add -q --detach "$dir" "$basecommit"
	fi
	[ -z "$(git -C "$dir" status --porcelain --untracked-files=no)" ] ||
		die "$dir (base tree) has local changes; remove it to recreate it"
	echo "$dir"
	exit 0
fi
[ "$what" = series ] || die "usage: tree.sh series|base"

# The patch ids of the series in patches/ and of base..HEAD in the tree.
ids_files() { local p; for p in $(patches); do git patch-id --stable < "$p" | cut -d' ' -f1; done; }
ids_tree() { git -C "$TREE" log --reverse --format=%H "$basecommit..HEAD" |
	while read -r c; do git -C "$TREE" show "$c" | git patch-id --stable | cut -d' ' -f1; done; }

if [ -e "$TREE" ]; then
	git -C "$TREE" rev-parse --git-dir >/dev/null 2>&1 || die "$TREE exists but is not a git tree; remove it"
	git -C "$TREE" merge-base --is-ancestor "$basecommit" HEAD ||
		die "$TREE is not based on $base; run 'make reset' to recreate it from patches/"
	[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] ||
		die "$TREE has uncommitted changes; commit them (then make export) or stash them"
	if [ "$(ids_files)" != "$(ids_tree)" ]; then
		die "$TREE and patches/ differ: 'make export' saves the tree's commits to patches/, 'make reset' recreates the tree from patches/"
	fi
	echo "$TREE"
	exit 0
fi

log "tree: creating $TREE at $base ($(git -C "$repo" log -1 --format='%h %s' "$basecommit"))"
git -C "$repo" worktree prune
if [ -n "${KERNEL_TREE:-}" ]; then
	git -C "$repo" rev-parse -q --verify "refs/heads/$BRANCH" >/dev/null &&
		die "branch $BRANCH already exists in $KERNEL_TREE; pick another with BRANCH=name"
	git -C "$repo" worktree add -q -b "$BRANCH" "$TREE" "$basecommit"
else
	git -C "$repo" worktree add -q -B "$BRANCH" "$TREE" "$basecommit"
fi
# Cover letter text travels as the branch description (format-patch
# --cover-from-description), so that make export regenerates it.
cover=$PATCHES/0000-cover-letter.patch
if [ -f "$cover" ]; then
	python3 "$ROOT/scripts/cover.py" extract "$cover" > "$TREE/.git-description.tmp" 2>/dev/null &&
		git -C "$TREE" config "branch.$BRANCH.description" "$(cat "$TREE/.git-description.tmp")"
	rm -f "$TREE/.git-description.tmp"
fi

list=$(patches)
if [ -n "$list" ]; then
	log "tree: git am -3 $(echo "$list" | wc -l) patches"
	if ! out=$(git -C "$TREE" am -3 --quiet $list 2>&1); then
		failed=$(echo "$out" | sed -n 's/^Patch failed at \([0-9]*\) \(.*\)$/\1 \2/p' | head -n1)
		why=$(echo "$out" | grep -m1 -E 'patch failed|does not apply|CONFLICT' ||
		      echo "$out" | grep -m1 -E '^(error|fatal):' || echo "$out" | tail -n1)
		file=$(ls "$PATCHES"/"${failed%% *}"-*.patch 2>/dev/null | head -n1)
		git -C "$TREE" am --abort >/dev/null 2>&1 || true
		git -C "$repo" worktree remove --force "$TREE"
		if [ -n "${KERNEL_TREE:-}" ]; then
			git -C "$repo" branch -q -D "$BRANCH"
		fi
		die "${file##*/}: does not apply to $base: $why"
	fi
fi
echo "$TREE"
