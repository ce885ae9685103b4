#!/usr/bin/env python3
"""Dynamic blocks in `dnspc run`: a flood from 127.0.0.5 moved to the abuse
pool within the window while another client is unaffected, released after
the block's duration; a SERVFAIL-rate block fed by a backend that answers
SERVFAIL; an excluded source never blocked; `dnspc ctl blocks`; a block kept
across a reload of an unrelated change."""

import socket
import subprocess
import threading
import time
import unittest

from harness import DNSPC, ZONE, Dnspc, Nsd, Responder, Workdir, build_query, dns, wait_until, who

POLICY = f"""
listen 127.0.0.1:{{port}};
control "{{control}}";
option workers 2;
pool main {{ server MAIN state up; }}
pool abuse {{ server ABUSE state up; }}
pool flaky {{ server FLAKY state up; }}
dynblock nuisance: queries > 100 per src over 2s => pool abuse for 3s except 127.0.0.8/32;
dynblock failing: servfail > 20 per src over 2s => refuse for 30s;
rule to_flaky: qname suffix "flaky.test." => pool flaky;
MARKER
rule default: true => pool main;
"""


class Flood:
    """Queries from `source` at about `rate` per second until stopped."""

    def __init__(self, port, source, rate=400, name=f"www.{ZONE}"):
        self.port, self.source, self.rate, self.name = port, source, rate, name
        self.sent = 0
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((self.source, 0))
            s.setblocking(False)
            gap = 1.0 / self.rate
            next_at = time.monotonic()
            while not self._stop:
                s.sendto(build_query(self.name), ("127.0.0.1", self.port))
                self.sent += 1
                try:
                    while True:
                        s.recv(4096)  # drain answers
                except BlockingIOError:
                    pass
                next_at += gap
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

    def stop(self):
        self._stop = True
        self.thread.join(5)


def who_from(port, source, timeout=1.0):
    q = dns.message.make_query(f"whoami.{ZONE}", "TXT")
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout, source=source)
    except dns.exception.Timeout:
        return None
    return b"".join(r.answer[0][0].strings).decode() if r.answer else dns.rcode.to_text(r.rcode())


class DynBlocks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.main = Nsd(cls.work.path, "main").start()
        cls.abuse = Nsd(cls.work.path, "abuse").start()
        cls.flaky = Responder("flaky")
        cls.flaky.mode = "servfail"
        cls.d = Dnspc(cls.work.path, cls.policy("192.0.2.1"))

    @classmethod
    def policy(cls, marker):
        return (POLICY.replace("MAIN", cls.main.server()).replace("ABUSE", cls.abuse.server())
                .replace("FLAKY", cls.flaky.server())
                .replace("MARKER", f'rule marker: qname == "marker.test." => spoof A {marker};'))

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.main.kill()
        cls.abuse.kill()
        cls.flaky.close()
        cls.work.cleanup()

    def blocks(self):
        return self.d.ctl("blocks")["blocks"]

    def blocked(self, prefix):
        return [b for b in self.blocks() if b["prefix"] == prefix]

    def test_flood_moved_to_abuse_pool_then_released(self):
        self.assertEqual(who_from(self.d.port, "127.0.0.5"), "main")
        flood = Flood(self.d.port, "127.0.0.5")
        t0 = time.monotonic()
        try:
            wait_until(lambda: self.blocked("127.0.0.5/32"), 10, 0.05, "a block on 127.0.0.5")
            took = time.monotonic() - t0
            print(f"blocked {took:.2f}s after the flood began", flush=True)
            # One evaluation a second over a 2 s window: the bound is crossed
            # within the first seconds (a loose ceiling: the machine is shared).
            self.assertLess(took, 4.0)
            b = self.blocked("127.0.0.5/32")[0]
            self.assertEqual(b["block"], "nuisance")
            self.assertEqual(b["action"], "pool abuse")
            self.assertIn("queries", b["reason"])
            self.assertGreater(b["expires_in_ms"], 0)
            self.assertEqual(who_from(self.d.port, "127.0.0.5"), "abuse")
            self.assertEqual(who_from(self.d.port, "127.0.0.6"), "main")  # others unaffected
            wait_until(lambda: self.blocked("127.0.0.5/32")[0]["hits"] > 0, 5, 0.1, "hits counted")
            # A reload of an unrelated change keeps the block.
            path = self.work.path / "marker2.dp"
            path.write_text(self.policy("192.0.2.2").replace("{port}", str(self.d.port))
                            .replace("{control}", self.d.control))
            r = subprocess.run([DNSPC, "reload", "--control", self.d.control, str(path)],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertTrue(self.blocked("127.0.0.5/32"))
            self.assertEqual(who_from(self.d.port, "127.0.0.5"), "abuse")
        finally:
            flood.stop()
        # Released: the flood leaves the window (2 s), then the duration (3 s) runs out.
        wait_until(lambda: not self.blocked("127.0.0.5/32"), 15, 0.2, "the release of 127.0.0.5")
        self.assertEqual(who_from(self.d.port, "127.0.0.5"), "main")
        totals = {t["block"]: t for t in self.d.ctl("blocks")["totals"]}
        self.assertGreater(totals["nuisance"]["hits"], 0)

    def test_excluded_source_is_never_blocked(self):
        flood = Flood(self.d.port, "127.0.0.8")
        try:
            time.sleep(3.5)
            self.assertFalse(self.blocked("127.0.0.8/32"))
            self.assertEqual(who_from(self.d.port, "127.0.0.8"), "main")
        finally:
            flood.stop()

    def test_servfail_rate_block(self):
        flood = Flood(self.d.port, "127.0.0.7", rate=50, name="x.flaky.test.")
        try:
            wait_until(lambda: self.blocked("127.0.0.7/32"), 10, 0.05, "a SERVFAIL block on 127.0.0.7")
            b = self.blocked("127.0.0.7/32")[0]
            self.assertEqual(b["block"], "failing")
            self.assertEqual(b["action"], "refuse")
            self.assertEqual(who_from(self.d.port, "127.0.0.7"), "REFUSED")
            self.assertEqual(who_from(self.d.port, "127.0.0.9"), "main")
        finally:
            flood.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
