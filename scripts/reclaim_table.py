#!/usr/bin/env python3
"""reclaim_table.py RESDIR [SCENARIO...]: one Markdown table of the make
reclaim scenarios found in RESDIR (results/reclaim), base / patched per
cell: medians, or totals for the events where a single one matters, or the
lowest value for the reserve column."""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ab_results import group, load  # noqa: E402

ROWS = [("sharers", "sharers (besides the owner)", "median"),
        ("thps", "THPs mapped", "median"),
        ("pressure_ms", "pressure wall time (ms)", "median"),
        ("pswpout", "pages swapped out", "median"),
        ("thp_split_pmd", "PMD splits", "median"),
        ("pgscan", "pages scanned (kswapd + direct)", "median"),
        ("pgsteal", "pages reclaimed (kswapd + direct)", "median"),
        ("allocstall", "allocation stalls", "median"),
        ("free_above_min_low", "lowest free pages above a zone's min", "min"),
        ("pt_thps_kb", "PageTables before the pressure (kB)", "median"),
        ("pt_after_kb", "PageTables after the pressure (kB)", "median"),
        ("warn_alloc", "page allocation failure reports", "sum"),
        ("oom_kill", "OOM kills", "sum"),
        ("thp_split_pmd_failed", "failed PMD splits", "sum"),
        ("killed", "processes killed", "sum"),
        ("bad", "pages or sharers that read back wrong", "sum"),
        ("finished", "repetitions finished", "sum")]


def derive(r):
    r["pgscan"] = r.get("pgscan_kswapd", 0) + r.get("pgscan_direct", 0)
    r["pgsteal"] = r.get("pgsteal_kswapd", 0) + r.get("pgsteal_direct", 0)
    r["allocstall"] = sum(r.get(k, 0) for k in (
        "allocstall_dma", "allocstall_dma32", "allocstall_normal", "allocstall_movable"))
    r["killed"] = r.get("owner_died", 0) + r.get("sharers_died", 0) + r.get("hog_died", 0)
    r["bad"] = r.get("bad_pages", 0) + r.get("sharers_bad", 0)


def main():
    res = sys.argv[1]
    names = sys.argv[2:] or sorted(d for d in os.listdir(res)
                                   if os.path.isdir(os.path.join(res, d, "series")))
    cols = []
    for name in names:
        try:
            recs, errors = load(os.path.join(res, name), "RECLAIM")
        except OSError:
            continue
        for kind in recs:
            for r in recs[kind]:
                derive(r)
        cols.append((name, group(recs), errors))
    if not cols:
        sys.exit("reclaim_table: no results in %s" % res)
    print("| base / patched | " + " | ".join(n for n, _, _ in cols) + " |")
    print("| --- |" + " ---: |" * len(cols))
    for key, text, how in ROWS:
        f = {"median": statistics.median, "sum": sum, "min": min}[how]
        cells = []
        for _, runs, _ in cols:
            b, p = runs.get((key, "base")), runs.get((key, "series"))
            cells.append("%.0f / %.0f" % (f(b), f(p)) if b and p else "-")
        print("| %s (%s) | %s |" % (text, how, " | ".join(cells)))
    for name, _, errors in cols:
        for e in errors:
            print("%s: %s" % (name, e))


if __name__ == "__main__":
    main()
