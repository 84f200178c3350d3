#!/usr/bin/env bash
# check.sh: the base kernel and the patched kernel, same recipe, same QEMU
# setup; per-suite results side by side. Exit non-zero on any failure of the
# patched kernel that the base kernel did not have in the same run (a case
# failing on both is listed, not counted against the series), on any kernel
# problem of the patched kernel, and on a test that passes on base only.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start=$(date +%s)
rc=0
log "check: base kernel"
# Failures of the base kernel are information (the comparison below judges
# the series), unless the base run itself is broken: no summary, a truncated
# log or a kernel problem make the comparison meaningless.
if ! bash "$ROOT/scripts/test-kernel.sh" base; then
	if python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))["suites"]; sys.exit(1 if "run" in s or "kernel" in s else 0)' \
		"$RESULTS/base/summary.json" 2>/dev/null; then
		log "check: the base kernel fails some tests (results/base/summary.txt); comparing"
	else
		rc=1
		log "check: the base kernel run is broken (results/base); no comparison possible"
	fi
fi
log "check: patched kernel"
bash "$ROOT/scripts/test-kernel.sh" series || rc=1
bash "$ROOT/scripts/tests/test-errors.sh" --kernel "$BUILD/base" || rc=1
python3 "$ROOT/scripts/ktap.py" --compare "$RESULTS/base/summary.json" "$RESULTS/series/summary.json" \
	--known "$ROOT/scripts/guest/known-failures.txt" || rc=1
log "check: done in $(( $(date +%s) - start ))s"
exit $rc
