"""Tests of scripts/reclaim_table.py, the table of the make reclaim
scenarios."""
import io
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "reclaim_table.py")


def line(**kv):
    return "RECLAIM " + " ".join("%s=%s" % x for x in kv.items()) + "\n"


class ReclaimTable(unittest.TestCase):
    def scenario(self, root, name, base, series):
        for kind, text in (("base", base), ("series", series)):
            os.makedirs(os.path.join(root, name, kind))
            with open(os.path.join(root, name, kind, "user.log"), "w") as f:
                f.write(text)

    def run_table(self, root, *names):
        return subprocess.run([sys.executable, SCRIPT, root, *names],
                              capture_output=True, text=True)

    def test_medians_sums_and_lowest(self):
        root = tempfile.mkdtemp()
        self.scenario(root, "a",
                      line(rep=1, sharers=4, oom_kill=0, free_above_min_low=-5,
                           pgscan_kswapd=10, pgscan_direct=1, pressure_ms=100) +
                      line(rep=2, sharers=4, oom_kill=1, free_above_min_low=7,
                           pgscan_kswapd=20, pgscan_direct=1, pressure_ms=300),
                      line(rep=1, sharers=4, oom_kill=0, free_above_min_low=3,
                           pgscan_kswapd=30, pgscan_direct=2, pressure_ms=200))
        out = self.run_table(root, "a")
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = {r.split("|")[1].strip(): r.split("|")[2].strip()
                for r in out.stdout.splitlines()[2:]}
        self.assertEqual(rows["OOM kills (sum)"], "1 / 0")
        self.assertEqual(rows["lowest free pages above a zone's min (min)"], "-5 / 3")
        self.assertEqual(rows["pages scanned (kswapd + direct) (median)"], "16 / 32")
        self.assertEqual(rows["pressure wall time (ms) (median)"], "200 / 200")
        self.assertEqual(rows["allocation stalls (median)"], "0 / 0")

    def test_missing_key_and_errors(self):
        root = tempfile.mkdtemp()
        self.scenario(root, "b", line(rep=1, sharers=1),
                      "RECLAIM-ERROR rep=1 the owner did not get ready\n")
        out = self.run_table(root, "b")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("| sharers (besides the owner) (median) | - |", out.stdout)
        self.assertIn("b: series: RECLAIM-ERROR rep=1", out.stdout)

    def test_no_results(self):
        out = self.run_table(tempfile.mkdtemp())
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("no results", out.stderr)


if __name__ == "__main__":
    unittest.main()
