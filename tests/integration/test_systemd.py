#!/usr/bin/env python3
"""dist/systemd/dnspc.service, run as systemd would run it (systemd itself
cannot be assumed here): its ExecStart line, with the binary, the policy and
the control socket put in a temp dir, under a NOTIFY_SOCKET this test
listens on, in front of a real NSD. READY=1 arrives once queries are
answered; SIGHUP (the unit's ExecReload) gives RELOADING=1 with
MONOTONIC_USEC, then READY=1 once the new policy answers; a rejected policy
gives READY=1 too, saying so, and the old one keeps answering; SIGTERM gives
STOPPING=1 and exit 0. The unit's hardening directives are checked present."""

import os
import shlex
import signal
import socket
import subprocess
import time
import unittest
from pathlib import Path

from harness import DNSPC, START_TIMEOUT, STOP_TIMEOUT, Nsd, Proc, Workdir, answer_a, free_port, who

UNIT = Path(__file__).resolve().parents[2] / "dist" / "systemd" / "dnspc.service"

POLICY = """
listen 127.0.0.1:{port};
pool main {{ policy round_robin; server 127.0.0.1:{nsd} check "quickstart.test." check_type SOA; }}
rule marker: qname == "marker.test." => spoof A {marker};
rule default: true => pool main;
"""


def unit_directives():
    """The unit's [Service] directives: name -> list of values."""
    out, section = {}, None
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]":
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


class SystemdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.dir = cls.work.path
        cls.nsd = Nsd(cls.dir, "ns1").start()
        cls.port = free_port()
        cls.policy = cls.dir / "policy.dp"
        cls.write_policy("192.0.2.1")
        cls.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        cls.notify_path = str(cls.dir / "notify.sock")
        cls.notify.bind(cls.notify_path)

        # ExecStart as systemd splits it; the paths put where this test may write.
        directives = unit_directives()
        argv = shlex.split(directives["ExecStart"][0])
        cls.control = str(cls.dir / "control.sock")
        subst = {"/usr/local/bin/dnspc": DNSPC, "/etc/dnspc/policy.dp": str(cls.policy),
                 "/run/dnspc/control.sock": cls.control}
        argv = [subst.get(a, a) for a in argv]
        assert argv[0] == DNSPC and str(cls.policy) in argv and cls.control in argv, argv
        env = {**os.environ, "NOTIFY_SOCKET": cls.notify_path}
        cls.started = time.monotonic()
        cls.proc = Proc("dnspc", argv, cls.dir / "dnspc.log", env=env)

    @classmethod
    def tearDownClass(cls):
        cls.proc.kill()
        cls.nsd.kill()
        cls.notify.close()
        cls.work.cleanup()

    @classmethod
    def write_policy(cls, marker, extra=""):
        cls.policy.write_text(POLICY.format(port=cls.port, nsd=cls.nsd.port, marker=marker) + extra)

    def message(self, timeout=START_TIMEOUT):
        """The next notification as {key: value}."""
        self.notify.settimeout(timeout)
        try:
            data = self.notify.recv(4096).decode()
        except socket.timeout:
            self.fail(f"no notification within {timeout}s; dnspc's log:\n{self.proc.log_text()}")
        return dict(line.split("=", 1) for line in data.split("\n"))

    def test_lifecycle(self):
        # Start: READY=1 is the first word, and by then queries are answered
        # at once, through the rules and through the pool (no retry).
        m = self.message()
        self.assertEqual(m.get("READY"), "1", m)
        self.assertIn(f"127.0.0.1:{self.port}", m.get("STATUS", ""))
        self.assertEqual(answer_a(self.port, "marker.test.", timeout=1.0), "192.0.2.1")
        self.assertEqual(who("127.0.0.1", self.port, timeout=1.0), "ns1")
        self.assertIn('"running"', self.proc.log_text())  # --log-format json, as the unit has it

        # ExecReload's SIGHUP: RELOADING=1 with a CLOCK_MONOTONIC stamp (the
        # clock Python's monotonic() reads on Linux), then READY=1 once the
        # new policy answers.
        self.write_policy("192.0.2.2")
        before = time.monotonic()
        os.kill(self.proc.pid, signal.SIGHUP)
        m = self.message()
        self.assertEqual(m.get("RELOADING"), "1", m)
        usec = int(m["MONOTONIC_USEC"])
        self.assertGreaterEqual(usec, int(before * 1e6) - 1000)
        self.assertLessEqual(usec, int(time.monotonic() * 1e6) + 1000)
        m = self.message()
        self.assertEqual(m.get("READY"), "1", m)
        self.assertIn("reloaded", m.get("STATUS", ""))
        self.assertEqual(answer_a(self.port, "marker.test.", timeout=1.0), "192.0.2.2")

        # A policy with an error: refused, READY=1 all the same (the old
        # policy serves), and the status says so.
        self.write_policy("192.0.2.3", extra="rule broken: qname == => drop;\n")
        os.kill(self.proc.pid, signal.SIGHUP)
        self.assertEqual(self.message().get("RELOADING"), "1")
        m = self.message()
        self.assertEqual(m.get("READY"), "1", m)
        self.assertIn("reload failed", m.get("STATUS", ""))
        self.assertEqual(answer_a(self.port, "marker.test.", timeout=1.0), "192.0.2.2")

        # systemctl stop: SIGTERM, STOPPING=1, exit 0.
        os.kill(self.proc.pid, signal.SIGTERM)
        m = self.message()
        self.assertEqual(m.get("STOPPING"), "1", m)
        self.assertEqual(self.proc.popen.wait(timeout=STOP_TIMEOUT), 0, self.proc.log_text())
        self.notify.settimeout(0.2)
        with self.assertRaises(socket.timeout):  # nothing after STOPPING
            self.notify.recv(4096)

    def test_unit_directives(self):
        d = unit_directives()
        self.assertEqual(d["Type"], ["notify"])
        self.assertIn("-HUP $MAINPID", d["ExecReload"][0])
        for key, value in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                           ("PrivateTmp", "yes"), ("SystemCallFilter", "@system-service")]:
            self.assertIn(value, d.get(key, []), key)
        # Port 53 only: the XDP capabilities stay in a comment.
        self.assertEqual(d["CapabilityBoundingSet"], ["CAP_NET_BIND_SERVICE"])
        self.assertEqual(d["AmbientCapabilities"], ["CAP_NET_BIND_SERVICE"])
        self.assertEqual(sorted(d["RestrictAddressFamilies"][0].split()), ["AF_INET", "AF_INET6", "AF_UNIX"])
        self.assertNotIn("MemoryDenyWriteExecute", d)  # the JIT needs executable pages

    @unittest.skipUnless(subprocess.run(["which", "systemd-analyze"], capture_output=True).returncode == 0,
                         "no systemd-analyze")
    def test_systemd_analyze(self):
        # systemd's own parser: no unknown directive or bad value (the
        # missing /usr/local/bin/dnspc is the only complaint allowed).
        r = subprocess.run(["systemd-analyze", "verify", str(UNIT)], capture_output=True, text=True, timeout=30)
        lines = [l for l in (r.stdout + r.stderr).splitlines()
                 if l.strip() and "/usr/local/bin/dnspc" not in l]
        self.assertEqual(lines, [])


if __name__ == "__main__":
    unittest.main()
