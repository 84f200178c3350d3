#!/usr/bin/env python3
"""Parse the log of a QEMU test run into per-suite pass/fail/skip counts.

Usage: ktap.py LOG [LOG...] [--json OUT.json] [--label NAME]
       ktap.py --compare BASE.json PATCHED.json [--known FILE]

Input: the LOG files, concatenated. Printk timestamps ("[    1.234567] ",
also with a caller id "[    1.234567][    T1] ") and ANSI colours are
stripped; lines that are not TAP/KTAP (kernel messages, chatter) are ignored.

* KUnit (KTAP v1, by indentation), outside the kselftest blocks: top-level
  "KTAP version 1" + "1..N", one subtest per suite ("    KTAP version 1",
  "    # Subtest: SUITE", "    1..N", "    ok/not ok N CASE"), closed by
  "ok/not ok N SUITE": row "kunit:SUITE". Cases are counted at the leaves: a
  parameterised case (nested one level deeper) counts each parameter, named
  "CASE/PARAM", not itself. A suite cut short: each case of its plan that
  did not report fails as "case K: truncated" (or one "truncated" if none is
  missing). A suite without cases (skipped, init failed) counts its result.
* kselftests, one block per binary, framed by the guest's init:
      ===KSELFTEST-BEGIN NAME===
      TAP version 13 / 1..N / ok N DESC [# SKIP|TODO|XFAIL|XPASS ...] /
      not ok N DESC [# reason] / Bail out! REASON / # diagnostics
      ===KSELFTEST-END NAME rc=RC===
  row "kselftest:NAME" ("vmtests:CATEGORY" for a category of
  run_vmtests.sh: one case per binary it runs). Only unindented results count; a timestamped line
  in a block is a kernel message, not the binary's. RC: 0 pass, 4 skip
  (KSFT_SKIP), 124 killed by the guest's time limit, else a failure. Cases of
  the plan that did not report fail ("case K: missing"; skips if RC is 4).
  Also one failure each, listed before the missing cases: "Bail out! ...",
  no END ("truncated"), RC 124 ("timeout"), RC 137 (SIGKILL before the time
  limit, e.g. the OOM killer), other RC != 0 without a "Bail out!" and with
  cases missing or without a failing case ("exit code RC"). With
  no result at all, RC 0 is one pass and RC 4 one skip ("exit code RC").
* Directives: SKIP, TODO and XFAIL are skips (TODO/XFAIL noted "[TODO]",
  "[XFAIL]" after the name), XPASS a pass; other "# text" keeps ok/not ok.
  A result without a description is named "#N" plus its message.
* Kernel problems anywhere, only at the start of a message (so a test's
  "# expected BUG: none" is none): Kernel panic, BUG:, kernel BUG at, Oops:,
  WARNING: (CPU: / at / FILE:LINE at), general protection fault, KASAN:,
  UBSAN:, refcount_t:, list_add/list_del corruption, hung task, soft/hard
  lockup, RCU stall. Each distinct one (CPU, PID, addresses aside) is a
  failure of the pseudo-suite "kernel".
* "===RUN-END===" ends a complete run; without it the pseudo-suite "run"
  fails: "log truncated (no ===RUN-END===)".

No word is grepped: lines match anchored TAP patterns ("not ok 1 ok" fails).
Totals are leaf cases over all suites. --json writes {"suites": {NAME:
{"pass", "fail", "skip", "passed_cases", "failed_cases", "skipped_cases"}},
"totals": {"pass", "fail", "skip"}, "problems": [kernel problem lines]}.

Exit status: 0 if nothing failed and something passed; 1 if anything failed
(or everything was skipped); 2 if the log holds no test result and no kernel
problem (an error, not a pass), with a one-line message on stderr.
--compare exits 1 if the patched side has a failure not listed in --known,
or a case that passes on base does not pass on the patched side. Cases of a
suite are matched across the two runs by name, then, for the ones left, by
their name with numbers (decimals, percentages, hex) replaced and whitespace
collapsed: some kselftests put measurements in case names ("Extra pages 64
(0.1%)" on one run, "Extra pages 91 (0.2%)" on the next). Cases sharing such
a key are compared as a multiset (a pass with a pass, a failure with a
failure); the real names are printed. --known entries match either way.
"""
import argparse
import json
import re
import sys

TS = re.compile(r"^\[\s*\d+\.\d+\](?:\[\s*[CT]\d+\])? ?")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
VERSION = re.compile(r"^K?TAP version \d+$")
PLAN = re.compile(r"^1\.\.(\d+)\s*(?:#\s*(.*))?$")
SUBTEST = re.compile(r"^# Subtest: (.+)$")
RESULT = re.compile(r"^(ok|not ok) (\d+)(?: -)?(?: ([^#]*?))?\s*(?:#\s*(.*))?$")
DIRECTIVE = re.compile(r"^(SKIP|TODO|XFAIL|XPASS)\b\s*(.*)$", re.I)
BEGIN = re.compile(r"^===KSELFTEST-BEGIN (.+?)===$")
END = re.compile(r"^===KSELFTEST-END (.+?) rc=(-?\d+)===$")
RUN_END = "===RUN-END==="
# What a suite did to thp_split_pmd_failed (the guest init prints it after
# the suite, on kernels that have the counter). Only the suites that inject
# failures may move it; anywhere else a split failed that nobody asked for.
COUNTER = re.compile(r"^===COUNTER (.+?) thp_split_pmd_failed=(-?\d+)===$")
INJECTING = {"split_pmd_fail", "hmm-tests", "vmtests:thp", "vmtests:hmm"}
# make soak's guest/soak-start, once it has made a share of all PMD splits
# fail system-wide: from there on any suite may move the counter.
SYSTEM_WIDE = re.compile(r"^ok \d+ fail_pmd_split at [1-9]\d* %$")
PROBLEM = re.compile(
    r"^(Kernel panic - not syncing|BUG: |kernel BUG at |Oops: |Oops - |"
    r"WARNING: (CPU: |at |\S+:\d+ at )|general protection fault|KASAN: |UBSAN: |"
    r"refcount_t: |list_(add|del) corruption|INFO: task .+ blocked for more than|"
    r"watchdog: (BUG: soft lockup|Watchdog detected hard LOCKUP)|"
    r"(rcu: )?INFO: rcu_\w+ (self-)?detected stall|Unable to handle kernel )")
# Parts of a problem line that change from one occurrence to the next.
VOLATILE = re.compile(r"CPU: \d+ (UID: \d+ )?PID: \d+ |, CPU#\d+: .*$|CPU#\d+|\[[^\]]*\]|"
                      r"\b0x[0-9a-f]+\b|\b[0-9a-f]{8,}\b|(?<=pfn:)[0-9a-f]+|"
                      r"(?<=:)\d+(?= blocked)|\d+s!|\d+ seconds")


class Suite:
    def __init__(self, name):
        self.name = name
        self.passed, self.failed, self.skipped = [], [], []

    def add(self, kind, case):
        {"pass": self.passed, "fail": self.failed, "skip": self.skipped}[kind].append(case)

    def total(self):
        return len(self.passed) + len(self.failed) + len(self.skipped)

    def as_dict(self):
        return {"pass": len(self.passed), "fail": len(self.failed), "skip": len(self.skipped),
                "passed_cases": self.passed, "failed_cases": self.failed,
                "skipped_cases": self.skipped}


class Result:
    """Suites in order of appearance; problems: distinct kernel problems."""
    def __init__(self):
        self.suites, self.problems, self._keys = {}, [], set()

    def suite(self, name):
        return self.suites.setdefault(name, Suite(name))

    def problem(self, line):
        key = VOLATILE.sub("", line)
        if key not in self._keys:
            self._keys.add(key)
            self.problems.append(line)

    @property
    def empty(self):
        """No test result and no kernel problem: nothing to judge."""
        return not self.problems and not any(
            s.total() for n, s in self.suites.items() if n != "run")

    def totals(self):
        return {k: sum(len(getattr(s, a)) for s in self.suites.values())
                for k, a in (("pass", "passed"), ("fail", "failed"), ("skip", "skipped"))}

    def as_dict(self):
        return {"suites": {n: s.as_dict() for n, s in self.suites.items()},
                "totals": self.totals(), "problems": self.problems}


def verdict(m):
    """(kind, case name) of a RESULT match."""
    status, num, desc, diag = m.groups()
    d = DIRECTIVE.match(diag or "")
    word = d.group(1).upper() if d else ""
    name = desc or ("#%s %s" % (num, d.group(2) if d else diag or "")).strip()
    if word in ("TODO", "XFAIL"):
        name += " [%s]" % word
    return ("skip" if word in ("SKIP", "TODO", "XFAIL") else
            "pass" if status == "ok" else "fail"), name


class Node:
    """An open KTAP (sub)test: its indent, name, plan, results seen, leaves."""
    def __init__(self, indent, name=None):
        self.indent, self.name, self.plan, self.n, self.leaves = indent, name, None, 0, []

    def all_leaves(self):
        return self.leaves + [("fail", "case %d: truncated" % i)
                              for i in range(self.n + 1, (self.plan or 0) + 1)]


class KUnit:
    """Nested KTAP, by indentation: stack[0] is the top level, stack[1] a
    suite, deeper nodes parameterised cases."""
    def __init__(self, res):
        self.res, self.stack = res, []

    def feed(self, line):
        indent = len(line) - len(line.lstrip(" "))
        text = line.strip()
        if VERSION.match(text):
            if indent == 0:
                self.unwind()
                self.stack = [Node(0)]
            elif self.stack:
                self.unwind(indent - 1)
                self.stack.append(Node(indent))
            return
        if not self.stack:
            return
        top = self.stack[-1]
        m = SUBTEST.match(text)
        if m:
            if top.indent == indent and top.name is None and len(self.stack) > 1:
                top.name = m.group(1)
            elif indent > top.indent:
                self.stack.append(Node(indent, m.group(1)))
            return
        m = PLAN.match(text)
        if m:
            if top.indent == indent and top.plan is None:
                top.plan = int(m.group(1))
            return
        m = RESULT.match(text)
        if not m:
            return
        kind, name = verdict(m)
        child = None
        while self.stack[-1].indent > indent:
            node = self.stack.pop()
            if self.stack[-1].indent > indent:
                self.abandon(node)
            else:
                child = node
        if self.stack[-1].indent < indent:      # results without a header
            self.stack.append(Node(indent))
        self.close(child, kind, name)

    def close(self, child, kind, name):
        """A result line ends CHILD (None: a plain case) in the top node."""
        leaves = child.all_leaves() if child else []
        nested = bool(leaves)
        if not nested:                          # a plain case, or a suite without any
            leaves = [(kind, name)]
        elif kind == "fail" and all(k != "fail" for k, _ in leaves):
            leaves.append(("fail", "(result) not ok"))     # no failing leaf explains it
        if len(self.stack) > 1:
            self.stack[-1].n += 1
        self.give((child and child.name) or name, leaves, prefix=nested)

    def abandon(self, node):
        """NODE never got its result line (the log stops or moves on)."""
        leaves = node.all_leaves()
        if len(self.stack) == 1 and node.n >= (node.plan or 0):
            leaves.append(("fail", "truncated"))
        self.give(node.name or "(unnamed)", leaves, prefix=node.name is not None)

    def give(self, name, leaves, prefix):
        """Leaves of a finished node: a suite's, or added to the open parent
        (a parameterised case's named NAME/PARAM)."""
        if len(self.stack) == 1:
            suite = self.res.suite("kunit:" + name)
            for k, c in leaves:
                suite.add(k, c)
        else:
            self.stack[-1].leaves += [(k, name + "/" + c if prefix else c) for k, c in leaves]

    def unwind(self, indent=0):
        """Abandon the open nodes deeper than INDENT."""
        while len(self.stack) > 1 and self.stack[-1].indent > indent:
            self.abandon(self.stack.pop())


RUNNING = re.compile(r"^# running (?:bash )?\./?(.+)$")


def block_cases(lines, rc, vmtests=None):
    """[(kind, case)] of one block: see finish_block."""
    tmp = Result()
    finish_block(tmp, "x", lines, rc, vmtests)
    got = tmp.suites["kselftest:x"]
    return ([("pass", c) for c in got.passed] + [("fail", c) for c in got.failed] +
            [("skip", c) for c in got.skipped])


def finish_vmtests(res, name, lines, rc):
    """One run_vmtests.sh category. Its own TAP has one result per binary
    (judged as a kselftest block: time limit, truncation, cases of its plan
    it never printed); each binary's output, between "# running ./BINARY
    ARGS" and that result, is "# "-prefixed. A binary with TAP of its own
    gives its cases instead of its one result, named "BINARY ARGS: CASE" and
    judged as a kselftest block whose exit code is the one run_vmtests.sh
    reports (ok: 0, SKIP: 4, "# exit=N": N)."""
    top, nested = [], {}
    binary, inner = None, []
    for line in lines:
        m = RUNNING.match(line)
        if m:
            binary, inner = m.group(1), []
            continue
        m = RESULT.match(line) if binary is not None else None
        if m:
            kind, case = verdict(m)
            e = re.search(r"\bexit=(-?\d+)", m.group(4) or "")
            brc = 4 if kind == "skip" else 0 if kind == "pass" else int(e.group(1)) if e else 1
            if any(RESULT.match(x) or PLAN.match(x) for x in inner):
                nested.setdefault(case, []).append(
                    [(k, "%s: %s" % (case, c)) for k, c in block_cases(inner, brc)])
            top.append(line)
            binary, inner = None, []
        elif binary is not None and line.startswith("# "):
            inner.append(line[2:])
        elif binary is None:
            top.append(line)
    # run_vmtests.sh counts a test it skips without running it (khugepaged
    # all:file without XFS: "# [SKIP] ./khugepaged all:file") in its plan
    # but prints no result for it: that many missing cases are skips.
    uncounted = sum(1 for x in top if re.match(r"^# \[SKIP\] \./", x))
    cases = []
    if rc is not None and rc not in (124, 137):
        plan = next((int(m.group(1)) for m in map(PLAN.match, top) if m), None)
        if plan is None:
            cases.append(("fail", "no plan: run_vmtests.sh stopped before its end"))
        elif plan == 0:
            cases.append(("fail", "no test ran (unknown category?)"))
    for kind, case in block_cases(top, rc, vmtests=uncounted):
        cases += nested[case].pop(0) if nested.get(case) else [(kind, case)]
    if binary is not None:              # cut short (time limit) in this binary
        cases += [(k, "%s: %s" % (binary, c)) for k, c in block_cases(inner, None)]
    suite = res.suite(name)
    for kind, case in cases:
        suite.add(kind, case)


def finish_block(res, name, lines, rc, vmtests=None):
    """One kselftest binary: its TAP lines and exit code (None: no END);
    VMTESTS (not None): the TAP of run_vmtests.sh itself, which leaves that
    many cases of its plan without a result (skipped, not run)."""
    if name.startswith("vmtests:"):
        return finish_vmtests(res, name, lines, rc)
    results, plan, reason, bail = [], None, None, None
    for line in lines:                  # indented results are nested ones: not matched
        m = PLAN.match(line)
        if m and plan is None:
            plan, reason = int(m.group(1)), m.group(2)
        elif line.startswith("Bail out!"):
            bail = bail or line
        else:
            m = RESULT.match(line)
            if m:
                results.append(verdict(m))
    # Why the binary stopped comes first, so that it is shown before the
    # list of cases it never reached.
    skipped_ok = vmtests if vmtests and rc is not None and rc not in (124, 137) else 0
    why = []
    if bail:
        why.append(("fail", bail))
    if rc is None:
        why.append(("fail", "truncated"))
    elif rc == 124:
        why.append(("fail", "timeout"))
    elif rc == 137:
        why.append(("fail", "killed by SIGKILL before its time limit (OOM?)"))
    elif rc not in (0, 4) and not bail and (plan and len(results) + skipped_ok < plan or
                               all(k != "fail" for k, _ in results)):
        why.append(("fail", "exit code %d" % rc))
    missing = [("skip" if rc == 4 or i <= len(results) + skipped_ok else "fail",
                "case %d: missing (plan 1..%d)" % (i, plan))
               for i in range(len(results) + 1, (plan or 0) + 1)]
    failed = [r for r in results if r[0] == "fail"]
    results = [r for r in results if r[0] != "fail"] + failed + why + missing
    if rc in (0, 4) and not results:        # no result: the exit code's
        d = DIRECTIVE.match(reason or "")    # "1..0 # SKIP why"
        why = (d.group(2) if d else reason) or ""
        case = "exit code %d" % rc + (why and ": " + why)
        results.append(("skip" if rc == 4 or d else "pass", case))
    suite = res.suite(name if name.startswith("vmtests:") else "kselftest:" + name)
    for kind, case in results:
        suite.add(kind, case)


def parse(text):
    """Parse a whole run log; returns a Result."""
    res = Result()
    kunit = KUnit(res)
    block, seen_end = None, False       # block: (name, lines) of the open binary
    system_wide = False                 # failures injected everywhere (make soak)
    for raw in text.splitlines():
        line = ANSI.sub("", raw).rstrip()
        stamped = TS.match(line)
        line = TS.sub("", line)
        if PROBLEM.match(line):
            res.problem(line)
            continue
        marker = line.strip()
        system_wide = system_wide or bool(SYSTEM_WIDE.match(marker))
        c = COUNTER.match(marker)
        if c and not block:
            name, delta = c.group(1), int(c.group(2))
            if delta and name.split("@")[0] not in INJECTING and not system_wide:
                res.suite("counter").add(
                    "fail", "%s: thp_split_pmd_failed moved by %d, with no "
                    "failure injected" % (name, delta))
            continue
        m = BEGIN.match(marker)
        if m or marker == RUN_END or (block and END.match(marker)):
            if block:
                e = END.match(marker)
                finish_block(res, block[0], block[1], int(e.group(2)) if e else None)
            block = (m.group(1), []) if m else None
            seen_end = seen_end or marker == RUN_END
        elif block and not stamped:
            block[1].append(line)
        else:
            kunit.feed(line)
    if block:
        finish_block(res, block[0], block[1], None)
    kunit.unwind()
    for p in res.problems:
        res.suite("kernel").add("fail", p)
    if not seen_end:
        res.suite("run").add("fail", "log truncated (no %s)" % RUN_END)
    return res


def report(res, label=None, out=None, shown=8):
    out = out or sys.stdout
    w = max([len(n) for n in res.suites] + [10])
    if label:
        print("== %s" % label, file=out)
    print("%-*s %6s %6s %6s" % (w, "suite", "pass", "fail", "skip"), file=out)
    for n, s in res.suites.items():
        print("%-*s %6d %6d %6d" % (w, n, len(s.passed), len(s.failed), len(s.skipped)), file=out)
        for c in s.failed[:shown]:
            print("    not ok: %s" % c, file=out)
        if len(s.failed) > shown:
            print("    ... and %d more" % (len(s.failed) - shown), file=out)
    t = res.totals()
    print("ktap: %d passed, %d failed, %d skipped" % (t["pass"], t["fail"], t["skip"]), file=out)


def load_known(path):
    """Known-failures file: "SUITE CASE  # why" per line."""
    if not path:
        return set()
    with open(path, encoding="utf-8") as f:
        rows = (line.split("#", 1)[0].strip().partition(" ") for line in f)
        return {(suite, case.strip()) for suite, _, case in rows if suite}


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def apply_reruns(patched, reruns):
    """PATCHED with the suites of each rerun (a --json output of a second
    guest run of some suites) in place of the first run's. Kernel problems
    and a broken rerun are added, never replaced. Returns (patched, notes)."""
    if not reruns:
        return patched, []
    suites = {n: dict(s) for n, s in patched["suites"].items()}
    notes = []
    for r in reruns:
        for n, s in r["suites"].items():
            if n in ("kernel", "run"):
                old = suites.setdefault(n, {"pass": 0, "fail": 0, "skip": 0, "failed_cases": []})
                old["failed_cases"] = old.get("failed_cases", []) + s.get("failed_cases", [])
                old["fail"] += s["fail"]
                continue
            first = suites.get(n, {"pass": 0, "fail": 0, "skip": 0, "failed_cases": []})
            if not first["fail"]:
                # Not what was rerun (KUnit runs at every boot): keep the
                # first result, but a failure now is a failure.
                if s["fail"]:
                    first = dict(first)
                    first["failed_cases"] = (first.get("failed_cases", []) +
                                             ["(rerun) " + c for c in s.get("failed_cases", [])])
                    first["fail"] += s["fail"]
                    suites[n] = first
                continue
            notes.append("%s: first run %d failed (%s); rerun %d passed, %d failed, %d skipped"
                         % (n, first["fail"], "; ".join(first.get("failed_cases", [])[:2]),
                            s["pass"], s["fail"], s["skip"]))
            suites[n] = s
    totals = {k: sum(s[k] for s in suites.values()) for k in ("pass", "fail", "skip")}
    return dict(patched, suites=suites, totals=totals), notes


def flaky_suites(known):
    """Suites with an entry in the known-failures list: the ones check.sh
    runs a second time when their first run fails."""
    return {suite for suite, _ in known}


# Numbers in a case name that may change from run to run: measurements,
# sizes, counts ("Extra pages 64 (0.1%)", "1,024", "0x7f00").
NUMBER = re.compile(r"\b0x[0-9a-fA-F]+\b|\d+(?:[.,]\d+)*%?")


def case_key(name):
    """NAME with its numbers replaced by "<N>" and whitespace collapsed."""
    return " ".join(NUMBER.sub("<N>", name).split())


def suite_cases(s):
    """[(kind, name)] of a --json suite: passes, failures, skips."""
    return ([("pass", c) for c in s.get("passed_cases", [])] +
            [("fail", c) for c in s.get("failed_cases", [])] +
            [("skip", c) for c in s.get("skipped_cases", [])])


def match_cases(base, patched):
    """Pair the cases of one suite in two runs (lists of (kind, name)): the
    same name first, then the same case_key() among the rest; in each round
    a pass with a pass and a failure with a failure before anything else.
    Returns {patched index: base index}; unpaired cases are missing from the
    other run."""
    pairs, free = {}, list(range(len(base)))
    for key in (lambda c: c, case_key):
        for same_kind in (True, False):
            index = {}
            for i in free:
                index.setdefault((key(base[i][1]), base[i][0] if same_kind else None),
                                 []).append(i)
            for j, (kind, c) in enumerate(patched):
                found = j not in pairs and index.get((key(c), kind if same_kind else None))
                if found:
                    pairs[j] = found.pop(0)
            used = set(pairs.values())
            free = [i for i in free if i not in used]
    return pairs


def compare(base, patched, known=frozenset(), out=None, reruns=(), rerun_list=None):
    """Side-by-side counts of two --json outputs (dicts or file paths).
    Returns the number of regressions: failures of the patched side that are
    neither in KNOWN ((suite, case) pairs; the case may also be given as its
    case_key()) nor failures of base in the same run, and cases passing on
    base but not patched. Cases are paired across the runs by match_cases().
    RERUNS: --json outputs of second runs of some suites of the patched
    kernel, which replace their first results (and are listed). RERUN_LIST:
    a file to write the binaries of the regressed suites that have a known
    failure (flaky: worth a rerun)."""
    out = out or sys.stdout
    base, patched = (d if isinstance(d, dict) else load_json(d) for d in (base, patched))
    patched, reruns = apply_reruns(patched, [d if isinstance(d, dict) else load_json(d)
                                             for d in reruns])
    names = list(base["suites"]) + [n for n in patched["suites"] if n not in base["suites"]]
    w = max([len(n) for n in names] + [10])
    empty = {"pass": 0, "fail": 0, "skip": 0}
    print("%-*s %17s   %17s" % (w, "", "base", "patched"), file=out)
    print("%-*s %5s %5s %5s   %5s %5s %5s" % ((w, "suite") + ("pass", "fail", "skip") * 2),
          file=out)
    known_keys = {(s, case_key(c)) for s, c in known}
    regressions, known_fail, base_fail = [], [], []
    for n in names:
        b, p = base["suites"].get(n, empty), patched["suites"].get(n, empty)
        bad = len(regressions)
        failed = p.get("failed_cases", [])
        bcases, pcases = suite_cases(b), suite_cases(p)
        # A case that fails on base too, in the same run, is not caused by
        # the series (flaky under TCG, or broken already): shown, not a
        # regression. Kernel problems (oops, WARNING) are never excused.
        pairs = match_cases(bcases, pcases) if n not in ("kernel", "run") else {}
        for j, (kind, c) in enumerate(pcases):
            if kind != "fail":
                continue
            if (n, c) in known or (n, case_key(c)) in known_keys:
                known_fail.append("%s %s" % (n, c))
            elif j in pairs and bcases[pairs[j]][0] == "fail":
                base_fail.append("%s %s" % (n, c))
            else:
                regressions.append("%s: %s fails" % (n, c))
        if p["fail"] > len(failed):             # counts without names
            regressions.append("%s: %d failures" % (n, p["fail"] - len(failed)))
        # Passing on base, missing or skipped on patched (a failure is above).
        paired = {i: pcases[j][0] for j, i in pairs.items()}
        lost = [c for i, (kind, c) in enumerate(bcases)
                if kind == "pass" and paired.get(i, "skip") == "skip"]
        regressions += ["%s: %s passed on base, not on patched" % (n, c) for c in sorted(lost)]
        print("%-*s %5d %5d %5d   %5d %5d %5d%s" % (
            w, n, b["pass"], b["fail"], b["skip"], p["pass"], p["fail"], p["skip"],
            "  <<" if len(regressions) > bad else ""), file=out)
    for k in known_fail:
        print("known failure: %s" % k, file=out)
    shown = {}
    for k in base_fail:                 # a few per suite: often a bail-out's tail
        n = k.split(" ", 1)[0]
        shown[n] = shown.get(n, 0) + 1
        if shown[n] <= 3:
            print("fails on base too: %s" % k, file=out)
    for n, c in shown.items():
        if c > 3:
            print("fails on base too: %s: ... and %d more" % (n, c - 3), file=out)
    for r in reruns:
        print("rerun: %s" % r, file=out)
    for r in regressions:
        print("REGRESSION: %s" % r, file=out)
    if rerun_list:
        flaky = flaky_suites(known)
        suites = {r.split(": ")[0] for r in regressions}
        names = sorted(n if n.startswith("vmtests:") else n.split(":", 1)[1] for n in suites
                       if n.startswith(("kselftest:", "vmtests:")) and n in flaky)
        with open(rerun_list, "w", encoding="utf-8") as f:
            f.writelines(n.split("@")[0] + "\n" for n in names)
    t = patched["totals"]
    print("patched: %d known failures, %d also failing on base, %d regressions"
          % (len(known_fail), len(base_fail), len(regressions)), file=out)
    print("check: %d passed, %d failed, %d skipped%s"
          % (t["pass"], t["fail"] - len(known_fail), t["skip"],
             " (%d of the failures also on base)" % len(base_fail) if base_fail else ""),
          file=out)
    return len(regressions)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("logs", nargs="*", metavar="LOG")
    ap.add_argument("--json", metavar="OUT.json")
    ap.add_argument("--label", metavar="NAME")
    ap.add_argument("--compare", nargs=2, metavar=("BASE.json", "PATCHED.json"))
    ap.add_argument("--known", metavar="FILE", help="known failures (with --compare)")
    ap.add_argument("--rerun", metavar="RERUN.json", action="append", default=[],
                    help="second run of some suites of the patched kernel (with --compare)")
    ap.add_argument("--rerun-list", metavar="OUT",
                    help="write the binaries worth a rerun: regressed suites with a known "
                         "failure (with --compare)")
    a = ap.parse_args(argv)
    if not a.compare and not a.logs:
        ap.error("no LOG given")
    try:
        if a.compare:
            return 1 if compare(a.compare[0], a.compare[1], load_known(a.known),
                                reruns=a.rerun, rerun_list=a.rerun_list) else 0
        text = ""
        for p in a.logs:
            with open(p, encoding="utf-8", errors="replace") as f:
                text += f.read() + "\n"
        res = parse(text)
        if a.json:
            with open(a.json, "w", encoding="utf-8") as f:
                json.dump(res.as_dict(), f, indent=1)
    except (OSError, ValueError, KeyError) as e:
        print("ktap.py: error: %s" % e, file=sys.stderr)
        return 2
    report(res, a.label)
    t = res.totals()
    if res.empty:
        print("ktap.py: error: no test results in %s" % " ".join(a.logs), file=sys.stderr)
        return 2
    if t["fail"] == 0 and t["pass"] == 0:
        print("ktap.py: error: no test passed (%d skipped)" % t["skip"], file=sys.stderr)
    return 0 if t["fail"] == 0 and t["pass"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
