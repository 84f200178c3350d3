#!/usr/bin/env bash
# reclaim.sh: swap out THPs that are PMD-mapped by many processes, on the
# base and the patched kernel, in a small guest with a swap device
# (scripts/guest/thp_reclaim.c). Prints a side-by-side table (medians, or
# totals where any single event matters) and keeps everything in
# results/reclaim/. Exit status 1 if a page read back wrong or a run failed.
# RECLAIM_MEM=1G (guest RAM), RECLAIM_SHARERS=128 (processes that map the
# THPs besides their owner), RECLAIM_THP_MB=256, RECLAIM_HOG_MB=1024 (small
# pages touched to create the pressure), RECLAIM_REPS=3 can be overridden.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need gcc cpio qemu-system-x86_64 python3
RECLAIM_MEM=${RECLAIM_MEM:-1G}
RECLAIM_SHARERS=${RECLAIM_SHARERS:-128}
RECLAIM_THP_MB=${RECLAIM_THP_MB:-256}
RECLAIM_HOG_MB=${RECLAIM_HOG_MB:-1024}
RECLAIM_REPS=${RECLAIM_REPS:-3}
res=$RESULTS/reclaim
rm -rf "$res"
mkdir -p "$res"

ab_build_kernels
ab_initramfs thp_reclaim \
	"thp_reclaim $(( 600 * RECLAIM_REPS )) $RECLAIM_SHARERS $RECLAIM_THP_MB $RECLAIM_HOG_MB $RECLAIM_REPS"
MEM=$RECLAIM_MEM SWAP_SIZE=${SWAP_SIZE:-4G} TIMEOUT=$(( 700 * RECLAIM_REPS + 300 )) ab_run thp_reclaim "$res"

python3 - "$res" "$RECLAIM_MEM" "$ROOT/scripts" <<'PY' | tee "$res/table.txt"
import statistics, sys
res, mem = sys.argv[1], sys.argv[2]
sys.path.insert(0, sys.argv[3])
from ab_results import group, load
recs, errors = load(res, "RECLAIM")
runs = group(recs)
if errors:
    print("\n".join(errors))
    sys.exit("reclaim: errors in the guest runs")
if not runs.get(("thps", "base")) or not runs.get(("thps", "series")):
    sys.exit("reclaim: no results")
# (key, text, how): "sum" for events where a single one matters.
rows = [("thps", "THPs mapped by 1 + %d processes" % runs[("sharers", "base")][0], "median"),
        ("pt_thps_kb", "PageTables of the THP processes (kB)", "median"),
        ("hog_ms", "hog wall time (ms)", "median"),
        ("pswpout", "pages swapped out", "median"),
        ("thp_swpout", "THPs swapped out whole", "median"),
        ("thp_swpout_fallback", "THPs split to swap out", "median"),
        ("thp_split_pmd", "PMD splits", "median"),
        ("pgsteal_kswapd", "pages reclaimed by kswapd", "median"),
        ("pgsteal_direct", "pages reclaimed directly", "median"),
        ("pt_peak_kb", "PageTables after the pressure (kB)", "median"),
        ("check_ms", "read-back time (ms)", "median"),
        ("oom_kill", "OOM kills", "sum"),
        ("thp_split_pmd_failed", "failed PMD splits", "sum"),
        ("owner_died", "owner processes killed", "sum"),
        ("sharers_died", "sharer processes killed", "sum"),
        ("hog_died", "hog processes killed", "sum"),
        ("bad_pages", "owner pages read back wrong", "sum"),
        ("sharers_bad", "sharers that read a wrong page", "sum")]
print("guest RAM %s, %d repetitions per kernel" % (mem, len(runs[("thps", "base")])))
print("%-40s %8s %10s %10s" % ("", "", "base", "patched"))
for key, text, how in rows:
    b, p = runs.get((key, "base"), []), runs.get((key, "series"), [])
    f = statistics.median if how == "median" else sum
    print("%-40s %8s %10.0f %10.0f" % (text, how, f(b), f(p)))
bad = sum(runs[("bad_pages", k)][i] + runs[("sharers_bad", k)][i]
          for k in ("base", "series") for i in range(len(runs[("bad_pages", k)])))
worse = [t for k, t, h in rows if h == "sum" and
         sum(runs.get((k, "series"), [0])) > sum(runs.get((k, "base"), [0]))]
print("patched no worse than base: %s" % ("yes" if not worse else "NO (" + ", ".join(worse) + ")"))
if bad:
    sys.exit("reclaim: data read back wrong")
PY
