#!/usr/bin/env bash
# check.sh: the base kernel and the patched kernel, same recipe, same QEMU
# setup; per-suite results side by side. Exit non-zero on any failure of the
# patched kernel that the base kernel did not have in the same run (a case
# failing on both is listed, not counted against the series), on any kernel
# problem of the patched kernel, and on a test that passes on base only.
# A suite known to be flaky (scripts/guest/known-failures.txt) that fails
# anew is run once more, alone; the report shows both runs.
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
# As for base: the comparison judges the tests; a broken run fails here.
if ! bash "$ROOT/scripts/test-kernel.sh" series; then
	python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))["suites"]; sys.exit(1 if "run" in s or "kernel" in s else 0)' \
		"$RESULTS/series/summary.json" 2>/dev/null || rc=1
fi
bash "$ROOT/scripts/tests/test-errors.sh" --kernel "$BUILD/base" || rc=1
known=$ROOT/scripts/guest/known-failures.txt
compare=(python3 "$ROOT/scripts/ktap.py" --compare "$RESULTS/base/summary.json"
	 "$RESULTS/series/summary.json" --known "$known")
# A suite listed in known-failures.txt (flaky under TCG) that fails in
# other ways than listed gets one more run of its own in a new guest; its
# second result counts, and the report lists both.
reruns=()
if ! "${compare[@]}" --rerun-list "$RESULTS/series/rerun.txt" >/dev/null; then
	while read -r name; do
		[ -n "$name" ] || continue
		log "check: $name failed on the patched kernel and is known flaky: running it again"
		r=$RESULTS/series/rerun-$name
		rm -rf "$r"
		bash "$ROOT/scripts/run-qemu.sh" "$BUILD/series" "$r" "testbed.only=$name" || true
		run_summary "$r" "$name (rerun)" || true
		[ -f "$r/summary.json" ] && reruns+=(--rerun "$r/summary.json")
	done < "$RESULTS/series/rerun.txt"
fi
"${compare[@]}" "${reruns[@]}" || rc=1
log "check: done in $(( $(date +%s) - start ))s"
exit $rc
