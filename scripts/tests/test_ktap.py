"""Tests of scripts/ktap.py against recorded logs in data/.

Run from the top of the test bed: python3 -m unittest discover -s scripts/tests -v
"""
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "ktap.py")
sys.path.insert(0, os.path.join(HERE, ".."))
import ktap  # noqa: E402


def data(name):
    return os.path.join(HERE, "data", name)


def load(name):
    with open(data(name), encoding="utf-8", newline="") as f:
        return f.read()


def counts(res):
    return {n: (len(s.passed), len(s.failed), len(s.skipped)) for n, s in res.suites.items()}


def run_cli(*args):
    """(exit status, stdout, stderr) of ktap.main(args)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = ktap.main(list(args))
    return rc, out.getvalue(), err.getvalue()


# Every sample: exit status, per-suite (pass, fail, skip) in order, totals.
SAMPLES = {
    "pass.log": (0, {
        "kunit:split_huge_pmd": (2, 0, 0), "kunit:mm_folio": (3, 0, 0),
        "kselftest:hmm-tests": (2, 0, 1), "kselftest:mremap_test": (3, 0, 1)}, (10, 0, 2)),
    "failures.log": (1, {
        "kunit:suite_a": (1, 1, 1), "kunit:suite_b": (0, 1, 0),
        "kselftest:hmm-tests": (1, 1, 1), "kselftest:khugepaged": (2, 1, 0),
        "kselftest:mlock2-tests": (2, 1, 0), "kselftest:madv_populate": (1, 4, 0),
        "kselftest:hugetlb-madvise": (1, 0, 1),
        "kselftest:split_huge_page_test": (0, 1, 0)}, (8, 10, 3)),
    "skips.log": (0, {
        "kunit:mm_pgtable": (1, 0, 1), "kunit:mm_numa": (0, 0, 1),
        "kselftest:migration": (0, 0, 3), "kselftest:hugetlb-madvise": (0, 0, 1),
        "kselftest:hmm-tests": (0, 0, 1), "kselftest:uffd-unit-tests": (0, 0, 5),
        "kselftest:cow": (1, 0, 1)}, (2, 0, 13)),
    "truncated_kselftest.log": (1, {
        "kunit:split_huge_pmd": (2, 0, 0), "kselftest:mremap_test": (2, 0, 0),
        "kselftest:hmm-tests": (2, 2, 0), "run": (0, 1, 0)}, (6, 3, 0)),
    "truncated_kunit.log": (1, {
        "kunit:split_huge_pmd": (2, 0, 0), "kunit:folio_split": (3, 3, 0),
        "kernel": (0, 1, 0), "run": (0, 1, 0)}, (5, 5, 0)),
    "oops.log": (1, {
        "kunit:split_huge_pmd": (2, 0, 0), "kselftest:hmm-tests": (3, 1, 0),
        "kernel": (0, 4, 0)}, (5, 5, 0)),
    "timestamps.log": (0, {
        "kunit:split_huge_pmd": (2, 0, 0), "kunit:folio_split_kunit": (1, 0, 0),
        "kselftest:khugepaged": (2, 0, 1)}, (5, 0, 1)),
    "param.log": (1, {"kunit:suite_b": (4, 1, 1), "kunit:suite_c": (0, 1, 2)}, (4, 2, 3)),
    "timeout.log": (1, {
        "kselftest:mremap_dontunmap": (2, 4, 0), "kselftest:hang": (0, 1, 0),
        "kselftest:hugetlb-madvise": (1, 0, 0)}, (3, 5, 0)),
    "bug_in_diag.log": (0, {
        "kunit:split_huge_pmd": (1, 0, 0), "kselftest:hmm-tests": (2, 0, 0)}, (3, 0, 0)),
    "panic_boot.log": (1, {"kernel": (0, 1, 0), "run": (0, 1, 0)}, (0, 2, 0)),
    "noresults.log": (2, {}, (0, 0, 0)),
}



def counter_log(*suites):
    """A run log of kselftest blocks (NAME, TAP_LINES, COUNTER_DELTA or None)."""
    out = ["===RUN-BEGIN 7.3.4==="]
    for name, lines, delta in suites:
        out += ["===KSELFTEST-BEGIN %s===" % name, "TAP version 13", "1..%d" % len(lines)]
        out += lines + ["===KSELFTEST-END %s rc=0===" % name]
        if delta is not None:
            out.append("===COUNTER %s thp_split_pmd_failed=%d===" % (name, delta))
    return "\n".join(out + ["===RUN-END==="]) + "\n"

class Samples(unittest.TestCase):
    def test_counts_and_exit_status(self):
        for name, (status, suites, (p, f, s)) in SAMPLES.items():
            with self.subTest(log=name):
                res = ktap.parse(load(name))
                self.assertEqual(list(counts(res).items()), list(suites.items()))
                self.assertEqual(res.totals(), {"pass": p, "fail": f, "skip": s})
                rc, out, err = run_cli(data(name))
                self.assertEqual(rc, status)
                self.assertEqual(out.splitlines()[-1],
                                 "ktap: %d passed, %d failed, %d skipped" % (p, f, s))
                self.assertEqual(len(err.splitlines()), 1 if status == 2 else 0)

    def test_every_sample_is_checked(self):
        self.assertEqual(sorted(os.listdir(os.path.join(HERE, "data"))), sorted(SAMPLES))

    def test_failures(self):
        res = ktap.parse(load("failures.log"))
        s = res.suites
        self.assertEqual(s["kunit:suite_a"].failed, ["case_two"])
        self.assertEqual(s["kunit:suite_a"].skipped, ["case_three"])
        # suite_init failed: no cases, the suite's own result counts once.
        self.assertEqual(s["kunit:suite_b"].failed, ["suite_b"])
        self.assertEqual(s["kselftest:hmm-tests"].failed, ["hmm.hmm_device_private.migrate"])
        # rc=3 although every line says ok.
        self.assertEqual(s["kselftest:mlock2-tests"].failed, ["exit code 3"])
        self.assertEqual(s["kselftest:mlock2-tests"].passed, ["ok", "mlock2(0)"])
        # "not ok 2 ok" is a failure; the 2 cases never run and the bail-out too.
        self.assertEqual(s["kselftest:madv_populate"].failed, [
            "ok", "Bail out! MADV_POPULATE_READ failed: Cannot allocate memory (12)",
            "case 3: missing (plan 1..4)", "case 4: missing (plan 1..4)"])
        self.assertEqual(s["kselftest:hugetlb-madvise"].skipped,
                         ["hugetlb MADV_REMOVE on shared mapping [TODO]"])
        self.assertEqual(s["kselftest:split_huge_page_test"].failed, ["exit code 127"])
        self.assertEqual(res.problems, [])

    def test_skips(self):
        s = ktap.parse(load("skips.log")).suites
        self.assertEqual(s["kunit:mm_numa"].skipped, ["mm_numa"])
        self.assertEqual(s["kselftest:hugetlb-madvise"].skipped,
                         ["exit code 4: Not enough free huge pages to test, exiting!"])
        self.assertEqual(s["kselftest:hmm-tests"].skipped, ["exit code 4"])
        # ksft_exit_skip() after a plan of 5: rc=4, the 4 others are skips.
        self.assertEqual(s["kselftest:uffd-unit-tests"].skipped[:2], [
            "#1 userfaultfd syscall not available in this kernel",
            "case 2: missing (plan 1..5)"])
        self.assertEqual(s["kselftest:cow"].skipped,
                         ["#2 vmsplice() + unmap in child ... with hugetlb (2048 kB) [XFAIL]"])
        self.assertNotIn("run", s)

    def test_truncated(self):
        s = ktap.parse(load("truncated_kselftest.log")).suites
        self.assertEqual(s["kselftest:hmm-tests"].failed,
                         ["truncated", "case 3: missing (plan 1..3)"])
        self.assertEqual(s["run"].failed, ["log truncated (no ===RUN-END===)"])
        res = ktap.parse(load("truncated_kunit.log"))
        f = res.suites["kunit:folio_split"]
        self.assertEqual(f.passed, ["split_anon_pmd", "split_to_order/order 0",
                                    "split_to_order/order 4"])
        self.assertEqual(f.failed, ["case 2: truncated", "case 3: truncated",
                                    "case 4: truncated"])
        # The stall is reported twice: one problem.
        self.assertEqual(res.problems, ["rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"])

    def test_failed_split_counter(self):
        log = counter_log(("split_pmd_fail", ["ok 1 a"], 5), ("cow", ["ok 1 b"], 2),
                          ("khugepaged@x", ["ok 1 c"], 0))
        s = ktap.parse(log).suites
        self.assertEqual(s["counter"].failed, [
            "cow: thp_split_pmd_failed moved by 2, with no failure injected"])
        self.assertEqual(s["kselftest:cow"].passed, ["b"])

    def test_failed_split_counter_in_a_soak(self):
        # Once make soak injects failures system-wide, any suite may move it.
        log = counter_log(("cow", ["ok 1 b"], 1),
                          ("soak-start@6", ["ok 1 fail_pmd_split at 10 %",
                                            "ok 2 stress-ng started"], None),
                          ("ksm", ["ok 1 c"], 2))
        s = ktap.parse(log).suites
        self.assertEqual(s["counter"].failed, [
            "cow: thp_split_pmd_failed moved by 1, with no failure injected"])

    def test_suite_cut_after_its_last_case(self):
        res = ktap.parse("KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: s\n"
                         "    1..1\n    ok 1 a\n")
        self.assertEqual(res.suites["kunit:s"].failed, ["truncated"])
        self.assertEqual(res.suites["kunit:s"].passed, ["a"])

    def test_oops(self):
        res = ktap.parse(load("oops.log"))
        self.assertEqual(res.problems, [
            "WARNING: mm/huge_memory.c:3012 at __split_huge_pmd_locked+0x6f1/0x7d0, "
            "CPU#1: hmm-tests/93",
            "WARNING: CPU: 2 PID: 97 at mm/migrate.c:1234 migrate_folio_unmap+0x2a/0x3b0",
            "BUG: kernel NULL pointer dereference, address: 0000000000000008",
            "Oops: Oops: 0000 [#1] SMP NOPTI"])
        self.assertEqual(res.suites["kernel"].failed, res.problems)
        rc, out, _ = run_cli(data("oops.log"))
        self.assertIn("    not ok: Oops: Oops: 0000 [#1] SMP NOPTI", out.splitlines())

    def test_timestamps_and_interleaving(self):
        text = load("timestamps.log")
        self.assertIn("\r\n", text)
        s = ktap.parse(text).suites
        # The KUnit module loaded during the block is the kernel's, not khugepaged's.
        self.assertEqual(s["kunit:folio_split_kunit"].passed, ["split_order_one"])
        self.assertEqual(s["kselftest:khugepaged"].passed,
                         ["allocate on fault and split", "collapse_full"])
        # not ok + SKIP is a skip (KTAP).
        self.assertEqual(s["kselftest:khugepaged"].skipped, ["collapse_empty"])

    def test_parameterised_leaves(self):
        s = ktap.parse(load("param.log")).suites
        self.assertEqual(s["kunit:suite_b"].passed, [
            "param_case/param one", "param_case/param two", "split_to_order/order 0",
            "plain_case"])
        self.assertEqual(s["kunit:suite_b"].failed, ["split_to_order/order 4"])
        self.assertEqual(s["kunit:suite_b"].skipped, ["split_to_order/order 18"])
        self.assertEqual(s["kunit:suite_c"].failed, ["failing_init"])
        self.assertEqual(s["kunit:suite_c"].skipped, ["all_skipped/param-1", "all_skipped/param-2"])

    def test_brief_example(self):
        text = """KTAP version 1
1..2
    KTAP version 1
    # Subtest: suite_a
    # module: foo
    1..3
    ok 1 case_one
    not ok 2 case_two
    ok 3 case_three # SKIP not supported
    # suite_a: pass:1 fail:1 skip:1 total:3
    # Totals: pass:1 fail:1 skip:1 total:3
not ok 1 suite_a
    KTAP version 1
    # Subtest: suite_b
    1..1
        KTAP version 1
        # Subtest: param_case
        ok 1 param one
        ok 2 param two
    # param_case: pass:2 fail:0 skip:0 total:2
    ok 1 param_case
ok 2 suite_b
===RUN-END===
"""
        res = ktap.parse(text)
        self.assertEqual(counts(res), {"kunit:suite_a": (1, 1, 1), "kunit:suite_b": (2, 0, 0)})

    def test_failing_parent_without_failing_leaf(self):
        res = ktap.parse("KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: s\n"
                         "    1..1\n        KTAP version 1\n        # Subtest: p\n"
                         "        ok 1 x\n    not ok 1 p\nnot ok 1 s\n===RUN-END===\n")
        self.assertEqual(res.suites["kunit:s"].passed, ["p/x"])
        self.assertEqual(res.suites["kunit:s"].failed, ["p/(result) not ok"])
        # A parameterised case that generated no parameter counts itself.
        res = ktap.parse("KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: s\n"
                         "    1..1\n        KTAP version 1\n        # Subtest: p\n"
                         "    ok 1 p # SKIP no parameter\nok 1 s\n===RUN-END===\n")
        self.assertEqual(res.suites["kunit:s"].skipped, ["p"])

    def test_failing_suite_without_failing_case(self):
        res = ktap.parse("KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: s\n"
                         "    1..1\n    ok 1 a\nnot ok 1 s\n===RUN-END===\n")
        self.assertEqual(counts(res), {"kunit:s": (1, 1, 0)})
        self.assertEqual(res.suites["kunit:s"].failed, ["(result) not ok"])

    def test_older_kunit_layouts(self):
        # 5.x: TAP version 14, "# Subtest:" without a nested version line,
        # "ok N - name"; parameters without a header of their own.
        res = ktap.parse("TAP version 14\n1..1\n    # Subtest: s\n    1..2\n    ok 1 - a\n"
                         "        ok 1 - p1\n        not ok 2 - p2\n    not ok 2 - b\n"
                         "not ok 1 - s\n===RUN-END===\n")
        self.assertEqual(res.suites["kunit:s"].passed, ["a", "b/p1"])
        self.assertEqual(res.suites["kunit:s"].failed, ["b/p2"])
        res = ktap.parse("TAP version 14\n1..1\n    # Subtest: s\n    1..2\n    ok 1 - a\n")
        self.assertEqual(res.suites["kunit:s"].failed, ["case 2: truncated"])

    def test_timeout(self):
        s = ktap.parse(load("timeout.log")).suites
        self.assertEqual(s["kselftest:mremap_dontunmap"].failed, [
            "timeout", "case 3: missing (plan 1..5)", "case 4: missing (plan 1..5)",
            "case 5: missing (plan 1..5)"])
        self.assertEqual(s["kselftest:hang"].failed, ["timeout"])
        # scripts/tests/test-errors.sh greps this line.
        self.assertIn("    not ok: timeout", run_cli(data("timeout.log"))[1].splitlines())

    def test_bug_in_diagnostic_is_no_problem(self):
        res = ktap.parse(load("bug_in_diag.log"))
        self.assertEqual(res.problems, [])
        self.assertNotIn("kernel", res.suites)
        self.assertEqual(res.suites["kselftest:hmm-tests"].passed[1],
                         "hmm.hmm_device_private.anon_read")

    def test_no_results(self):
        rc, out, err = run_cli(data("noresults.log"))
        self.assertEqual(rc, 2)
        self.assertEqual(err, "ktap.py: error: no test results in %s\n" % data("noresults.log"))
        # Not even the end marker: still no result (2), not just a failure.
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "boot.log")
            with open(p, "w") as f:
                f.write("[    2.500100] Run /init as init process\n")
            self.assertEqual(run_cli(p)[0], 2)

    def test_only_skips_is_not_a_pass(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "skip.log")
            with open(p, "w") as f:
                f.write("===KSELFTEST-BEGIN hmm-tests===\n===KSELFTEST-END hmm-tests rc=4===\n"
                        "===RUN-END===\n")
            rc, out, err = run_cli(p)
        self.assertEqual(rc, 1)
        self.assertEqual(out.splitlines()[-1], "ktap: 0 passed, 0 failed, 1 skipped")
        self.assertEqual(err, "ktap.py: error: no test passed (1 skipped)\n")


class Rules(unittest.TestCase):
    def kind(self, line):
        m = ktap.RESULT.match(line)
        return m and ktap.verdict(m)

    def test_result_lines(self):
        self.assertEqual(self.kind("ok 1 name"), ("pass", "name"))
        self.assertEqual(self.kind("not ok 1 ok"), ("fail", "ok"))
        self.assertEqual(self.kind("ok 2 - name"), ("pass", "name"))
        self.assertEqual(self.kind("ok 3 name # skip lower case"), ("skip", "name"))
        self.assertEqual(self.kind("not ok 4 name # SKIP"), ("skip", "name"))
        self.assertEqual(self.kind("not ok 5 name # TIMEOUT 30 seconds"), ("fail", "name"))
        self.assertEqual(self.kind("not ok 6 name #  reason"), ("fail", "name"))
        self.assertEqual(self.kind("ok 7 name # rcode=0"), ("pass", "name"))
        self.assertEqual(self.kind("ok 8 # XPASS unexpected"), ("pass", "#8 unexpected"))
        self.assertEqual(self.kind("not ok 9 # error no memory"), ("fail", "#9 error no memory"))
        self.assertEqual(self.kind("ok 10"), ("pass", "#10"))
        self.assertEqual(self.kind("not ok 11 x # TODO later"), ("skip", "x [TODO]"))
        for line in ("okay 1 x", "ok", "ok x", "not okay 1", "# ok 1 x", "nok 1 x", "ok1 x"):
            self.assertIsNone(self.kind(line), line)

    def test_problems(self):
        for line in ("Kernel panic - not syncing: Fatal exception",
                     "BUG: Bad page state in process hmm-tests  pfn:10a2b3",
                     "BUG: sleeping function called from invalid context at mm/gup.c:1234",
                     "BUG: KASAN: slab-use-after-free in folio_split+0x1/0x2",
                     "kernel BUG at mm/huge_memory.c:2345!",
                     "Oops: general protection fault, probably for non-canonical address",
                     "WARNING: CPU: 1 PID: 93 at mm/huge_memory.c:3500 f+0x1a/0x2b0",
                     "WARNING: at f+0x1a/0x2b0, CPU#1: hmm-tests/93",
                     "WARNING: mm/huge_memory.c:3012 at f+0x6f1/0x7d0, CPU#1: hmm-tests/93",
                     "general protection fault, probably for non-canonical address 0xdead: 0000",
                     "KASAN: null-ptr-deref in range [0x0-0x7]",
                     "UBSAN: array-index-out-of-bounds in mm/x.c:12:3",
                     "refcount_t: underflow; use-after-free.",
                     "list_add corruption. prev->next should be next (ffff888)",
                     "INFO: task khugepaged:45 blocked for more than 122 seconds.",
                     "watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [migration:123]",
                     "rcu: INFO: rcu_sched detected stalls on CPUs/tasks:",
                     "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"):
            res = ktap.parse("[   12.345678] %s\n===RUN-END===\n" % line)
            self.assertEqual(res.problems, [line])
        for line in ("# expected BUG: none", "    BUG: indented, a KUnit message",
                     "hmm: no BUG: seen", "ok 1 no BUG: here", "WARNING: unsafe option",
                     "# WARNING: CPU: 1 in a diagnostic"):
            self.assertEqual(ktap.parse("[    1.000000] %s\n%s\n" % (line, line)).problems,
                             [], line)

    def test_same_problem_twice_is_one(self):
        res = ktap.parse("WARNING: CPU: 1 PID: 93 at mm/x.c:10 f+0x1/0x2\n"
                         "WARNING: CPU: 3 PID: 95 at mm/x.c:10 f+0x1/0x2\n"
                         "WARNING: CPU: 3 PID: 95 at mm/x.c:20 g+0x1/0x2\n"
                         "INFO: task a:1 blocked for more than 122 seconds.\n"
                         "INFO: task a:2 blocked for more than 245 seconds.\n")
        self.assertEqual(len(res.suites["kernel"].failed), 3)

    def test_exit_codes_of_binaries(self):
        def one(body, rc):
            res = ktap.parse("===KSELFTEST-BEGIN t===\n%s===KSELFTEST-END t rc=%s===\n"
                             "===RUN-END===\n" % (body, rc))
            s = res.suites["kselftest:t"]
            return s.passed, s.failed, s.skipped
        self.assertEqual(one("", 0), (["exit code 0"], [], []))
        self.assertEqual(one("Segmentation fault\n", 139), ([], ["exit code 139"], []))
        self.assertEqual(one("1..1\nnot ok 1 a\n", 1), ([], ["a"], []))
        self.assertEqual(one("1..1\nok 1 a\n", 124), (["a"], ["timeout"], []))
        self.assertEqual(one("1..2\nok 1 a\n", 0), (["a"], ["case 2: missing (plan 1..2)"], []))
        # Killed before its time limit (the OOM killer): said, then what it missed.
        self.assertEqual(one("1..2\nok 1 a\n", 137), (["a"], [
            "killed by SIGKILL before its time limit (OOM?)", "case 2: missing (plan 1..2)"], []))
        # Exited early without a Bail out!: the exit code, then what it missed.
        self.assertEqual(one("1..2\nok 1 a\n", 1), (["a"], [
            "exit code 1", "case 2: missing (plan 1..2)"], []))
        self.assertEqual(one("1..0 # SKIP no swap\n", 0), ([], [], ["exit code 0: no swap"]))
        # The first plan counts; indented (nested) results are not the binary's own.
        self.assertEqual(one("1..1\nok 1 a\n1..3\n", 0), (["a"], [], []))
        self.assertEqual(one("1..1\n  ok 1 sub\nok 1 a\n", 0), (["a"], [], []))

    def test_block_without_end(self):
        res = ktap.parse("===KSELFTEST-BEGIN a===\n1..1\nok 1 x\n"
                         "===KSELFTEST-BEGIN b===\nok 1 y\n===KSELFTEST-END b rc=0===\n"
                         "===RUN-END===\n")
        self.assertEqual(counts(res), {"kselftest:a": (1, 1, 0), "kselftest:b": (1, 0, 0)})
        self.assertEqual(res.suites["kselftest:a"].failed, ["truncated"])


class Cli(unittest.TestCase):
    def test_json(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "s.json")
            rc, _, _ = run_cli(data("failures.log"), "--json", out, "--label", "series")
            with open(out) as f:
                doc = json.load(f)
        self.assertEqual(rc, 1)
        self.assertEqual(sorted(doc), ["problems", "suites", "totals"])
        self.assertEqual(doc["totals"], {"pass": 8, "fail": 10, "skip": 3})
        self.assertEqual(doc["problems"], [])
        self.assertEqual(doc["suites"]["kunit:suite_a"], {
            "pass": 1, "fail": 1, "skip": 1, "passed_cases": ["case_one"],
            "failed_cases": ["case_two"], "skipped_cases": ["case_three"]})

    def test_label_and_table(self):
        rc, out, _ = run_cli(data("pass.log"), "--label", "base")
        lines = out.splitlines()
        self.assertEqual(lines[0], "== base")
        self.assertEqual(lines[1].split(), ["suite", "pass", "fail", "skip"])
        self.assertEqual(lines[2].split(), ["kunit:split_huge_pmd", "2", "0", "0"])

    def test_several_logs_are_one_run(self):
        text = load("pass.log")
        cut = text.index("===RUN-BEGIN")
        with tempfile.TemporaryDirectory() as d:
            paths = [os.path.join(d, n) for n in ("console.log", "user.log")]
            for p, part in zip(paths, (text[:cut], text[cut:])):
                with open(p, "w") as f:
                    f.write(part)
            self.assertEqual(run_cli(*paths)[:2], run_cli(data("pass.log"))[:2])

    def test_missing_log(self):
        rc, out, err = run_cli("/nonexistent/run.log")
        self.assertEqual(rc, 2)
        self.assertEqual(len(err.splitlines()), 1)
        self.assertIn("/nonexistent/run.log", err)

    def test_command_line(self):
        p = subprocess.run([sys.executable, SCRIPT, data("pass.log")],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout.splitlines()[-1], "ktap: 10 passed, 0 failed, 2 skipped")
        p = subprocess.run([sys.executable, SCRIPT, data("noresults.log")],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.splitlines()), 1)


class Compare(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def summary(self, log, name):
        path = os.path.join(self.tmp.name, name)
        run_cli(data(log), "--json", path)
        return path

    def test_same_results(self):
        base = self.summary("pass.log", "b.json")
        rc, out, _ = run_cli("--compare", base, self.summary("pass.log", "p.json"))
        self.assertEqual(rc, 0)
        self.assertIn("patched: 0 known failures, 0 also failing on base, 0 regressions", out)
        self.assertEqual(out.splitlines()[2].split(),
                         ["kunit:split_huge_pmd", "2", "0", "0", "2", "0", "0"])
        self.assertEqual(out.splitlines()[-1], "check: 10 passed, 0 failed, 2 skipped")

    def test_lost_pass_and_failure(self):
        base = ktap.parse(load("pass.log")).as_dict()
        patched = json.loads(json.dumps(base))
        s = patched["suites"]["kselftest:hmm-tests"]
        s["passed_cases"].remove("hmm.hmm_device_private.anon_read")
        s["skipped_cases"].append("hmm.hmm_device_private.anon_read")
        s["pass"], s["skip"] = 1, 2
        out = io.StringIO()
        self.assertEqual(ktap.compare(base, patched, out=out), 1)
        self.assertIn("REGRESSION: kselftest:hmm-tests: hmm.hmm_device_private.anon_read "
                      "passed on base, not on patched", out.getvalue())
        # Base fails the same cases: shown, not regressions; but a kernel
        # problem (oops, WARNING) of the patched kernel always is one.
        out = io.StringIO()
        fails = ktap.parse(load("failures.log")).as_dict()
        n_kernel = len(fails["suites"].get("kernel", {}).get("failed_cases", []))
        self.assertEqual(ktap.compare(fails, json.loads(json.dumps(fails)), out=out), n_kernel)
        self.assertIn("fails on base too: ", out.getvalue())
        self.assertIn("of the failures also on base)", out.getvalue().splitlines()[-1])
        # Base passes what patched fails: a regression.
        self.assertGreater(ktap.compare(ktap.parse(load("pass.log")).as_dict(), fails,
                                        out=io.StringIO()), n_kernel)

    def test_known_failures(self):
        base = self.summary("timeout.log", "b.json")
        patched = self.summary("timeout.log", "p.json")
        # On base, everything but the known failure passed.
        with open(base) as f:
            b = json.load(f)
        for name, suite in b["suites"].items():
            if name != "kselftest:hang":
                suite["passed_cases"] += suite["failed_cases"]
                suite["pass"], suite["fail"] = suite["pass"] + suite["fail"], 0
                suite["failed_cases"] = []
        with open(base, "w") as f:
            json.dump(b, f)
        known = os.path.join(self.tmp.name, "known.txt")
        with open(known, "w") as f:
            f.write("# SUITE CASE  # why\nkselftest:hang timeout  # hangs on purpose\n")
        rc, out, _ = run_cli("--compare", base, patched, "--known", known)
        self.assertEqual(rc, 1)             # mremap_dontunmap still fails
        self.assertIn("known failure: kselftest:hang timeout", out.splitlines())
        self.assertIn("patched: 1 known failures, 0 also failing on base, 4 regressions",
                      out.splitlines())
        self.assertEqual(out.splitlines()[-1], "check: 3 passed, 4 failed, 0 skipped")

    def test_rerun_of_flaky_suite(self):
        # Base: mremap_dontunmap passes (cases a and b), hang hangs too.
        rerun = ktap.parse("===KSELFTEST-BEGIN mremap_dontunmap===\n1..2\nok 1 a\nok 2 b\n"
                           "===KSELFTEST-END mremap_dontunmap rc=0===\n===RUN-END===\n").as_dict()
        base = ktap.parse(load("timeout.log")).as_dict()
        base["suites"]["kselftest:mremap_dontunmap"] = rerun["suites"]["kselftest:mremap_dontunmap"]
        base["suites"]["kselftest:hang"]["failed_cases"] = []
        base["suites"]["kselftest:hang"]["fail"] = 0
        patched = ktap.parse(load("timeout.log")).as_dict()
        known = {("kselftest:mremap_dontunmap", "some_other_case")}
        listing = os.path.join(self.tmp.name, "rerun.txt")
        self.assertGreater(ktap.compare(base, patched, known, out=io.StringIO(),
                                        rerun_list=listing), 0)
        with open(listing) as f:             # hang has no known entry: no rerun
            self.assertEqual(f.read(), "mremap_dontunmap\n")
        # Passing on rerun: the second result counts; both are shown.
        patched["suites"]["kselftest:hang"] = base["suites"]["kselftest:hang"]
        out = io.StringIO()
        self.assertEqual(ktap.compare(base, patched, known, out=out, reruns=[rerun]), 0)
        self.assertIn("rerun: kselftest:mremap_dontunmap: first run 4 failed (timeout; case 3: "
                      "missing (plan 1..5)); rerun 2 passed, 0 failed, 0 skipped",
                      out.getvalue().splitlines())
        # Failing again, or a kernel problem during the rerun: regressions.
        again = ktap.parse("===KSELFTEST-BEGIN mremap_dontunmap===\n1..2\nok 1 a\nnot ok 2 b\n"
                           "===KSELFTEST-END mremap_dontunmap rc=1===\n===RUN-END===\n").as_dict()
        self.assertEqual(ktap.compare(base, patched, known, out=io.StringIO(), reruns=[again]), 1)
        oops = ktap.parse("[    1.0] BUG: unable to handle page fault\n" + load("pass.log")).as_dict()
        oops["suites"] = {n: s for n, s in oops["suites"].items() if n == "kernel"}
        self.assertEqual(ktap.compare(base, patched, known, out=io.StringIO(),
                                      reruns=[rerun, oops]), 1)

    def test_run_vmtests_category(self):
        # One row per category, one case per binary; its tests' own TAP is
        # "# "-prefixed by run_vmtests.sh and does not count.
        log = ("===KSELFTEST-BEGIN vmtests:ksm===\nTAP version 13\n# TAP version 13\n"
               "# ok 1 inner case\nok 1 ksm_tests -M -p 10\n# not ok 1 inner\n"
               "not ok 2 ksm_functional_tests # exit=1\nok 3 ksm_tests -U # SKIP\n1..3\n"
               "===KSELFTEST-END vmtests:ksm rc=1===\n===RUN-END===\n")
        res = ktap.parse(log).as_dict()
        self.assertEqual(list(res["suites"]), ["vmtests:ksm"])
        s = res["suites"]["vmtests:ksm"]
        self.assertEqual((s["passed_cases"], s["failed_cases"], s["skipped_cases"]),
                         (["ksm_tests -M -p 10"], ["ksm_functional_tests"], ["ksm_tests -U"]))
        # run_vmtests.sh's plan counts a test it skips without a result
        # line ("# [SKIP] ./X"): that many missing cases are skips; any
        # other missing case, no plan, or an empty category fails.
        skip = log.replace("1..3", "# [SKIP] ./khugepaged all:file\n1..4")
        cut = ktap.parse(skip).as_dict()["suites"]["vmtests:ksm"]
        self.assertEqual((cut["fail"], cut["skip"]), (1, 2))
        lost = ktap.parse(log.replace("1..3", "1..4")).as_dict()["suites"]["vmtests:ksm"]
        self.assertIn("case 4: missing (plan 1..4)", lost["failed_cases"])
        noplan = ktap.parse(log.replace("1..3\n", "")).as_dict()["suites"]["vmtests:ksm"]
        self.assertIn("no plan: run_vmtests.sh stopped before its end", noplan["failed_cases"])
        empty = ktap.parse("===KSELFTEST-BEGIN vmtests:typo===\nTAP version 13\n1..0\n"
                           "===KSELFTEST-END vmtests:typo rc=0===\n===RUN-END===\n").as_dict()
        self.assertEqual(empty["suites"]["vmtests:typo"]["fail"], 1)
        # A known-flaky category that fails otherwise is rerun by its name.
        base = ktap.parse(log.replace("not ok 2", "ok 2")).as_dict()
        listing = os.path.join(self.tmp.name, "rerun.txt")
        self.assertEqual(ktap.compare(base, res, {("vmtests:ksm", "other")}, out=io.StringIO(),
                                      rerun_list=listing), 1)
        with open(listing) as f:
            self.assertEqual(f.read(), "vmtests:ksm\n")

    def test_run_vmtests_nested_cases(self):
        # A binary's own TAP, "# "-prefixed between "# running" and its
        # result, gives its cases; a script without TAP stays one case.
        log = ("===KSELFTEST-BEGIN vmtests:thp===\nTAP version 13\n"
               "# -unnin--./k-\n# running ./khugepaged -s 2\n# TAP version 13\n# 1..2\n"
               "# ok 1 collapse_full\n# # Totals: pass:1\n# not ok 2 collapse_empty\n# [FAIL]\n"
               "not ok 1 khugepaged -s 2 # exit=1\n"
               "# running ./transhuge-stress -d 20\n# 12.3 MiB/s\n# [PASS]\nok 2 transhuge-stress -d 20\n"
               "# running ./split_pmd_fail\n# TAP version 13\n# 1..2\n# ok 1 a\n# ok 2 b\n"
               "# [FAIL]\nnot ok 3 split_pmd_fail # exit=1\n"
               "# running bash ./test_hmm.sh smoke\n# TAP version 13\n# 1..3\n# ok 1 c\n"
               "# ok 2 d # SKIP no device\n# [SKIP]\nok 4 test_hmm.sh smoke # SKIP\n"
               "# running ./folio_split_race_test\n# TAP version 13\n# 1..2\n# ok 1 e\n")
        res = ktap.parse(log + "===KSELFTEST-END vmtests:thp rc=124===\n===RUN-END===\n").as_dict()
        s = res["suites"]["vmtests:thp"]
        self.assertEqual(sorted(s["passed_cases"]), sorted([
            "khugepaged -s 2: collapse_full", "transhuge-stress -d 20", "split_pmd_fail: a",
            "split_pmd_fail: b", "test_hmm.sh smoke: c", "folio_split_race_test: e"]))
        self.assertEqual(s["failed_cases"], ["khugepaged -s 2: collapse_empty", "split_pmd_fail: exit code 1",
                                             "timeout", "folio_split_race_test: truncated",
                                             "folio_split_race_test: case 2: missing (plan 1..2)"])
        self.assertEqual(s["skipped_cases"], ["test_hmm.sh smoke: d", "test_hmm.sh smoke: case 3: missing (plan 1..3)"])

    def test_suite_gone_and_kernel_problem(self):
        base = self.summary("pass.log", "b.json")
        rc, out, _ = run_cli("--compare", base, self.summary("oops.log", "p.json"))
        self.assertEqual(rc, 1)
        self.assertIn("REGRESSION: kunit:mm_folio: folio_nr_pages passed on base, not on patched",
                      out)
        self.assertIn("REGRESSION: kernel: Oops: Oops: 0000 [#1] SMP NOPTI fails", out)

    @staticmethod
    def selftest(name, *cases):
        """--json dict of a run of kselftest NAME: CASES are (ok, name)."""
        lines = ["===KSELFTEST-BEGIN %s===" % name, "TAP version 13", "1..%d" % len(cases)]
        lines += ["%s %d %s" % ("ok" if ok else "not ok", i, c)
                  for i, (ok, c) in enumerate(cases, 1)]
        rc = 0 if all(ok for ok, _ in cases) else 1
        lines += ["===KSELFTEST-END %s rc=%d===" % (name, rc), "===RUN-END==="]
        return ktap.parse("\n".join(lines) + "\n").as_dict()

    def regressions(self, base, patched, known=frozenset()):
        out = io.StringIO()
        n = ktap.compare(base, patched, known, out=out)
        lines = out.getvalue().splitlines()
        found = [l for l in lines if l.startswith("REGRESSION: ")]
        self.assertEqual(n, len(found))
        return found, lines

    PAGEMAP = "transact_test Extra pages %d (%s%%), extra thread faults %d."

    def test_case_key(self):
        self.assertEqual(ktap.case_key(self.PAGEMAP % (64, "0.1", 64)),
                         "transact_test Extra pages <N> (<N>), extra thread faults <N>.")
        self.assertEqual(ktap.case_key(self.PAGEMAP % (64, "0.1", 64)),
                         ktap.case_key(self.PAGEMAP % (91, "0.2", 91)))
        self.assertEqual(ktap.case_key("  a\t 1,024  at 0x7f00 "), "a <N> at <N>")
        self.assertNotEqual(ktap.case_key("mmap 4096"), ktap.case_key("munmap 4096"))

    def test_numbers_in_case_names(self):
        # pagemap_ioctl puts measurements in a case name: a pass on both
        # runs is no regression, although the names differ.
        base = self.selftest("pagemap_ioctl", (True, "a"), (True, self.PAGEMAP % (64, "0.1", 64)))
        patched = self.selftest("pagemap_ioctl", (True, "a"), (True, self.PAGEMAP % (91, "0.2", 91)))
        found, lines = self.regressions(base, patched)
        self.assertEqual(found, [])
        self.assertIn("patched: 0 known failures, 0 also failing on base, 0 regressions", lines)
        # Failing on patched, with other numbers: one regression, its real name.
        patched = self.selftest("pagemap_ioctl", (True, "a"), (False, self.PAGEMAP % (91, "0.2", 91)))
        self.assertEqual(self.regressions(base, patched)[0], [
            "REGRESSION: kselftest:pagemap_ioctl: %s fails" % (self.PAGEMAP % (91, "0.2", 91))])
        # Gone on patched: the base name is given.
        patched = self.selftest("pagemap_ioctl", (True, "a"))
        self.assertEqual(self.regressions(base, patched)[0], [
            "REGRESSION: kselftest:pagemap_ioctl: %s passed on base, not on patched"
            % (self.PAGEMAP % (64, "0.1", 64))])
        # Failing on both: not a regression; known with other numbers: known.
        base = self.selftest("pagemap_ioctl", (True, "a"), (False, self.PAGEMAP % (64, "0.1", 64)))
        patched = self.selftest("pagemap_ioctl", (True, "a"), (False, self.PAGEMAP % (91, "0.2", 91)))
        found, lines = self.regressions(base, patched)
        self.assertEqual(found, [])
        self.assertIn("fails on base too: kselftest:pagemap_ioctl %s"
                      % (self.PAGEMAP % (91, "0.2", 91)), lines)
        known = {("kselftest:pagemap_ioctl", self.PAGEMAP % (1, "0.0", 1))}
        found, lines = self.regressions(self.selftest("pagemap_ioctl", (True, "a")), patched, known)
        self.assertEqual(found, [])
        self.assertIn("known failure: kselftest:pagemap_ioctl %s"
                      % (self.PAGEMAP % (91, "0.2", 91)), lines)

    def test_failing_case_with_number_is_a_regression(self):
        base = self.selftest("mremap_test", (True, "mremap 4096 bytes"), (True, "b"))
        patched = self.selftest("mremap_test", (False, "mremap 4096 bytes"), (True, "b"))
        found, _ = self.regressions(base, patched)
        self.assertEqual(found, ["REGRESSION: kselftest:mremap_test: mremap 4096 bytes fails"])
        self.assertEqual(run_cli("--compare", self.write(base, "b.json"),
                                 self.write(patched, "p.json"))[0], 1)

    def write(self, d, name):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            json.dump(d, f)
        return path

    def test_cases_sharing_a_key(self):
        # Same names: matched by name, whatever the key says.
        base = self.selftest("cow", (True, "size 4096"), (True, "size 8192"))
        patched = self.selftest("cow", (True, "size 4096"), (False, "size 8192"))
        self.assertEqual(self.regressions(base, patched)[0],
                         ["REGRESSION: kselftest:cow: size 8192 fails"])
        # Both renamed: a multiset per key, a pass for a pass.
        base = self.selftest("t", (True, "faults 10"), (True, "faults 20"))
        patched = self.selftest("t", (True, "faults 11"), (True, "faults 21"))
        self.assertEqual(self.regressions(base, patched)[0], [])
        patched = self.selftest("t", (True, "faults 11"), (False, "faults 12"))
        self.assertEqual(self.regressions(base, patched)[0],
                         ["REGRESSION: kselftest:t: faults 12 fails"])
        patched = self.selftest("t", (True, "faults 11"))
        self.assertEqual(len(self.regressions(base, patched)[0]), 1)
        # One passes and one fails on base, the same on patched: nothing new.
        base = self.selftest("t", (True, "faults 10"), (False, "faults 20"))
        patched = self.selftest("t", (False, "faults 13"), (True, "faults 14"))
        found, lines = self.regressions(base, patched)
        self.assertEqual(found, [])
        self.assertIn("fails on base too: kselftest:t faults 13", lines)
        # Two fail where one failed on base: one regression.
        patched = self.selftest("t", (False, "faults 13"), (False, "faults 14"))
        self.assertEqual(len(self.regressions(base, patched)[0]), 1)
        # A name seen on both runs keeps its identity: the pass and the
        # failure of base swapped places on patched is a regression.
        base = self.selftest("t", (True, "x 1"), (False, "x 2"))
        patched = self.selftest("t", (False, "x 1"), (True, "x 2"))
        self.assertEqual(self.regressions(base, patched)[0], ["REGRESSION: kselftest:t: x 1 fails"])

    def test_command_line(self):
        base = self.summary("pass.log", "b.json")
        p = subprocess.run([sys.executable, SCRIPT, "--compare", base,
                            self.summary("failures.log", "p.json")], capture_output=True)
        self.assertEqual(p.returncode, 1)
        p = subprocess.run([sys.executable, SCRIPT, "--compare", base, base], capture_output=True)
        self.assertEqual(p.returncode, 0)


if __name__ == "__main__":
    unittest.main()
