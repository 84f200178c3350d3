"""Tests of scripts/ab_results.py, which reads make bench / make reclaim
guest output."""
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import ab_results  # noqa: E402


class ABResults(unittest.TestCase):
    def write(self, base, series):
        d = tempfile.mkdtemp()
        for kind, text in (("base", base), ("series", series)):
            os.makedirs(os.path.join(d, kind))
            with open(os.path.join(d, kind, "user.log"), "w") as f:
                f.write(text)
        return d

    def test_records_and_warm_up(self):
        d = self.write("BENCH n=256 rep=-1 split_us=900\r\n"
                       "BENCH n=256 rep=0 split_us=100.5\r\n"
                       "BENCHMARK n=1 rep=0 split_us=1\n",
                       "noise\nBENCH n=256 rep=0 split_us=110\n")
        recs, errors = ab_results.load(d, "BENCH")
        self.assertEqual(errors, [])
        self.assertEqual(recs["base"], [{"n": 256, "rep": 0, "split_us": 100.5}])
        runs = ab_results.group(recs, by="n")
        self.assertEqual(runs[(256, "split_us", "series")], [110.0])

    def test_error_lines(self):
        d = self.write("RECLAIM rep=1 oom_kill=0\n",
                       "RECLAIM-ERROR rep=1 too few THPs\n")
        recs, errors = ab_results.load(d, "RECLAIM")
        self.assertEqual(errors, ["series: RECLAIM-ERROR rep=1 too few THPs"])
        self.assertEqual(ab_results.group(recs)[("oom_kill", "base")], [0.0])

    def test_missing_log_raises(self):
        d = tempfile.mkdtemp()
        with self.assertRaises(OSError):
            ab_results.load(d, "BENCH")


if __name__ == "__main__":
    unittest.main()
