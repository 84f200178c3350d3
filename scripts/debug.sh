#!/usr/bin/env bash
# debug.sh: the patched kernel with the kernel's debug options, in QEMU.
# DEBUG_PROFILE=full: KASAN, lockdep (PROVE_LOCKING), DEBUG_ATOMIC_SLEEP,
#   kmemleak, PAGE_TABLE_CHECK(_ENFORCED), DEBUG_VM_PGTABLE
#   (scripts/config/debug.config) on the series' own tests
#   (scripts/guest/debug.txt);
# DEBUG_PROFILE=light: the same without KASAN (debug-light.config) on those
#   and the run_vmtests.sh categories where the series is (debug-light.txt);
# DEBUG_PROFILE=both (default): light, then full.
# Both end with a kmemleak scan; any report, kernel problem (lockdep,
# KASAN, WARNING, ...), failed test or unfinished run fails. Prints what the
# profile costs: build time, guest seconds to init, run time.
# Results: results/debug-PROFILE/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need qemu-system-x86_64 python3
profiles=${DEBUG_PROFILE:-both}
[ "$profiles" = both ] && profiles="light full"
src=$(bash "$ROOT/scripts/tree.sh" series)
rc=0
rows=()
for p in $profiles; do
	case $p in
	full)  frags="$ROOT/scripts/config/debug-light.config $ROOT/scripts/config/debug.config"; list=debug.txt;;
	light) frags=$ROOT/scripts/config/debug-light.config; list=debug-light.txt;;
	*) die "DEBUG_PROFILE=$p: full, light or both";;
	esac
	out=$BUILD/series-debug-$p
	res=$RESULTS/debug-$p
	t0=$(date +%s)
	EXTRA_FRAGMENTS=$frags bash "$ROOT/scripts/build-kernel.sh" "$src" "$out"
	TESTS_TXT=$ROOT/scripts/guest/$list bash "$ROOT/scripts/build-initramfs.sh" "$src" "$out"
	build=$(( $(date +%s) - t0 ))
	rm -rf "$res"
	mkdir -p "$res"
	qrc=0
	# pci=noacpi: the PCI interrupt routing from the BIOS's PIRQ table. Under
	# TCG the debug kernel runs ACPI's _PRT method so slowly that ACPICA
	# aborts it (AE_AML_LOOP_TIMEOUT): virtio-blk then gets no interrupt
	# (the test kernel has no PCI_MSI) and the boot hangs in its probe.
	MEM=${MEM:-2G} TIMEOUT=${TIMEOUT:-$(list_timeout "$ROOT/scripts/guest/$list")} bash "$ROOT/scripts/run-qemu.sh" "$out" "$res" pci=noacpi || qrc=$?
	run_summary "$res" "debug $p" | tee "$res/summary.txt" || rc=1
	[ "$qrc" -eq 0 ] || rc=1
	init=$(sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process.*/\1/p' "$res/console.log" | head -1)
	rows+=("$(python3 - "$res/summary.json" "$p" "$build" "${init:-?}" "$(cat "$res/seconds" 2>/dev/null || echo ?)" <<'PY'
import json, re, sys
path, p, build, init, secs = sys.argv[1:]
try:
    s = json.load(open(path))
except (OSError, ValueError):
    s = {"totals": {"pass": 0, "fail": 0, "skip": 0}, "problems": [], "suites": {}}
t = s["totals"]
leaks = "-"
try:
    for line in open(path.replace("summary.json", "run.log"), errors="replace"):
        m = re.match(r"===KMEMLEAK reports=(\d+)===", line)
        if m:
            leaks = m.group(1)
except OSError:
    pass
print("| %s | %s | %s | %s | %d/%d/%d | %d | %s |" % (
    p, build, init, secs, t["pass"], t["fail"], t["skip"], len(s["problems"]), leaks))
PY
)")
done
echo "| profile | build (s) | guest s to init | run (s) | tests pass/fail/skip | kernel problems | kmemleak reports |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit $rc
