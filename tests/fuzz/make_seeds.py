#!/usr/bin/env python3
"""Writes the seed corpora of the backend_answer, packet_cache, tcp_framing
and regex_dfa fuzz targets (committed; rerun after changing this script).
Queries are the real dig packets of tests/fixtures/queries; answers are
laid out as NSD sends them for those queries (compression pointers, SOA in
NXDOMAIN, OPT with a cookie, TC=1, an error without question)."""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "fixtures", "queries")


def queries():
    for name in sorted(os.listdir(fixtures)):
        with open(os.path.join(fixtures, name)) as f:
            yield name[:-4], bytes.fromhex(f.read().strip())


def question_end(q):
    off = 12
    while q[off]:
        off += 1 + q[off]
    return off + 5


def answers(q):
    qid, flags = struct.unpack("!HH", q[:4])
    question = q[12:question_end(q)]
    qtype = struct.unpack("!H", question[-4:-2])[0]
    rd = flags & 0x0100
    opt_cookie = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 28) + struct.pack("!HH", 10, 24) + bytes(range(24))
    opt = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)

    def hdr(fl, an, ns, ar, qd=1):
        return struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | fl, qd, an, ns, ar)

    a_rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 3600, 4) + bytes([192, 0, 2, 1])
    aaaa_rr = b"\xc0\x0c" + struct.pack("!HHIH", 28, 1, 300, 16) + bytes(16)
    cname = b"\x03cdn\x07example\x03net\x00"
    cname_rr = b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 60, len(cname)) + cname
    a_after = b"\xc0" + bytes([12 + len(question) + 12]) + struct.pack("!HHIH", 1, 1, 20, 4) + bytes([198, 51, 100, 7])
    soa_rdata = b"\x02ns\xc0\x0c\x0ahostmaster\xc0\x0c" + struct.pack("!IIIII", 2026120401, 3600, 900, 604800, 300)
    soa_rr = b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 3600, len(soa_rdata)) + soa_rdata
    yield "a", hdr(0, 1, 0, 1) + question + (aaaa_rr if qtype == 28 else a_rr) + opt_cookie
    yield "cname", hdr(0, 2, 0, 0) + question + cname_rr + a_after
    yield "nxdomain", hdr(3, 0, 1, 1) + question + soa_rr + opt
    yield "nodata", hdr(0, 0, 1, 0) + question + soa_rr
    yield "servfail", hdr(2, 0, 0, 1) + question + opt
    yield "truncated", hdr(0x0200, 0, 0, 0) + question
    yield "notimp_noquestion", hdr(4, 0, 0, 0, qd=0)
    many = b"".join(b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 7200, 201) + b"\xc8" + bytes(200) for _ in range(4))
    yield "large_txt", hdr(0, 4, 0, 0) + question + many


def write(folder, name, data):
    os.makedirs(os.path.join(here, folder), exist_ok=True)
    with open(os.path.join(here, folder, name), "wb") as f:
        f.write(data)


for qname, q in queries():
    for aname, a in answers(q):
        write("corpus_answer", f"{qname}_{aname}", bytes([0]) + struct.pack("!H", len(q)) + q + a)

# TCP: a size byte count, read sizes, then framed queries (several per stream,
# a zero-length message, a short one, a partial one at the end).
qs = [q for _, q in queries()]
frame = lambda m: struct.pack("!H", len(m)) + m
write("corpus_tcp", "one_query", bytes([0, 0]) + frame(qs[0]))
write("corpus_tcp", "pipelined_bytewise", bytes([0, 1]) + b"".join(frame(q) for q in qs))
write("corpus_tcp", "pipelined_paused", bytes([2, 0x43, 0x05, 0x40]) + b"".join(frame(q) for q in qs))
write("corpus_tcp", "short_and_empty", bytes([1, 3, 7]) + frame(b"") + frame(b"\x01\x02") + frame(qs[1]))
write("corpus_tcp", "partial_tail", bytes([0, 0]) + frame(qs[2]) + struct.pack("!H", 300) + qs[3])
write("corpus_tcp", "large_message", bytes([1, 0x80, 0x3f]) + frame(bytes(65535)) + frame(qs[4]))

regexes = [
    r"^[a-z0-9]{16,}\.example\.com\.$", r"^www(?=\.example)\.example\.com\.$", r"^(a+)\1\.example\.$",
    r"[a-z]{20}", r"^x0y[0-9]+\.", r"(foo|bar|baz)+\.(com|net)\.$", r"^[^.]{30,63}\.", r"\bevil\b",
    r"^(?i:MiXeD)\.", r"^.{1,3}$", r"(a|aa)*b", r"[\x00-\x1f]", r"^_[a-z]+\._(tcp|udp)\.",
]
for i, r in enumerate(regexes):
    write("corpus_regex", f"r{i:02d}", bytes([4]) + r.encode() + b"\x00" + b"www.Example.com.")
write("corpus_regex", "budget_small", bytes([1]) + b"(a|b)*a(a|b){12}\x00abababababababab")
