"""Tests of scripts/ktap.py against recorded logs in data/."""
import io
import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import ktap  # noqa: E402


def load(name):
    with open(os.path.join(HERE, "data", name), encoding="utf-8") as f:
        return f.read()


def counts(res, suite):
    s = res.suites[suite]
    return (len(s.passed), len(s.failed), len(s.skipped))


def run_cli(*args):
    out = io.StringIO()
    old = sys.stdout
    sys.stdout = out
    try:
        rc = ktap.main(list(args))
    finally:
        sys.stdout = old
    return rc, out.getvalue()


class Parse(unittest.TestCase):
    def test_pass(self):
        res = ktap.parse(load("pass.log"))
        self.assertEqual(counts(res, "kunit:split_huge_pmd"), (2, 0, 0))
        self.assertEqual(counts(res, "kselftest:hmm-tests"), (1, 0, 1))
        self.assertEqual(res.totals(), {"pass": 3, "fail": 0, "skip": 1})
        self.assertEqual(res.problems, [])
        self.assertNotIn("run", res.suites)

    def test_failures(self):
        res = ktap.parse(load("failures.log"))
        self.assertEqual(counts(res, "kunit:suite_a"), (1, 1, 1))
        # Parameterised case: its two parameters are the leaves.
        self.assertEqual(counts(res, "kunit:suite_b"), (1, 1, 0))
        self.assertEqual(counts(res, "kselftest:mremap_test"), (1, 1, 1))
        self.assertEqual(res.suites["kselftest:mremap_test"].failed, ["mremap shrink"])
        # rc != 0 with no failing line is still a failure.
        self.assertEqual(res.suites["kselftest:quiet-fail"].failed, ["exit code 3"])
        # Bail out: the missing cases and the bail-out fail.
        self.assertEqual(counts(res, "kselftest:bail"), (1, 4, 0))

    def test_skips(self):
        res = ktap.parse(load("skips.log"))
        self.assertEqual(counts(res, "kselftest:migration"), (0, 0, 2))
        self.assertEqual(counts(res, "kselftest:needs-root"), (0, 0, 1))
        self.assertEqual(counts(res, "kselftest:cow"), (1, 0, 1))

    def test_truncated(self):
        res = ktap.parse(load("truncated.log"))
        # KUnit suite cut after 1 of 4 cases.
        p, f, s = counts(res, "kunit:split_huge_pmd")
        self.assertEqual(p, 1)
        self.assertGreaterEqual(f, 1)
        # kselftest block with no END: missing case 3 and truncation.
        self.assertEqual(counts(res, "kselftest:hmm-tests"), (2, 2, 0))
        self.assertEqual(res.suites["run"].failed, ["log truncated (no ===RUN-END===)"])

    def test_oops(self):
        res = ktap.parse(load("oops.log"))
        self.assertEqual(counts(res, "kselftest:hmm-tests"), (2, 0, 0))
        k = res.suites["kernel"].failed
        self.assertEqual(len(k), 3)
        self.assertTrue(k[0].startswith("WARNING: CPU: 1"))
        self.assertTrue(any(x.startswith("BUG: Bad page state") for x in k))
        self.assertTrue(any(x.startswith("Kernel panic") for x in k))
        # A test's own diagnostic mentioning BUG: is not a kernel problem.
        self.assertFalse(any("expected" in x for x in k))

    def test_timeout_and_empty(self):
        res = ktap.parse(load("timeout.log"))
        self.assertIn("timeout", res.suites["kselftest:uffd-unit-tests"].failed)
        self.assertEqual(counts(res, "kselftest:uffd-unit-tests"), (1, 3, 0))
        self.assertEqual(res.suites["kselftest:empty"].failed, ["no results printed"])

    def test_not_ok_is_not_ok(self):
        res = ktap.parse("===KSELFTEST-BEGIN t===\n1..1\nnot ok 1 ok\n"
                         "===KSELFTEST-END t rc=1===\n===RUN-END===\n")
        self.assertEqual(counts(res, "kselftest:t"), (0, 1, 0))


class Cli(unittest.TestCase):
    def path(self, name):
        return os.path.join(HERE, "data", name)

    def test_exit_codes(self):
        self.assertEqual(run_cli(self.path("pass.log"))[0], 0)
        rc, out = run_cli(self.path("failures.log"))
        self.assertEqual(rc, 1)
        self.assertIn("ktap: 5 passed, 8 failed, 2 skipped", out.splitlines())
        self.assertEqual(run_cli(self.path("oops.log"))[0], 1)
        err = io.StringIO()
        old = sys.stderr
        sys.stderr = err
        try:
            self.assertEqual(run_cli(self.path("noresults.log"))[0], 2)
        finally:
            sys.stderr = old
        self.assertIn("no test results", err.getvalue())

    def test_compare(self):
        with tempfile.TemporaryDirectory() as d:
            base, series, known = (os.path.join(d, n) for n in ("b.json", "s.json", "k.txt"))
            run_cli(self.path("pass.log"), "--json", base)
            run_cli(self.path("pass.log"), "--json", series)
            self.assertEqual(run_cli("--compare", base, series)[0], 0)
            # A case that passes on base and fails on the series regresses.
            with open(series) as f:
                s = json.load(f)
            s["suites"]["kunit:split_huge_pmd"]["passed_cases"].remove("split_maps_same_pages")
            s["suites"]["kunit:split_huge_pmd"]["failed_cases"].append("split_maps_same_pages")
            s["suites"]["kunit:split_huge_pmd"]["pass"] -= 1
            s["suites"]["kunit:split_huge_pmd"]["fail"] += 1
            s["totals"]["pass"] -= 1
            s["totals"]["fail"] += 1
            with open(series, "w") as f:
                json.dump(s, f)
            rc, out = run_cli("--compare", base, series)
            self.assertEqual(rc, 1)
            self.assertIn("REGRESSION: kunit:split_huge_pmd: split_maps_same_pages fails", out)
            # Listed as a known failure: reported apart, not a regression.
            with open(known, "w") as f:
                f.write("kunit:split_huge_pmd split_maps_same_pages  # flaky\n")
            rc, out = run_cli("--compare", base, series, "--known", known)
            self.assertEqual(rc, 0)
            self.assertIn("check: 2 passed, 0 failed, 1 skipped", out.splitlines())


if __name__ == "__main__":
    unittest.main()
