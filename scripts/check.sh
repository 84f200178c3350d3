#!/usr/bin/env bash
# check.sh: the base kernel and the patched kernel, same recipe, same QEMU
# setup; per-suite results side by side. Exit non-zero on any failure of the
# patched kernel or any test that passes on base and not on the series.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start=$(date +%s)
rc=0
log "check: base kernel"
bash "$ROOT/scripts/test-kernel.sh" base || { rc=1; log "check: the base kernel has failures (see results/base)"; }
log "check: patched kernel"
bash "$ROOT/scripts/test-kernel.sh" series || rc=1
bash "$ROOT/scripts/tests/test-errors.sh" --kernel "$BUILD/base" || rc=1
python3 "$ROOT/scripts/ktap.py" --compare "$RESULTS/base/summary.json" "$RESULTS/series/summary.json" \
	--known "$ROOT/scripts/guest/known-failures.txt" || rc=1
log "check: done in $(( $(date +%s) - start ))s"
exit $rc
