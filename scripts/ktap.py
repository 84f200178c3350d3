#!/usr/bin/env python3
"""Parse a QEMU test-run log into per-suite pass/fail/skip counts.

Accepted input (one or more files, concatenated):

* KUnit output (KTAP v1) printed by the kernel, possibly with printk
  timestamps ("[    1.234567] ") and interleaved kernel messages. Suites are
  the subtests of the top-level plan; a suite's cases are counted at the
  leaves: a parameterised case counts each parameter, not the parent.
* kselftest output framed by the guest init:
      ===KSELFTEST-BEGIN name===
      TAP version 13 ... ok N / not ok N ... (# SKIP, # TODO, Bail out!)
      ===KSELFTEST-END name rc=RC===
  RC is the binary's exit code: 0 pass, 4 skip (KSFT_SKIP), 124 killed by
  the guest's time limit, anything else a failure.
* ===RUN-END=== at the end of a complete run. Without it the log is
  truncated (hang, crash) and that is a failure.
* Kernel problems anywhere (panic, oops, BUG:, WARNING:, KASAN, lockups,
  ...), matched at the start of a kernel message only, so a test's own
  text mentioning "BUG:" does not count. Each is a failure of the
  pseudo-suite "kernel".

Nothing is decided by searching for a word: result lines are parsed with
anchored patterns ("ok" is a prefix of nothing that "not ok" matches).

Exit status: 0 when nothing failed and something passed, 1 when anything
failed, 2 when the log holds no result at all.
"""
import argparse
import json
import re
import sys

TS = re.compile(r"^\[\s*\d+\.\d+\]\s?")
RESULT = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$")
PLAN = re.compile(r"^1\.\.(\d+)")
SUBTEST = re.compile(r"^# Subtest: (.+)$")
BEGIN = re.compile(r"^===KSELFTEST-BEGIN (.+?)===$")
END = re.compile(r"^===KSELFTEST-END (.+?) rc=(-?\d+)===$")
RUN_END = "===RUN-END==="
PROBLEMS = re.compile(
    r"^(Kernel panic - not syncing|BUG: |kernel BUG at|Oops: |WARNING: (CPU:|at )|"
    r"general protection fault|KASAN: |UBSAN: |refcount_t: |list_add corruption|"
    r"list_del corruption|INFO: task .* blocked for more than|"
    r"watchdog: BUG: soft lockup|rcu: INFO: rcu_(sched|preempt) detected stalls)")


class Suite:
    def __init__(self, name):
        self.name = name
        self.passed, self.failed, self.skipped = [], [], []

    def add(self, kind, case):
        {"pass": self.passed, "fail": self.failed, "skip": self.skipped}[kind].append(case)

    def as_dict(self):
        return {"pass": len(self.passed), "fail": len(self.failed), "skip": len(self.skipped),
                "passed_cases": self.passed, "failed_cases": self.failed,
                "skipped_cases": self.skipped}


class Result:
    def __init__(self):
        self.suites = {}
        self.problems = []
        self.empty = True

    def suite(self, name):
        return self.suites.setdefault(name, Suite(name))

    def totals(self):
        t = {"pass": 0, "fail": 0, "skip": 0}
        for s in self.suites.values():
            t["pass"] += len(s.passed)
            t["fail"] += len(s.failed)
            t["skip"] += len(s.skipped)
        return t

    def as_dict(self):
        return {"suites": {n: s.as_dict() for n, s in sorted(self.suites.items())},
                "totals": self.totals(), "problems": self.problems}


def classify(status, directive):
    d = (directive or "").strip().upper()
    if d.startswith("SKIP") or d.startswith("TODO") or d.startswith("XFAIL"):
        return "skip"
    return "pass" if status == "ok" else "fail"


def parse_tap(lines):
    """Parse one TAP/KTAP stream (a kselftest binary, without indentation).
    Returns (results [(kind, name)], plan or None, bailed out reason)."""
    results, plan, bail = [], None, None
    for line in lines:
        line = line.strip()
        m = PLAN.match(line)
        if m and plan is None:
            plan = int(m.group(1))
            continue
        if line.startswith("Bail out!"):
            bail = line[len("Bail out!"):].strip() or "bail out"
            continue
        m = RESULT.match(line)
        if m:
            name = m.group(3) or ("case %s" % m.group(2))
            results.append((classify(m.group(1), m.group(4)), name))
    return results, plan, bail


def parse_kunit(lines, res):
    """KUnit: a top-level 'KTAP version 1' then suites indented by 4."""
    def depth(line):
        return (len(line) - len(line.lstrip(" "))) // 4

    stack = []          # open subtests: [name, depth, plan, results list]
    top_plan = None
    for raw in lines:
        text = raw.rstrip()
        if not text.strip():
            continue
        d, line = depth(text), text.strip()
        m = SUBTEST.match(line)
        if m:
            while stack and stack[-1][1] >= d:
                stack.pop()
            stack.append([m.group(1), d, None, []])
            continue
        m = PLAN.match(line)
        if m:
            if stack and stack[-1][1] == d and stack[-1][2] is None:
                stack[-1][2] = int(m.group(1))
            elif d == 0:
                top_plan = int(m.group(1))
            continue
        m = RESULT.match(line)
        if not m:
            continue
        kind, name = classify(m.group(1), m.group(4)), m.group(3)
        # A result closes the subtest whose body is one level deeper.
        if stack and stack[-1][1] == d + 1:
            closed = stack.pop()
            cases = closed[3]
            if stack:       # a parameterised case: count its leaves
                stack[-1][3].extend(cases or [(kind, name)])
            else:           # a suite
                suite = res.suite("kunit:" + closed[0])
                for k, c in cases:
                    suite.add(k, c)
                missing = (closed[2] or 0) - len(cases)
                for i in range(missing):
                    suite.add("fail", "case %d: missing (truncated)" % (len(cases) + i + 1))
                if not cases:
                    suite.add(kind, "(suite) " + name)
            continue
        if stack and stack[-1][1] == d:
            stack[-1][3].append((kind, name))
    # Suites still open: the log stopped inside them.
    while stack:
        closed = stack.pop()
        if stack:
            stack[-1][3].extend(closed[3])
            continue
        suite = res.suite("kunit:" + closed[0])
        for k, c in closed[3]:
            suite.add(k, c)
        suite.add("fail", "truncated: suite did not finish")
    return top_plan


def parse(text):
    res = Result()
    lines = [TS.sub("", l.rstrip("\r\n")) for l in text.splitlines()]
    kunit, block, name = [], None, None
    in_kunit = False
    seen_end = False
    for line in lines:
        m = BEGIN.match(line)
        if m:
            if block is not None:
                finish_block(res, name, block, None)
            block, name = [], m.group(1)
            continue
        m = END.match(line)
        if m and block is not None:
            finish_block(res, name, block, int(m.group(2)))
            block = None
            continue
        if line == RUN_END:
            seen_end = True
            continue
        if block is not None:
            block.append(line)
            continue
        if PROBLEMS.match(line):
            res.problems.append(line.strip())
            continue
        if line.strip() == "KTAP version 1" and not line.startswith(" "):
            in_kunit = True
        if in_kunit:
            kunit.append(line)
    if block is not None:
        finish_block(res, name, block, None)
    if kunit:
        parse_kunit(kunit, res)
    if res.problems:
        k = res.suite("kernel")
        for p in dict.fromkeys(res.problems):
            k.add("fail", p)
    res.empty = not res.suites
    if not seen_end:
        res.suite("run").add("fail", "log truncated (no %s)" % RUN_END)
    return res


def finish_block(res, name, block, rc):
    suite = res.suite("kselftest:" + name)
    body = []
    for line in block:
        if PROBLEMS.match(line):
            res.problems.append(line.strip())
        else:
            body.append(line)
    results, plan, bail = parse_tap(body)
    for kind, case in results:
        suite.add(kind, case)
    if plan is not None and len(results) < plan:
        for i in range(len(results), plan):
            suite.add("fail", "case %d: missing (plan 1..%d)" % (i + 1, plan))
    if bail:
        suite.add("fail", "bail out: " + bail)
    if rc is None:
        suite.add("fail", "truncated: no end of %s" % name)
    elif rc == 124:
        suite.add("fail", "timeout")
    elif rc == 4 and not results:
        suite.add("skip", "whole binary skipped (rc=4)")
    elif rc not in (0, 4) and not suite.failed:
        suite.add("fail", "exit code %d" % rc)
    elif rc == 0 and not results and plan is None:
        suite.add("fail", "no results printed")


def load_known(path):
    known = set()
    if not path:
        return known
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                suite, _, case = line.partition(" ")
                known.add((suite, case.strip()))
    return known


def report(res, label=None, out=None):
    out = out or sys.stdout
    w = max([len(n) for n in res.suites] + [10])
    if label:
        print("== %s" % label, file=out)
    print("%-*s %6s %6s %6s" % (w, "suite", "pass", "fail", "skip"), file=out)
    for n, s in sorted(res.suites.items()):
        print("%-*s %6d %6d %6d" % (w, n, len(s.passed), len(s.failed), len(s.skipped)), file=out)
        for c in s.failed[:8]:
            print("    not ok: %s" % c, file=out)
        if len(s.failed) > 8:
            print("    ... and %d more" % (len(s.failed) - 8), file=out)
    t = res.totals()
    print("ktap: %d passed, %d failed, %d skipped" % (t["pass"], t["fail"], t["skip"]), file=out)


def compare(base, series, known=frozenset(), out=None):
    """Side by side; returns the number of regressions: failures of the
    series that are not listed known failures, and cases that pass on base
    but do not pass on the series."""
    out = out or sys.stdout
    names = sorted(set(base["suites"]) | set(series["suites"]))
    w = max([len(n) for n in names] + [10])
    print("%-*s %17s   %17s" % (w, "", "base", "series"), file=out)
    print("%-*s %5s %5s %5s   %5s %5s %5s" % (w, "suite", "pass", "fail", "skip",
                                                "pass", "fail", "skip"), file=out)
    regressions, known_fail = [], []
    for n in names:
        b = base["suites"].get(n, {"pass": 0, "fail": 0, "skip": 0, "failed_cases": [],
                                   "passed_cases": []})
        s = series["suites"].get(n, {"pass": 0, "fail": 0, "skip": 0, "failed_cases": [],
                                     "passed_cases": []})
        print("%-*s %5d %5d %5d   %5d %5d %5d" % (w, n, b["pass"], b["fail"], b["skip"],
                                                  s["pass"], s["fail"], s["skip"]), file=out)
        for c in s["failed_cases"]:
            if (n, c) in known:
                known_fail.append("%s %s" % (n, c))
            else:
                regressions.append("%s: %s fails" % (n, c))
        lost = set(b.get("passed_cases", [])) - set(s.get("passed_cases", []))
        for c in sorted(lost):
            if c not in s["failed_cases"]:
                regressions.append("%s: %s passed on base, not on the series" % (n, c))
    for k in known_fail:
        print("known failure (see known-failures.txt): %s" % k, file=out)
    for r in regressions:
        print("REGRESSION: %s" % r, file=out)
    t = series["totals"]
    print("series: %d known failures, %d regressions"
          % (len(known_fail), len(regressions)), file=out)
    print("check: %d passed, %d failed, %d skipped"
          % (t["pass"], t["fail"] - len(known_fail), t["skip"]), file=out)
    return len(regressions)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("logs", nargs="*")
    ap.add_argument("--json")
    ap.add_argument("--label")
    ap.add_argument("--compare", nargs=2, metavar=("BASE.json", "SERIES.json"))
    ap.add_argument("--known", help="known-failures file (with --compare)")
    a = ap.parse_args(argv)
    if a.compare:
        with open(a.compare[0]) as f:
            base = json.load(f)
        with open(a.compare[1]) as f:
            series = json.load(f)
        return 1 if compare(base, series, load_known(a.known)) else 0
    if not a.logs:
        ap.error("no log given")
    text = ""
    for p in a.logs:
        with open(p, encoding="utf-8", errors="replace") as f:
            text += f.read() + "\n"
    res = parse(text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res.as_dict(), f, indent=1)
    report(res, a.label)
    t = res.totals()
    if res.empty:
        print("ktap.py: error: no test results in %s" % " ".join(a.logs), file=sys.stderr)
        return 2
    return 0 if t["fail"] == 0 and t["pass"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
