#!/usr/bin/env python3
"""Table and verdict of `make soak` (scripts/soak.sh).

Usage: soak_table.py KIND:LEVEL:RESDIR [...]

Each RESDIR holds one boot: summary.json (scripts/ktap.py), run.log and
seconds (scripts/run-qemu.sh). Prints a Markdown table, one row per boot:
time, the run_vmtests.sh categories' binaries passed/failed/skipped (failures
are expected under injection: listed, not judged), injected PMD-split
failures, kernel problems, the stress-ng --verify check, stress-ng's metrics
check, kmemleak reports.
Exit status 1 if any boot has a kernel problem, did not finish (hang, panic),
has a failed soak-start/soak-check/kmemleak-scan case (injection not set up, stress-ng not
finished, a --verify mismatch, a kmemleak report), or injected nothing at a
level above 0; the reasons are printed after the table.
"""
import json
import os
import re
import sys

SOAK = re.compile(r"^===(?:SOAK|KMEMLEAK) (\w+)=(-?\d+)")


def row(kind, level, resdir):
    try:
        with open(os.path.join(resdir, "summary.json")) as f:
            summ = json.load(f)
    except (OSError, ValueError):
        summ = {"suites": {}, "problems": []}
    soak = {}
    try:
        with open(os.path.join(resdir, "run.log"), errors="replace") as f:
            for line in f:
                m = SOAK.match(line.strip())
                if m:
                    soak[m.group(1)] = int(m.group(2))
    except OSError:
        pass
    try:
        with open(os.path.join(resdir, "seconds")) as f:
            secs = f.read().strip()
    except OSError:
        secs = "?"
    suites = summ.get("suites", {})
    tests = [s for n, s in suites.items() if n.startswith("vmtests:") or
             n.startswith("kselftest:") and not n.startswith(("kselftest:soak-", "kselftest:kmemleak"))]
    p, fl, s = (sum(t[k] for t in tests) for k in ("pass", "fail", "skip"))
    why = []
    problems = summ.get("problems", [])
    if problems:
        why += ["kernel problem: " + x for x in problems]
    if "run" in suites or not suites:
        why.append("the run did not finish (hang, panic or time limit)")
    for n, sdict in suites.items():
        if n.startswith(("kselftest:soak-", "kselftest:kmemleak-scan")):
            why += ["%s: %s" % (n.split(":", 1)[1], c) for c in sdict["failed_cases"]]
    injected = soak.get("injected")
    if int(level) > 0 and not injected:
        why.append("no PMD split failure injected at %s %%" % level)
    check = next((v for n, v in suites.items() if n.split("@")[0] == "kselftest:soak-check"), {})
    cases = check.get("passed_cases", []) + check.get("failed_cases", [])
    verify = ("-" if not any("verify" in c for c in cases) else
              "mismatch" if any("verify" in c for c in check.get("failed_cases", [])) else "ok")
    # soak-check's case 4: stress-ng's own bogo-ops bookkeeping; "late
    # count" is its known race (a worker counting after its instance process
    # stopped waiting for it), shown by the trace, and does not fail.
    metrics = ("-" if not any("metrics check" in c for c in cases) else
               "FAIL" if any("metrics check" in c for c in check.get("failed_cases", [])) else
               "late count" if any("late count" in c for c in cases) else "ok")
    cells = [kind, "%s %%" % level, secs, "%d/%d/%d" % (p, fl, s),
             "-" if injected is None else str(injected), str(len(problems)), verify, metrics,
             str(soak["reports"]) if "reports" in soak else "-",
             "yes" if not why else "NO"]
    return cells, ["%s %s %%: %s" % (kind, level, w) for w in why]


def main(argv):
    if not argv:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    head = ["kernel", "fail_pmd_split", "time (s)", "tests pass/fail/skip",
            "injected failures", "kernel problems", "stress-ng --verify",
            "stress-ng metrics", "kmemleak reports", "clean"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    reasons = []
    for arg in argv:
        kind, level, resdir = arg.split(":", 2)
        cells, why = row(kind, level, resdir)
        print("| " + " | ".join(cells) + " |")
        reasons += why
    for r in reasons:
        print("soak: " + r)
    return 1 if reasons else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
