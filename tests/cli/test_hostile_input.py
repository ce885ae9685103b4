#!/usr/bin/env python3
"""`dnspc check` and `dnspc test` on hostile or generated policies, through
the real binary: long chains are accepted, deep nesting is a located error
(never a crash), set files that are special or huge are refused at once,
and diagnostics stay bounded however many there are."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

DNSPC = sys.argv.pop(1)
HEAD = "pool main { server 127.0.0.1:53; }\n"
TAIL = "rule default: true => pool main;\n"


def run(*args, timeout=120):
    return subprocess.run([DNSPC, *args], capture_output=True, text=True, timeout=timeout)


class HostileInput(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="dnspc-hostile-")
        self.addCleanup(self.dir.cleanup)

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def check(self, text, *args):
        return run("check", *args, self.write("p.dp", HEAD + text + TAIL))

    def test_12000_terms_joined_by_or_and_and_not(self):
        names = [f'qname == "a{i}.x."' for i in range(12000)]
        for joined in (" or ".join(names), " and ".join("not " + n for n in names),
                       " or ".join(f"({n} and udp)" for n in names)):
            r = self.check(f"rule r: {joined} => drop;\n")
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        # And it runs on native code, deciding as written.
        policy = self.write("or.dp", HEAD + "rule r: " + " or ".join(names) + " => drop;\n" + TAIL)
        cases = self.write("or.dpt", "a11999.x. A => r drop\na5.x. A => r drop\nb.x. A => default pool main\n")
        r = run("test", policy, cases)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("3 passed, 0 failed", r.stdout)

    def test_deep_nesting_is_a_located_error(self):
        for text, column in (("not " * 12000 + "rd", 9 + 4 * 256), ("(" * 37000 + "rd" + ")" * 37000, 9 + 256)):
            r = self.check(f"rule r: {text} => drop;\n")
            self.assertEqual(r.returncode, 1, r.stderr[-500:])
            self.assertIn(f"p.dp:2:{column}: error:", r.stderr)
            self.assertIn("[nesting-too-deep]", r.stderr)
            self.assertLess(len(r.stderr), 2000)  # the 74 KB line is shown as a window
        r = self.check("rule r: " + "(" * 256 + "rd" + ")" * 256 + " => drop;\n")
        self.assertEqual(r.returncode, 0, r.stderr[-500:])

    def test_special_set_files_are_refused_at_once(self):
        fifo = os.path.join(self.dir.name, "fifo")
        os.mkfifo(fifo)
        big = os.path.join(self.dir.name, "big.txt")
        with open(big, "wb") as f:
            f.truncate(300 << 20)  # sparse: no disk used, 300 MiB to a reader
        for path, words in (("/dev/zero", "character device"), ("/dev/urandom", "character device"),
                            (fifo, "FIFO"), (big, "300.0 MiB and the limit is 256.0 MiB"), (self.dir.name, "directory")):
            t0 = time.monotonic()
            r = self.check(f'netmasks x = file "{path}";\nrule r: src in x => drop;\n')
            self.assertLess(time.monotonic() - t0, 20, path)  # no hang (a FIFO blocked for ever)
            self.assertEqual(r.returncode, 1, path)
            self.assertIn("[bad-file]", r.stderr, path)
            self.assertIn(words, r.stderr, path)
        binary = self.write("binary.txt", "10.0.0.0/8\n" + "\x01" * 100000 + "\n")
        r = self.check(f'netmasks x = file "{binary}";\nrule r: src in x => drop;\n')
        self.assertEqual(r.returncode, 1)
        self.assertIn("binary.txt:2:1: error: line longer than 4096 bytes", r.stderr)
        self.assertEqual(r.stderr.count("error:"), 1)

    def test_200000_bad_lines_print_a_page(self):
        text = "rule dup: rd => drop;\n" * 200000
        r = self.check(text)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.count(": error:"), 100)
        self.assertIn("note: 199899 more errors and 0 more warnings not shown (only the first 100 are)", r.stderr)
        self.assertIn("199999 errors", r.stdout)
        r = self.check(text, "--format", "json")
        doc = json.loads(r.stdout)
        self.assertEqual(doc["errors"], 199999)
        self.assertEqual(doc["omitted"], 199899)
        self.assertEqual(len(doc["diagnostics"]), 100)
        r = self.check(text, "--max-diagnostics", "1000")
        self.assertEqual(r.stderr.count(": error:"), 1000)

    def test_a_10_mb_name_is_not_echoed(self):
        name = "r" * (10 << 20)
        r = self.check(f'rule {name}: qname == "{name}.x." => drop;\n')
        self.assertEqual(r.returncode, 1)
        self.assertIn("[name-too-long]", r.stderr)
        self.assertLess(len(r.stderr), 5000)


if __name__ == "__main__":
    unittest.main(verbosity=2)
