#!/usr/bin/env python3
"""`dnspc run` end to end over UDP: every terminal action and modifier, the
answers dnspc makes (EDNS, RA, the client's question case), the ACL, each
malformed-query counter, IPv6 clients and backends, logs, refusals at load,
and a clean shutdown. NSD and our responder as backends; dnspython, dig and
kdig as clients."""

import json
import os
import signal
import struct
import subprocess
import threading
import time
import unittest

from harness import (Dnspc, Nsd, Responder, Workdir, build_query, dns, query, raw_exchange, run_dnspc, who,
                     ZONE)

POLICY = """
listen 127.0.0.1:{port}, [::1]:{port};
control "{control}";
option workers 2;
option udp_timeout 500ms;
option default_pool resp;

pool main { server NSD4 check "quickstart.test." check_type SOA every 500ms; }
pool main6 { server NSD6 check "quickstart.test." check_type SOA every 500ms; }
pool resp { server RESP state up; }

rule refused:  qname suffix "refuse.test." => refuse;
rule nx:       qname suffix "nx.test." => rcode NXDOMAIN;
rule notimp:   qname suffix "notimp.test." => rcode NOTIMP;
rule dropped:  qname suffix "drop.test." => drop;
rule tc:       qname suffix "tc.test." => truncate;
rule spoofed:  qname == "multi.spoof.test." => spoof A 192.0.2.1, AAAA 2001:db8::1, TXT "hello world" ttl 30;
rule aliased:  qname == "cname.spoof.test." => spoof CNAME "target.example.";
rule norec:    qname suffix "norec.test." => no_recurse pool resp;
rule setcd:    qname suffix "setcd.test." => set_cd pool resp;
rule withtags:   qname suffix "tag.test." => tag "t1" tag "t2" log pool resp;
rule logged:   qname suffix "log.test." => log refuse;
rule allowed:  qname suffix "allow.test." => allow;
rule six:      qname suffix "six.who.quickstart.test." => pool main6;
rule default:  true => pool main;
"""


def header(msg):
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    return qid, flags, qd, an, ns, ar


class Actions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.nsd = Nsd(cls.work.path, "nsd-a").start()
        cls.addClassCleanup(cls.nsd.kill)
        cls.resp = Responder("resp")
        cls.addClassCleanup(cls.resp.close)
        policy = (POLICY.replace("NSD4", cls.nsd.server("127.0.0.1")).replace("NSD6", cls.nsd.server("::1"))
                  .replace("RESP", cls.resp.server()))
        cls.d = Dnspc(cls.work.path, policy)
        cls.addClassCleanup(cls.d.stop)
        cls.port = cls.d.port

    def q(self, name, rdtype="A", host="127.0.0.1", **kw):
        return query(host, self.port, name, rdtype, timeout=1.0, **kw)

    # ------------------------------------------------------------ forwarding

    def test_pool_forwards_to_nsd(self):
        r = self.q("www." + ZONE)
        self.assertEqual(r.rcode(), dns.rcode.NOERROR)
        self.assertEqual([rd.address for rd in r.answer[0]], ["192.0.2.80"])
        self.assertEqual(who("127.0.0.1", self.port), "nsd-a")

    def test_client_gets_its_own_id_and_name_case(self):
        for name in ("WwW.QuickStart.TEST.", "www.quickstart.test."):
            pkt = build_query(name, qid=0x1234)
            ans = raw_exchange("127.0.0.1", self.port, pkt, timeout=1)
            self.assertIsNotNone(ans)
            self.assertEqual(header(ans)[0], 0x1234)
            # The question as the client wrote it, byte for byte.
            self.assertEqual(ans[12:12 + len(pkt) - 12], pkt[12:])

    def test_allow_goes_to_the_default_pool(self):
        self.resp.clear()
        r = self.q("x.allow.test.")
        self.assertEqual([rd.address for rd in r.answer[0]], ["192.0.2.99"])
        self.assertEqual(self.resp.queries()[-1][3], "x.allow.test.")

    # ------------------------------------------------------------ answers dnspc makes

    def test_refuse(self):
        r = self.q("a.refuse.test.")
        self.assertEqual(r.rcode(), dns.rcode.REFUSED)
        self.assertTrue(r.flags & dns.flags.QR and r.flags & dns.flags.RA)
        self.assertFalse(r.flags & dns.flags.AA)
        self.assertEqual(r.question[0].name.to_text(), "a.refuse.test.")

    def test_rcode(self):
        self.assertEqual(self.q("a.nx.test.").rcode(), dns.rcode.NXDOMAIN)
        self.assertEqual(self.q("a.notimp.test.").rcode(), dns.rcode.NOTIMP)

    def test_drop_says_nothing(self):
        with self.assertRaises(dns.exception.Timeout):
            query("127.0.0.1", self.port, "a.drop.test.", timeout=0.3)

    def test_truncate(self):
        r = self.q("a.tc.test.")
        self.assertTrue(r.flags & dns.flags.TC)
        self.assertEqual(r.answer, [])
        self.assertEqual(r.rcode(), dns.rcode.NOERROR)

    def test_spoof_each_type(self):
        r = self.q("multi.spoof.test.", "A")
        self.assertEqual([(rs.rdtype, rs.ttl, [rd.to_text() for rd in rs]) for rs in r.answer],
                         [(dns.rdatatype.A, 30, ["192.0.2.1"])])
        r = self.q("multi.spoof.test.", "AAAA")
        self.assertEqual([rd.to_text() for rs in r.answer for rd in rs], ["2001:db8::1"])
        r = self.q("multi.spoof.test.", "TXT")
        self.assertEqual([rd.to_text() for rs in r.answer for rd in rs], ['"hello world"'])
        r = self.q("multi.spoof.test.", "ANY")
        self.assertEqual(sorted(rd.to_text() for rs in r.answer for rd in rs), ["192.0.2.1", "2001:db8::1"])
        r = self.q("multi.spoof.test.", "MX")  # NODATA
        self.assertEqual((r.rcode(), r.answer), (dns.rcode.NOERROR, []))
        r = self.q("cname.spoof.test.", "A")
        self.assertEqual([(rs.rdtype, [rd.to_text() for rd in rs]) for rs in r.answer],
                         [(dns.rdatatype.CNAME, ["target.example."])])
        self.assertTrue(r.flags & dns.flags.RA)

    def test_spoof_with_dig_and_kdig(self):
        out = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.port), "+short", "+time=1", "+tries=1",
                              "multi.spoof.test", "A"], capture_output=True, text=True, timeout=10).stdout
        self.assertEqual(out.split(), ["192.0.2.1"])
        out = subprocess.run(["kdig", "@::1", "-p", str(self.port), "+short", "+time=1", "+retry=0",
                              "multi.spoof.test", "AAAA"], capture_output=True, text=True, timeout=10).stdout
        self.assertEqual(out.split(), ["2001:db8::1"])

    def test_own_answers_follow_the_edns_rules(self):
        # No EDNS: no OPT in the answer.
        ans = raw_exchange("127.0.0.1", self.port, build_query("a.refuse.test."))
        self.assertEqual(header(ans)[5], 0)
        # EDNS: our own OPT, payload 1232, DO copied, version 0.
        r = self.q("multi.spoof.test.", "A", use_edns=0, payload=4096, want_dnssec=True)
        self.assertEqual(r.edns, 0)
        self.assertEqual(r.payload, 1232)
        self.assertTrue(r.ednsflags & dns.flags.DO)
        r = self.q("multi.spoof.test.", "A", use_edns=0, payload=4096)
        self.assertFalse(r.ednsflags & dns.flags.DO)
        # EDNS version 1: BADVERS, no data.
        ans = raw_exchange("127.0.0.1", self.port, build_query("multi.spoof.test.", edns=(1232, 1, False)))
        m = dns.message.from_wire(ans)
        self.assertEqual(m.rcode(), dns.rcode.BADVERS)
        self.assertEqual(m.answer, [])
        # A big TXT over 512 bytes without EDNS: TC=1, no records.
        # (covered by the codec's unit tests; here the RD and CD bits stay.)
        ans = raw_exchange("127.0.0.1", self.port, build_query("a.tc.test.", flags=0x0110))
        self.assertEqual(header(ans)[1] & 0x0110, 0x0110)

    # ------------------------------------------------------------ modifiers

    def test_no_recurse_and_set_cd(self):
        self.resp.clear()
        ans = raw_exchange("127.0.0.1", self.port, build_query("a.norec.test.", flags=0x0100, qid=7), timeout=1)
        seen = self.resp.queries()[-1]
        self.assertEqual(seen[3], "a.norec.test.")
        self.assertFalse(seen[2] & dns.flags.RD, "the backend sees RD cleared")
        self.assertTrue(header(ans)[1] & 0x0100, "the client gets its RD back")
        self.assertEqual(header(ans)[0], 7)

        ans = raw_exchange("127.0.0.1", self.port, build_query("a.setcd.test.", flags=0x0100), timeout=1)
        seen = self.resp.queries()[-1]
        self.assertEqual(seen[3], "a.setcd.test.")
        self.assertTrue(seen[2] & dns.flags.CD, "the backend sees CD set")
        self.assertFalse(header(ans)[1] & 0x0010, "the client gets its CD (clear) back")

        # Other rules leave the bits alone.
        raw_exchange("127.0.0.1", self.port, build_query("b.allow.test.", flags=0x0100), timeout=1)
        seen = self.resp.queries()[-1]
        self.assertTrue(seen[2] & dns.flags.RD)
        self.assertFalse(seen[2] & dns.flags.CD)

    def test_tag_and_log(self):
        before = self.d.stats()
        r = self.q("x.tag.test.")
        self.assertEqual(r.rcode(), dns.rcode.NOERROR)
        self.q("y.log.test.")
        after = self.d.stats()
        self.assertEqual(after["tags"]["t1"] - before["tags"]["t1"], 1)
        self.assertEqual(after["tags"]["t2"] - before["tags"]["t2"], 1)
        self.assertEqual(after["rules"]["withtags"] - before["rules"]["withtags"], 1)
        log = self.d.log_text()
        self.assertRegex(log, r"query client=127\.0\.0\.1:\d+ qname=x\.tag\.test\. qtype=A rule=withtags action=pool "
                              r'outcome="forwarded" server=resp/127\.0\.0\.1:\d+ tags=t1,t2')
        self.assertRegex(log, r"qname=y\.log\.test\. qtype=A rule=logged action=refuse")
        self.assertNotIn("qname=www.quickstart.test.", log)  # only rules with `log`

    # ------------------------------------------------------------ IPv6

    def test_ipv6_client_and_backend(self):
        key = f"main6/[::1]:{self.nsd.port}"
        before = self.d.server_queries()
        r = query("::1", self.port, "a.six.who." + ZONE, "TXT", timeout=1)
        self.assertEqual(r.answer[0][0].strings, (b"nsd-a",))
        r = query("127.0.0.1", self.port, "b.six.who." + ZONE, "TXT", timeout=1)
        self.assertEqual(r.answer[0][0].strings, (b"nsd-a",))
        after = self.d.server_queries()
        self.assertEqual(after[key] - before[key], 2)
        # The client's own case comes back over IPv6 too.
        pkt = build_query("C.Six.WHO." + ZONE, qtype=16, qid=99)
        ans = raw_exchange("::1", self.port, pkt, timeout=1)
        self.assertEqual(ans[:2], pkt[:2])
        self.assertEqual(ans[12:len(pkt)], pkt[12:])

    # ------------------------------------------------------------ malformed queries

    def test_each_malformed_counter(self):
        def stats():
            r = run_dnspc("ctl", "--control", self.d.control, "stats")
            self.assertEqual(r.returncode, 0, r.stderr)
            return json.loads(r.stdout)

        good = build_query("www." + ZONE)
        qname = good[12:-4]
        packets = {
            "too_short": b"\x12\x34\x01\x00\x00",
            "not_a_query": build_query("www." + ZONE, flags=0x8100),
            "question_count": good[:4] + struct.pack("!H", 2) + good[6:],
            "label_too_long": good[:12] + b"\x41" + b"a" * 65 + b"\x00" + good[-4:],
            "name_too_long": good[:12] + (b"\x3f" + b"a" * 63) * 4 + b"\x00" + good[-4:],
            "bad_label_type": good[:12] + b"\x81abc\x00" + good[-4:],
            "compressed_question": good[:12] + b"\x03www\xc0\x0c" + good[-4:],
            "counts_past_end": good[:10] + struct.pack("!H", 1) + good[12:],
            "bad_opt": good[:10] + struct.pack("!H", 2) + qname + good[-4:]
            + (b"\0" + struct.pack("!HHBBHH", 41, 1232, 0, 0, 0, 0)) * 2,
            "oversized": good + b"\0" * 5000,
        }
        before = stats()
        for reason, pkt in packets.items():
            answer = raw_exchange("127.0.0.1", self.port, pkt, timeout=0.05 if reason != "question_count" else 1)
            if reason == "question_count":  # the one the sender is told of (RFC 8906): FORMERR
                self.assertIsNotNone(answer, reason)
                self.assertEqual(struct.unpack("!H", answer[2:4])[0] & 0xF, dns.rcode.FORMERR)
            else:
                self.assertIsNone(answer, reason)
        after = wait_for(lambda: stats(), lambda s: all(
            s["malformed"][r] - before["malformed"][r] >= 1 for r in packets), 3)
        for reason in packets:
            self.assertEqual(after["malformed"][reason] - before["malformed"][reason], 1, reason)
        self.assertEqual(after["queries"] - before["queries"], len(packets))
        # Still serving.
        self.assertEqual(self.q("www." + ZONE).rcode(), dns.rcode.NOERROR)


def wait_for(get, ok, timeout):
    deadline = time.monotonic() + timeout
    v = get()
    while not ok(v) and time.monotonic() < deadline:
        time.sleep(0.05)
        v = get()
    return v


class Acl(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.resp = Responder("resp")
        cls.addClassCleanup(cls.resp.close)

    def start(self, extra):
        d = Dnspc(self.work.path, f"""
listen 127.0.0.1:{{port}}, [::1]:{{port}};
control "{{control}}";
option workers 1;
acl ::1, 10.0.0.0/8;
{extra}
pool p {{ server {self.resp.server()} state up; }}
rule default: true => pool p;
""")
        self.addCleanup(d.stop)
        return d

    def test_refused_outside_the_acl(self):
        d = self.start("")
        r = query("127.0.0.1", d.port, "a.example.", timeout=1)
        self.assertEqual(r.rcode(), dns.rcode.REFUSED)
        self.assertEqual(r.question[0].name.to_text(), "a.example.")
        self.assertEqual(query("::1", d.port, "b.example.", timeout=1).rcode(), dns.rcode.NOERROR)
        s = d.stats()
        self.assertEqual((s["acl"]["refused"], s["acl"]["dropped"], s["forwarded"]), (1, 0, 1))

    def test_dropped_outside_the_acl(self):
        d = self.start("option acl_action drop;")
        with self.assertRaises(dns.exception.Timeout):
            query("127.0.0.1", d.port, "a.example.", timeout=0.3)
        self.assertEqual(query("::1", d.port, "b.example.", timeout=1).rcode(), dns.rcode.NOERROR)
        s = d.stats()
        self.assertEqual((s["acl"]["refused"], s["acl"]["dropped"]), (0, 1))


class Lifecycle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)

    def policy(self, body):
        p = self.work.path / f"p{time.monotonic_ns()}.dp"
        p.write_text(body)
        return str(p)

    def test_refuses_a_policy_with_errors_like_check(self):
        path = self.policy("listen 127.0.0.1:1;\npool p { server 127.0.0.1:2 weight 5000; }\nrule r: true => pool q;\n")
        check = run_dnspc("check", path)
        r = run_dnspc("run", path)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(check.returncode, 1)
        # The same diagnostics, rendered the same way.
        diag_lines = [l for l in check.stderr.splitlines() if l.startswith(path)]
        self.assertTrue(diag_lines)
        for line in diag_lines:
            self.assertIn(line, r.stderr)
        self.assertIn("the policy has errors; not started", r.stderr)

    def test_json_logs(self):
        resp = Responder("r")
        self.addCleanup(resp.close)
        d = Dnspc(self.work.path, f"""
listen 127.0.0.1:{{port}};
control "{{control}}";
option workers 1;
pool p {{ server {resp.server()} state up; }}
rule l: qname == "logme.example." => log tag "x" pool p;
rule default: true => pool p;
""", log_format="json")
        self.addCleanup(d.stop)
        query("127.0.0.1", d.port, "LogMe.example.", timeout=1)
        rc, _ = d.terminate()
        self.assertEqual(rc, 0)
        lines = [json.loads(l) for l in d.log_text().splitlines() if l.strip()]
        msgs = [l["msg"] for l in lines]
        self.assertIn("running", msgs)
        self.assertIn("stopped", msgs)
        q = next(l for l in lines if l["msg"] == "query")
        self.assertEqual((q["qname"], q["qtype"], q["rule"], q["action"], q["tags"]),
                         ("logme.example.", "A", "l", "pool", ["x"]))
        for l in lines:
            self.assertIn(l["level"], ("info", "warning", "error"))
            self.assertRegex(l["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

    def test_clean_shutdown_answers_what_is_in_flight(self):
        resp = Responder("slow")
        self.addCleanup(resp.close)
        resp.mode = "slow"
        resp.delay = 0.4
        d = Dnspc(self.work.path, f"""
listen 127.0.0.1:{{port}};
control "{{control}}";
option workers 2;
option udp_timeout 1s;
pool p {{ server {resp.server()} state up; }}
rule default: true => pool p;
""")
        self.addCleanup(d.stop)
        result = {}

        def ask():
            try:
                result["r"] = query("127.0.0.1", d.port, "inflight.example.", timeout=2)
            except Exception as e:  # noqa: BLE001
                result["e"] = e
        t = threading.Thread(target=ask)
        t.start()
        wait_for(lambda: resp.queries(), lambda q: len(q) > 0, 2)
        rc, took = d.terminate(signal.SIGTERM)
        t.join(3)
        self.assertEqual(rc, 0)
        self.assertIn("r", result, f"the query in flight was not answered: {result}")
        self.assertEqual(result["r"].answer[0][0].address, "192.0.2.99")
        self.assertLess(took, 1.5)
        self.assertFalse(os.path.exists(d.control), "the control socket is removed")

    def test_shutdown_is_bounded_by_the_timeout(self):
        resp = Responder("silent")
        self.addCleanup(resp.close)
        resp.mode = "silent"
        d = Dnspc(self.work.path, f"""
listen 127.0.0.1:{{port}};
control "{{control}}";
option workers 1;
option udp_timeout 300ms;
option timeout_answer servfail;
pool p {{ server {resp.server()} state up; }}
rule default: true => pool p;
""")
        self.addCleanup(d.stop)
        result = {}

        def ask():
            try:
                result["r"] = query("127.0.0.1", d.port, "lost.example.", timeout=2)
            except Exception as e:  # noqa: BLE001
                result["e"] = e
        t = threading.Thread(target=ask)
        t.start()
        wait_for(lambda: resp.queries(), lambda q: len(q) > 0, 2)
        rc, took = d.terminate(signal.SIGINT)
        t.join(3)
        self.assertEqual(rc, 0)
        self.assertLess(took, 1.5)
        self.assertEqual(result["r"].rcode(), dns.rcode.SERVFAIL)

    def test_refuses_a_busy_address(self):
        resp = Responder("r")
        self.addCleanup(resp.close)
        body = f"""
listen 127.0.0.1:{{port}};
control "{{control}}";
pool p {{ server {resp.server()} state up; }}
rule default: true => pool p;
"""
        d = Dnspc(self.work.path, body)
        self.addCleanup(d.stop)
        d2 = Dnspc(self.work.path, body, port=d.port, wait=False)
        self.addCleanup(d2.stop)
        d2.proc.popen.wait(timeout=5)
        self.assertEqual(d2.proc.popen.returncode, 3)
        self.assertIn("Address already in use", d2.log_text())

    def test_refuses_an_unusable_control_socket(self):
        # The start fails after the workers and their loops exist: they are
        # torn down cleanly (under ASan a leak would make the exit code 1).
        resp = Responder("r")
        self.addCleanup(resp.close)
        control = self.work.path / "no-such-dir" / "control.sock"
        d = Dnspc(self.work.path, f"""
listen 127.0.0.1:{{port}};
control "{control}";
option workers 2;
pool p {{ server {resp.server()} state up; }}
rule default: true => pool p;
""", wait=False)
        self.addCleanup(d.stop)
        d.proc.popen.wait(timeout=30)
        self.assertEqual(d.proc.popen.returncode, 3, d.log_text())
        self.assertIn(f"control socket {control}", d.log_text())
        self.assertIn(f"the folder {control.parent} does not exist", d.log_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
