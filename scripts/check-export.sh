#!/usr/bin/env bash
# check-export.sh: patches/ must be exactly what `make export` writes from the
# tree that git am built from patches/: proves the series is reproducible and
# that no .patch file was edited by hand.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bash "$ROOT/scripts/tree.sh" series >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PATCHES=$tmp EXPORT_COPIES=0 bash "$ROOT/scripts/export.sh" 2>/dev/null
if ! diff -r "$ROOT/patches" "$tmp" >"$tmp.diff" 2>&1; then
	head -n 20 "$tmp.diff" >&2
	die "patches/ differs from what the tree exports (hand-edited, or run make export)"
fi
rm -f "$tmp.diff"
echo "check-export: patches/ is byte-identical to a fresh export ($(ls "$tmp" | wc -l) files)"
