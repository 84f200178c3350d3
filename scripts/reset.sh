#!/usr/bin/env bash
# reset.sh: recreate the kernel work tree ./linux from the base + patches/.
# Refuses when ./linux holds commits or changes that patches/ does not have.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ -d "$TREE" ]; then
	[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] ||
		die "$TREE has uncommitted changes; commit or stash them first"
	if [ "${FORCE:-0}" != 1 ] && bash "$ROOT/scripts/tree.sh" series >/dev/null 2>&1; then
		log "reset: $TREE already matches patches/"
		exit 0
	fi
	[ "${FORCE:-0}" = 1 ] || [ -z "$(git -C "$TREE" log --format=%h "$(base_rev)..HEAD" 2>/dev/null |
		head -n1)" ] || log "reset: $TREE's old commits stay reachable as $(git -C "$TREE" rev-parse --short HEAD)"
	repo=$(git -C "$TREE" rev-parse --path-format=absolute --git-common-dir)
	git -C "$repo" worktree remove --force "$TREE"
fi
bash "$ROOT/scripts/tree.sh" series >/dev/null
log "reset: $TREE = base + patches/"
