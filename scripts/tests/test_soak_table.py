"""Tests of scripts/soak_table.py, the verdict of make soak: built from
run logs as the guest writes them, parsed by scripts/ktap.py."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
KTAP = os.path.join(HERE, "..", "ktap.py")
TABLE = os.path.join(HERE, "..", "soak_table.py")

START = ("===KSELFTEST-BEGIN soak-start@6===\nTAP version 13\n1..2\n"
         "ok 1 fail_pmd_split at 10 %\nok 2 started\n===KSELFTEST-END soak-start@6 rc=0===\n")
THP = ("===KSELFTEST-BEGIN vmtests:thp===\nTAP version 13\nok 1 khugepaged\n"
       "not ok 2 split_pmd_fail # exit=1\n1..2\n===KSELFTEST-END vmtests:thp rc=1===\n")


def check(injected=37, verify="ok 2 stress-ng --verify: no data mismatch", kmemleak=None,
          metrics="ok 4 stress-ng metrics check"):
    text = "===KSELFTEST-BEGIN soak-check@600===\nTAP version 13\n1..4\n"
    text += "===SOAK injected=%d stress_ng_rc=0===\nok 1 stress-ng finished (exit 0)\n%s\n" % (
        injected, verify)
    text += "ok 3 injection unchanged during the soak\n%s\n" % metrics
    text += "===KSELFTEST-END soak-check@600 rc=0===\n"
    text += "===KSELFTEST-BEGIN kmemleak-scan===\nTAP version 13\n1..1\n"
    if kmemleak is None:
        text += "ok 1 kmemleak # SKIP not in this kernel\n"
    else:
        text += "===KMEMLEAK reports=%d===\n%s 1 kmemleak\n" % (kmemleak, "ok" if kmemleak == 0 else "not ok")
    return text + "===KSELFTEST-END kmemleak-scan rc=0===\n"


class SoakTable(unittest.TestCase):
    def boot(self, text, console=""):
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "run.log"), "w") as f:
            f.write(console + text)
        with open(os.path.join(d, "seconds"), "w") as f:
            f.write("321\n")
        subprocess.run([sys.executable, KTAP, os.path.join(d, "run.log"), "--json",
                        os.path.join(d, "summary.json")], capture_output=True)
        return d

    def table(self, *runs):
        return subprocess.run([sys.executable, TABLE, *runs], capture_output=True, text=True)

    def test_clean_soak_passes_with_test_failures(self):
        d = self.boot(START + THP + check() + "===RUN-END===\n")
        r = self.table("series:10:" + d)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("| series | 10 % | 321 | 1/1/0 | 37 | 0 | ok | ok | - | yes |", r.stdout)

    def test_kernel_warning_fails(self):
        d = self.boot(START + THP + check() + "===RUN-END===\n",
                      console="[   12.5] WARNING: CPU: 1 PID: 77 at mm/huge_memory.c:3000 x+0x1\n")
        r = self.table("series:10:" + d)
        self.assertEqual(r.returncode, 1)
        self.assertIn("kernel problem: WARNING: CPU: 1", r.stdout)

    def test_hang_fails(self):
        d = self.boot(START + THP)
        r = self.table("series:1:" + d)
        self.assertEqual(r.returncode, 1)
        self.assertIn("did not finish", r.stdout)

    def soak_100(self, **kw):
        """The table of one finished 100 % boot whose soak-check had kw."""
        return self.table("series:100:" + self.boot(START + check(**kw) + "===RUN-END===\n"))

    def test_verify_mismatch_fails(self):
        r = self.soak_100(verify="not ok 2 stress-ng --verify: data mismatch")
        self.assertEqual(r.returncode, 1)
        self.assertIn("| mismatch |", r.stdout)

    def test_metrics_late_count_passes(self):
        r = self.soak_100(metrics="ok 4 stress-ng metrics check: only a late count of a "
                                  "process stress-ng stopped waiting for (dev_shm)")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("| ok | late count | - | yes |", r.stdout)

    def test_metrics_failure_fails(self):
        r = self.soak_100(metrics="not ok 4 stress-ng metrics check: dev_shm")
        self.assertEqual(r.returncode, 1)
        self.assertIn("| ok | FAIL | - | NO |", r.stdout)
        self.assertIn("soak-check@600: stress-ng metrics check: dev_shm", r.stdout)

    def test_nothing_injected_fails_above_zero_only(self):
        d = self.boot(START + check(injected=0) + "===RUN-END===\n")
        self.assertEqual(self.table("base:0:" + d).returncode, 0)
        r = self.table("series:1:" + d)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no PMD split failure injected at 1 %", r.stdout)

    def test_kmemleak_report_fails(self):
        d = self.boot(START + check(kmemleak=2) + "===RUN-END===\n")
        r = self.table("series-debug:10:" + d)
        self.assertEqual(r.returncode, 1)
        self.assertIn("| 2 | NO |", r.stdout)


if __name__ == "__main__":
    unittest.main()
