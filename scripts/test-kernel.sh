#!/usr/bin/env bash
# test-kernel.sh series|base: the whole job for one kernel: tree, build,
# initramfs, QEMU run, KTAP summary in results/KIND/ (summary.txt, .json).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kind=${1:?usage: test-kernel.sh series|base}
src=$(bash "$ROOT/scripts/tree.sh" "$kind")
kout=$BUILD/$kind
res=$RESULTS/$kind
bash "$ROOT/scripts/build-kernel.sh" "$src" "$kout"
bash "$ROOT/scripts/build-initramfs.sh" "$src" "$kout"
mkdir -p "$res"
qrc=0
TIMEOUT=${TIMEOUT:-$(list_timeout "${TESTS_TXT:-$ROOT/scripts/guest/tests.txt}")} \
	bash "$ROOT/scripts/run-qemu.sh" "$kout" "$res" || qrc=$?
prc=0
run_summary "$res" "$kind" | tee "$res/summary.txt" || prc=$?
[ "$qrc" -eq 0 ] || exit 1
exit "$prc"
