#!/usr/bin/env python3
"""Queries that are not a plain standard query, and answers that do not fit:
NOTIFY and UPDATE go through the rules and are forwarded (the backend's
answer comes back); opcodes nobody behind us implements get NOTIMP; a query
without a question gets FORMERR (with EDNS when it had an OPT), over UDP and
TCP; a QR=1 packet stays unanswered; our own answers set RA only when the
client set RD; a backend answer larger than the client's payload size is
sent as TC=1."""

import socket
import struct
import unittest

from harness import Dnspc, Nsd, Responder, Workdir, ZONE, build_query, dns, query, raw_exchange

POLICY = """
listen 127.0.0.1:{port};
control "{control}";
option workers 1;
pool main { server NSD; }
pool big { server RESP; }
rule notify_refused: opcode == NOTIFY and qname suffix "refused.test." => refuse;
rule refused: qname suffix "refuse.test." => refuse;
rule big: qname suffix "big.test." => pool big;
rule default: true => pool main;
"""


def header(packet):
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", packet[:12])
    return {"id": qid, "qr": flags >> 15, "opcode": (flags >> 11) & 0xF, "tc": (flags >> 9) & 1,
            "rd": (flags >> 8) & 1, "ra": (flags >> 7) & 1, "rcode": flags & 0xF, "qd": qd, "an": an, "ar": ar}


def with_opcode(name, opcode, qtype=6, flags=0):
    return build_query(name, qtype=qtype, flags=flags | (opcode << 11))


def no_question(qid, edns=False):
    out = struct.pack("!HHHHHH", qid, 0x0100, 0, 0, 0, 1 if edns else 0)
    if edns:
        out += b"\0" + struct.pack("!HHBBHH", 41, 1232, 0, 0, 0, 0)
    return out


def tcp_exchange(port, packet, timeout=2.0):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(struct.pack("!H", len(packet)) + packet)
        length = struct.unpack("!H", s.recv(2, socket.MSG_WAITALL))[0]
        return s.recv(length, socket.MSG_WAITALL)


class ProtocolEdges(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.nsd = Nsd(cls.work.path, "nsd").start()
        cls.addClassCleanup(cls.nsd.kill)
        cls.resp = Responder("big")
        cls.resp.mode = "oversize"
        cls.addClassCleanup(cls.resp.close)
        cls.d = Dnspc(cls.work.path, POLICY.replace("NSD", cls.nsd.server()).replace("RESP", cls.resp.server()))
        cls.addClassCleanup(cls.d.stop)

    def stats(self):
        return self.d.stats()

    def test_notify_and_update_are_forwarded_and_answered(self):
        for opcode in (4, 5):  # NOTIFY, UPDATE
            packet = with_opcode(ZONE, opcode)
            direct = raw_exchange("127.0.0.1", self.nsd.port, packet, timeout=2)
            self.assertIsNotNone(direct, f"NSD itself answers opcode {opcode}")
            via = raw_exchange("127.0.0.1", self.d.port, packet, timeout=2)
            self.assertIsNotNone(via, f"opcode {opcode} went unanswered")
            h, want = header(via), header(direct)
            self.assertEqual((h["id"], h["qr"], h["opcode"], h["rcode"]),
                             (want["id"], 1, opcode, want["rcode"]), f"opcode {opcode}")

    def test_rules_see_the_opcode(self):
        via = raw_exchange("127.0.0.1", self.d.port, with_opcode("x.refused.test.", 4), timeout=2)
        self.assertIsNotNone(via)
        self.assertEqual(header(via)["rcode"], dns.rcode.REFUSED)
        self.assertEqual(header(via)["opcode"], 4)

    def test_unimplemented_opcodes_get_notimp(self):
        before = self.stats()["backend_answers"]["accepted"]
        notimp = self.stats()["protocol"]["notimp_opcode"]
        for opcode in (1, 2, 3, 6, 15):
            packet = with_opcode("www." + ZONE, opcode)
            via = raw_exchange("127.0.0.1", self.d.port, packet, timeout=2)
            self.assertIsNotNone(via, f"opcode {opcode} went unanswered")
            h = header(via)
            self.assertEqual((h["qr"], h["opcode"], h["rcode"], h["qd"]), (1, opcode, dns.rcode.NOTIMP, 1))
        self.assertEqual(self.stats()["backend_answers"]["accepted"], before)  # answered here, not forwarded
        self.assertEqual(self.stats()["protocol"]["notimp_opcode"], notimp + 5)

    def test_no_question_gets_formerr(self):
        plain = raw_exchange("127.0.0.1", self.d.port, no_question(0x1111), timeout=2)
        self.assertIsNotNone(plain)
        h = header(plain)
        self.assertEqual((h["id"], h["qr"], h["rcode"], h["qd"], h["ar"]), (0x1111, 1, dns.rcode.FORMERR, 0, 0))
        self.assertEqual(len(plain), 12)
        edns = raw_exchange("127.0.0.1", self.d.port, no_question(0x2222, edns=True), timeout=2)
        h = header(edns)
        self.assertEqual((h["id"], h["rcode"], h["qd"], h["ar"]), (0x2222, dns.rcode.FORMERR, 0, 1))
        self.assertEqual(struct.unpack("!H", edns[13:15])[0], 41)  # our OPT
        over_tcp = tcp_exchange(self.d.port, no_question(0x3333))
        self.assertEqual(header(over_tcp)["rcode"], dns.rcode.FORMERR)
        s = self.stats()
        self.assertGreaterEqual(s["malformed"]["question_count"], 3)
        self.assertGreaterEqual(s["protocol"]["formerr_no_question"], 3)

    def test_a_response_packet_is_not_answered(self):
        before = self.stats()["malformed"]["not_a_query"]
        self.assertIsNone(raw_exchange("127.0.0.1", self.d.port, build_query("www." + ZONE, flags=0x8100), 0.5))
        self.assertEqual(self.stats()["malformed"]["not_a_query"], before + 1)

    def test_ra_follows_rd_in_our_own_answers(self):
        for rd in (0, 1):
            answer = raw_exchange("127.0.0.1", self.d.port, build_query("a.refuse.test.", flags=rd << 8), timeout=2)
            h = header(answer)
            self.assertEqual((h["rcode"], h["rd"], h["ra"]), (dns.rcode.REFUSED, rd, rd))

    def test_answers_over_the_clients_payload_size_are_truncated(self):
        before = self.stats()["backend_answers"]["truncated_for_client"]
        for edns, limit in (((1232, 0, False), 1232), (None, 512)):
            answer = raw_exchange("127.0.0.1", self.d.port, build_query("x.big.test.", qtype=16, edns=edns), timeout=2)
            self.assertIsNotNone(answer)
            self.assertLessEqual(len(answer), limit)
            h = header(answer)
            self.assertEqual((h["tc"], h["an"], h["qd"]), (1, 0, 1))
        # A client that can take it gets it whole.
        full = raw_exchange("127.0.0.1", self.d.port, build_query("y.big.test.", qtype=16, edns=(8192, 0, False)), 2)
        self.assertGreater(len(full), 4000)
        self.assertEqual(header(full)["tc"], 0)
        self.assertEqual(self.stats()["backend_answers"]["truncated_for_client"], before + 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
