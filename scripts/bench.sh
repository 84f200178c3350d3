#!/usr/bin/env bash
# bench.sh: the same THP workload (scripts/guest/thp_bench.c) on the base and
# the patched kernel, in the same QEMU setup; prints medians side by side
# with ratios (patched / base) and keeps everything in results/bench/.
# BENCH_N="256 1024" (THPs per run), BENCH_REPS=7 (runs per boot) and
# BENCH_ROUNDS=3 (boots of each kernel, alternating base and patched, so
# that both see the same host load) can be overridden.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need gcc cpio qemu-system-x86_64 python3
BENCH_N=${BENCH_N:-256 1024}
BENCH_REPS=${BENCH_REPS:-7}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
res=$RESULTS/bench
mkdir -p "$res"

ab_build_kernels
lines=()
for n in $BENCH_N; do
	lines+=("thp_bench $(( 300 + n )) $n $BENCH_REPS")
done
ab_initramfs thp_bench "${lines[@]}"
ab_run thp_bench "$res" "$BENCH_ROUNDS"

python3 - "$res" "$ROOT/scripts" <<'PY' | tee "$res/table.txt"
import statistics, sys
res = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from ab_results import group, load
recs, errors = load(res, "BENCH")
runs = group(recs, by="n")
if errors:
    print("\n".join(errors))
    sys.exit("bench: errors in the guest runs")
metrics = [("pt_pages", "PageTables pages, N THPs mapped"),
           ("vmpte", "VmPTE pages, N THPs mapped"),
           ("fault_us", "first-touch fault per THP (us)"),
           ("fork_us", "fork() with N THPs (us)"),
           ("split_us", "split by partial mprotect (us)"),
           ("split_pt", "page-table pages after N splits")]
ns = sorted({k[0] for k in runs})
if not ns:
    sys.exit("bench: no results")
print("%-38s %10s %10s %8s  %s" % ("median of runs", "base", "patched", "ratio", "runs"))
for n in ns:
    for key, text in metrics:
        b, p = runs.get((n, key, "base"), []), runs.get((n, key, "series"), [])
        if not b or not p:
            sys.exit("bench: missing %s for N=%d" % (key, n))
        mb, mp = statistics.median(b), statistics.median(p)
        ratio = "%.2f" % (mp / mb) if mb else "-"
        print("%-38s %10.1f %10.1f %8s  %d/%d" % ("N=%d %s" % (n, text), mb, mp, ratio, len(b), len(p)))
PY
