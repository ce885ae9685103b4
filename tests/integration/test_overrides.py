#!/usr/bin/env python3
"""Operational overrides through `dnspc ctl`, against two NSD backends in a
round_robin pool: `server KEY down` takes a server out of rotation (listed in
`overrides` and `servers`, kept across a reload) while its checks go on;
`auto` hands it back to them; `up` keeps a silent (SIGSTOPped) server up; an
unknown server, dynblock or command is refused with exit 1; `clear-blocks`
releases a dynamic block at once; `help` lists the command table."""

import json
import time
import unittest

from harness import ZONE, Dnspc, Nsd, Workdir, query, run_dnspc, wait_until
from test_dynblocks import Flood, who_from

CHECK = 'check "quickstart.test." check_type SOA every 300ms timeout 300ms'
POLICY = """
listen 127.0.0.1:{port};
control "{control}";
option workers 2;
option udp_timeout 500ms;

pool main { policy round_robin; server A CHECK; server B CHECK; }
dynblock nuisance: queries > 100 per src over 2s => refuse for 60s;
MARKER
rule default: true => pool main;
"""
COMMANDS = ("stats", "servers", "latency", "metrics", "pools", "rules", "policy", "series", "top", "grep", "blocks",
            "hooks", "reload", "server", "overrides", "clear-blocks", "cache", "cache-purge", "help")


class Overrides(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.a = Nsd(cls.work.path, "nsd-a").start()
        cls.addClassCleanup(lambda: cls.a.kill())
        cls.b = Nsd(cls.work.path, "nsd-b").start()
        cls.addClassCleanup(lambda: cls.b.kill())
        cls.d = Dnspc(cls.work.path, cls.policy("192.0.2.1"))
        cls.addClassCleanup(cls.d.stop)
        cls.key_a = f"main/{cls.a.server()}"
        cls.key_b = f"main/{cls.b.server()}"

    @classmethod
    def policy(cls, marker):
        return (POLICY.replace("CHECK", CHECK).replace("server A", f"server {cls.a.server()}")
                .replace("server B", f"server {cls.b.server()}")
                .replace("MARKER", f'rule marker: qname == "marker.test." => spoof A {marker};'))

    def ctl(self, *args):
        """`dnspc ctl ARGS`: (exit code, parsed answer or None, stderr)."""
        r = run_dnspc("ctl", "--control", self.d.control, *args)
        try:
            answer = json.loads(r.stdout)
        except ValueError:
            answer = None
        return r.returncode, answer, r.stderr

    def ctl_ok(self, *args):
        rc, answer, err = self.ctl(*args)
        self.assertEqual(rc, 0, f"dnspc ctl {' '.join(args)}: {err}")
        return answer

    def server(self, key):
        return self.d.servers()[key]

    def queries_to(self, key):
        return self.d.server_queries()[key]

    def answered_by(self, n, prefix):
        out = []
        for i in range(n):
            r = query("127.0.0.1", self.d.port, f"{prefix}{i}.who.{ZONE}", "TXT", timeout=1.0)
            out.append(r.answer[0][0].strings[0].decode() if r.answer else None)
        return out

    def wait_both_up(self):
        for key in (self.key_a, self.key_b):
            wait_until(lambda k=key: self.server(k)["state"] == "up", 10, 0.05, f"{key} up")

    def test_1_down_takes_a_server_out_and_survives_a_reload(self):
        self.wait_both_up()
        self.assertIsNone(self.server(self.key_a)["forced"])
        answer = self.ctl_ok("server", self.key_a, "down")
        self.assertEqual(answer, {"ok": True, "server": self.key_a, "forced": "down", "state": "down",
                                  "checked": "up"})
        before = self.queries_to(self.key_a)
        self.assertEqual(set(self.answered_by(30, "down")), {"nsd-b"})
        self.assertEqual(self.queries_to(self.key_a), before)

        s = self.server(self.key_a)
        self.assertEqual((s["state"], s["forced"], s["mode"]), ("down", "down", "auto"))
        self.assertIsNone(self.server(self.key_b)["forced"])
        overrides = self.ctl_ok("overrides")["servers"]
        self.assertEqual(len(overrides), 1)
        self.assertEqual(overrides[0]["server"], self.key_a)
        self.assertEqual(overrides[0]["forced"], "down")
        self.assertEqual(overrides[0]["checked"], "up")
        self.assertTrue(overrides[0]["live"])
        self.assertRegex(overrides[0]["since"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        # Still checked while forced: its figures stay live.
        checks = s["health"]["checks"]
        wait_until(lambda: self.server(self.key_a)["health"]["checks"] > checks + 1, 5, 0.05, "more checks")
        self.assertEqual(self.server(self.key_a)["state"], "down")

        # A reload (of another rule) keeps the override.
        path = self.work.path / "marker2.dp"
        path.write_text(self.policy("192.0.2.2").replace("{port}", str(self.d.port))
                        .replace("{control}", self.d.control))
        r = run_dnspc("reload", "--control", self.d.control, str(path), timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.server(self.key_a)["forced"], "down")
        self.assertEqual(self.ctl_ok("overrides")["servers"][0]["since"], overrides[0]["since"])
        before = self.queries_to(self.key_a)
        self.assertEqual(set(self.answered_by(20, "reloaded")), {"nsd-b"})
        self.assertEqual(self.queries_to(self.key_a), before)

        # auto: back to the checks, which say up; it takes its share again.
        answer = self.ctl_ok("server", self.key_a, "auto")
        self.assertIsNone(answer["forced"])
        self.assertEqual(answer["state"], "up")
        self.assertEqual(self.ctl_ok("overrides")["servers"], [])
        self.assertIsNone(self.server(self.key_a)["forced"])
        self.assertEqual(set(self.answered_by(20, "auto")), {"nsd-a", "nsd-b"})
        self.assertGreater(self.queries_to(self.key_a), before)

    def test_2_up_keeps_a_silent_server_up(self):
        self.wait_both_up()
        self.assertEqual(self.ctl_ok("server", self.key_a, "up")["state"], "up")
        self.a.stop_signal()
        try:
            failures = self.server(self.key_a)["health"]["failures"]
            wait_until(lambda: self.server(self.key_a)["health"]["consecutive_failures"] >= 3, 10, 0.05,
                       "failed checks of the stopped server")
            s = self.server(self.key_a)
            self.assertGreater(s["health"]["failures"], failures)
            self.assertEqual((s["state"], s["forced"]), ("up", "up"))
            self.assertEqual(self.ctl_ok("overrides")["servers"][0]["checked"], "down")
            # Handed back to its checks, it is down at once.
            answer = self.ctl_ok("server", self.key_a, "auto")
            self.assertEqual((answer["state"], answer["forced"]), ("down", None))
            self.assertEqual(self.server(self.key_a)["state"], "down")
        finally:
            self.a.cont()
        wait_until(lambda: self.server(self.key_a)["state"] == "up", 10, 0.05, "recovery")

    def test_3_refusals_exit_1(self):
        rc, answer, err = self.ctl("server", "main/192.0.2.99:53", "down")
        self.assertEqual(rc, 1)
        self.assertEqual(answer["error"], "unknown server 'main/192.0.2.99:53'")
        self.assertIn(self.key_a, answer["servers"])
        self.assertIn("unknown server", err)
        rc, answer, _ = self.ctl("server", self.key_a, "sideways")
        self.assertEqual(rc, 1)
        self.assertIsNone(self.server(self.key_a)["forced"])
        rc, answer, _ = self.ctl("server", self.key_a)
        self.assertEqual(rc, 1)
        self.assertEqual(answer["usage"], "server NAME up|down|auto")
        rc, answer, _ = self.ctl("clear-blocks", "nope")
        self.assertEqual(rc, 1)
        self.assertEqual(answer["dynblocks"], ["nuisance"])
        rc, answer, _ = self.ctl("frobnicate")
        self.assertEqual(rc, 1)
        self.assertEqual(answer["command"], "frobnicate")
        self.assertEqual(set(answer["commands"]), set(COMMANDS))
        rc, _, err = self.ctl()
        self.assertEqual(rc, 2)  # usage: no command at all

    def test_4_clear_blocks_releases_at_once(self):
        def blocked():
            return [b for b in self.d.ctl("blocks")["blocks"] if b["prefix"] == "127.0.0.5/32"]

        flood = Flood(self.d.port, "127.0.0.5")
        try:
            wait_until(blocked, 10, 0.05, "a block on 127.0.0.5")
        finally:
            flood.stop()
        self.assertEqual(who_from(self.d.port, "127.0.0.5"), "REFUSED")
        # Past the second the flood ended in, so no evaluation can find it again.
        time.sleep(1.2)
        self.assertTrue(blocked())
        self.assertEqual(self.ctl_ok("clear-blocks", "nuisance"), {"ok": True, "cleared": 1})
        self.assertIn(who_from(self.d.port, "127.0.0.5"), ("nsd-a", "nsd-b"))
        self.assertFalse(blocked())
        self.assertEqual(self.ctl_ok("clear-blocks"), {"ok": True, "cleared": 0})
        time.sleep(1.2)  # an evaluation later: its counts were forgotten too
        self.assertFalse(blocked())
        self.assertIn(who_from(self.d.port, "127.0.0.5"), ("nsd-a", "nsd-b"))

    def test_5_help_lists_every_command(self):
        answer = self.ctl_ok("help")
        self.assertEqual([c["name"] for c in answer["commands"]], list(COMMANDS))
        by_name = {c["name"]: c for c in answer["commands"]}
        self.assertEqual(by_name["server"]["args"], "NAME up|down|auto")
        self.assertEqual(by_name["clear-blocks"]["args"], "[NAME]")
        for c in answer["commands"]:
            self.assertTrue(c["help"], c["name"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
