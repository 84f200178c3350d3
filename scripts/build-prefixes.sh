#!/usr/bin/env bash
# build-prefixes.sh [FIRST [LAST]]: build every prefix of the series (base +
# patches 1..i) for x86_64 with THP=y and THP=n, incrementally: one worktree
# moves from prefix to prefix, so each step recompiles only what the patch
# touched. A prefix already built ok (same tree id, same config fragments)
# is skipped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$(bash "$ROOT/scripts/tree.sh" series)
base=$(git -C "$tree" rev-parse "$(base_rev)^{commit}")
mapfile -t commits < <(git -C "$tree" rev-list --reverse "$base..HEAD")
n=${#commits[@]}
first=${1:-1} last=${2:-$n}
src=$BUILD/prefix-src
done_dir=$RESULTS/prefixes
mkdir -p "$done_dir"
if [ ! -d "$src" ]; then
	git -C "$tree" worktree add -q --detach "$src" "$base"
fi
# The configuration is part of what was built: a change to a fragment
# builds every prefix again.
cfg=$(cat "$ROOT"/scripts/config/test.config "$ROOT"/scripts/config/series.config | sha1sum | cut -c1-12)
fail=0
for i in $(seq "$first" "$last"); do
	c=${commits[$((i - 1))]}
	subj=$(git -C "$tree" log -1 --format=%s "$c")
	git -C "$src" checkout -q --detach "$c"
	for thp in y n; do
		key=$done_dir/$(git -C "$src" rev-parse "$c^{tree}")-$cfg-$thp.ok
		if [ -f "$key" ]; then
			log "prefix $i/$n THP=$thp: already built ok ($subj)"
			continue
		fi
		t0=$(date +%s)
		if bash "$ROOT/scripts/build-kernel.sh" "$src" "$BUILD/prefix-$thp" "THP=$thp" >"$done_dir/last.log" 2>&1; then
			echo "$subj" > "$key"
			log "prefix $i/$n THP=$thp: ok in $(( $(date +%s) - t0 ))s ($subj)"
		else
			tail -n3 "$done_dir/last.log" >&2
			echo "build-prefixes.sh: error: prefix $i/$n THP=$thp does not build: $subj" >&2
			fail=1
			break 2
		fi
	done
done
[ $fail -eq 0 ] && log "prefixes: $first..$last of $n build with THP=y and THP=n"
exit $fail
