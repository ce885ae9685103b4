#!/usr/bin/env python3
"""The soak (docs/reliability.md, "Soak"): `dnspc run` with two NSD backends,
the web server and the console, under load for a few minutes (--minutes N for
hours) while everything that can change does:

- UDP load from dnsperf (good names of several fates, --qps a second), a
  Python TCP client on one connection, a Python UDP checker whose every
  answer is compared with the zone, and malformed queries over UDP and TCP;
- one NSD backend killed and restarted every ~30 s;
- the policy reloaded every ~20 s (alternating a spoofed marker address);
- /api/v1/stats, /api/v1/servers, /metrics and the page polled;
- the console running showServers(), topQueries(5), stats().

At the end: dnspc still runs, its resident memory after the warm-up has no
slope worth the name, every checked answer was correct, and the counters add
up as docs/api.md says they do. Exits 0 when all of that holds, 1 otherwise,
printing a report either way.

    tests/soak/soak.py                     # 3 minutes against build/cli/dnspc
    DNSPC_BIN=... tests/soak/soak.py --minutes 120 --qps 20000
"""

import argparse
import base64
import json
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from harness import DNSPC, ZONE, Dnspc, Nsd, Workdir, build_query, dns, free_port, rss_kib  # noqa: E402

PASSWORD = "soak password, never used elsewhere"
API_KEY = "soak-api-key"
CONSOLE_KEY = bytes(range(32))
CHECK = 'check "quickstart.test." check_type SOA every 200ms timeout 200ms'
# What the zone (harness.Nsd) and the policy answer, for the checkers.
WWW_A, WWW_AAAA = "192.0.2.80", "2001:db8::80"
SPOOF_A = "192.0.2.1"
MARKERS = ("192.0.2.11", "192.0.2.12")


def policy(port_web, port_console, key_file, servers, marker):
    return f"""
listen 127.0.0.1:{{port}};
control "{{control}}";
web 127.0.0.1:{port_web};
console 127.0.0.1:{port_console};
option console_key_file "{key_file}";
option workers 2;
pool main {{ {" ".join(f"server {s.server()} {CHECK};" for s in servers)} }}
rule marker: qname suffix "marker.test." => spoof A {marker};
rule local: qname suffix "local.test." => spoof A {SPOOF_A};
rule refused: qname suffix "refused.test." => refuse;
rule dropped: qname suffix "dropped.test." => drop;
rule default: true => pool main;
"""


def hash_secret(secret):
    r = subprocess.run([DNSPC, "hash-password"], input=secret + "\n", capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


class Tally:
    """Counts shared by the client threads (a lock: they are few and slow)."""

    def __init__(self):
        self.lock = threading.RLock()
        self.counts = {}
        self.wrong = []  # (what, got) of answers that do not match the zone

    def add(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def bad(self, what, got):
        with self.lock:
            self.add("wrong")
            if len(self.wrong) < 20:
                self.wrong.append((what, got))


def expected(name, rdtype):
    """The right answer for one of the names the checkers send: (rcode, set of rdata text)."""
    if name.endswith("local.test."):
        return "NOERROR", {SPOOF_A} if rdtype == "A" else set()
    if name.endswith("refused.test."):
        return "REFUSED", set()
    if name.endswith("marker.test."):
        return "NOERROR", set(MARKERS)  # either policy may be in force
    if name == f"www.{ZONE}":
        return "NOERROR", {WWW_A} if rdtype == "A" else {WWW_AAAA}
    if name.endswith(f".who.{ZONE}"):
        return "NOERROR", {'"nsd-a"', '"nsd-b"'}
    raise ValueError(name)


CHECKED = [(f"www.{ZONE}", "A"), (f"www.{ZONE}", "AAAA"), ("x.local.test.", "A"), ("y.refused.test.", "A"),
           ("m.marker.test.", "A"), (f"c.who.{ZONE}", "TXT")]


def check_answer(tally, name, rdtype, msg):
    rcode, allowed = expected(name, rdtype)
    question = [(q.name.to_text().lower(), dns.rdatatype.to_text(q.rdtype)) for q in msg.question]
    if question != [(name.lower(), rdtype)]:
        tally.bad(f"{name} {rdtype}", f"an answer to {question}")
        return
    got_rcode = dns.rcode.to_text(msg.rcode())
    if got_rcode == "SERVFAIL" and name.endswith(ZONE):
        tally.add("servfail")  # a backend timed out (one is killed on purpose): counted, not wrong
        return
    rdata = {r.to_text() for rrset in msg.answer for r in rrset}
    if got_rcode != rcode or not rdata <= allowed or (allowed and not rdata and rdtype != "TXT"):
        tally.bad(f"{name} {rdtype}", f"{got_rcode} {sorted(rdata)}")
    elif name == "m.marker.test." and len(rdata) != 1:
        tally.bad(f"{name} {rdtype}", f"{got_rcode} {sorted(rdata)}")
    else:
        tally.add("correct")


def udp_checker(port, stop, tally):
    """Queries one at a time and checks every answer against the zone and the policy."""
    while not stop.is_set():
        name, rdtype = random.choice(CHECKED)
        q = dns.message.make_query(name, rdtype)
        try:
            msg = dns.query.udp(q, "127.0.0.1", port=port, timeout=1.0)
        except dns.exception.Timeout:
            tally.add("udp_check_timeout")
            continue
        tally.add("udp_checked")
        check_answer(tally, name, rdtype, msg)


def tcp_client(port, stop, tally, pipeline=20):
    """One TCP connection (reopened when closed), `pipeline` queries written at
    once, every answer read back and checked."""
    sock = None
    while not stop.is_set():
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", port), timeout=3)
                tally.add("tcp_connections")
            batch = {}
            out = b""
            while len(batch) < pipeline:
                name, rdtype = random.choice(CHECKED)
                q = dns.message.make_query(name, rdtype)
                if q.id in batch:  # answers are matched by ID: unique within a batch
                    continue
                batch[q.id] = (name, rdtype)
                wire = q.to_wire()
                out += struct.pack("!H", len(wire)) + wire
            sock.sendall(out)
            tally.add("tcp_sent", len(batch))
            f = sock.makefile("rb")
            for _ in range(len(batch)):
                size = struct.unpack("!H", f.read(2))[0]
                msg = dns.message.from_wire(f.read(size))
                name, rdtype = batch.pop(msg.id)
                tally.add("tcp_answered")
                check_answer(tally, name, rdtype, msg)
        except (OSError, struct.error, KeyError) as e:  # dnspc closes after N queries (tcp.closed)
            # struct.error: a short read, dnspc closed the connection (its per-connection query limit).
            tally.add(f"tcp_error {'closed by dnspc' if isinstance(e, struct.error) else type(e).__name__}")
            if sock:
                sock.close()
            sock = None
            time.sleep(0.1)
    if sock:
        sock.close()


def malformed(port, stop, tally):
    """Garbage over UDP (too short, QR set, two questions, a bad label, random
    bytes) and a TCP connection that sends a bad length prefix and garbage."""
    good = build_query("www." + ZONE)
    shapes = [
        b"\x12",
        bytearray(good[:2]) + b"\x81\x00" + good[4:],  # QR set
        good[:4] + b"\x00\x02" + good[6:],  # QDCOUNT 2
        good[:12] + b"\x50" + b"a" * 80 + b"\x00\x00\x01\x00\x01",  # label length 80
    ]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = 0
    while not stop.is_set():
        for s in shapes + [os.urandom(random.randint(1, 600))]:
            udp.sendto(bytes(s), ("127.0.0.1", port))
            tally.add("malformed_udp")
        n += 1
        if n % 50 == 0:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as t:
                    t.sendall(struct.pack("!H", 3) + b"abc" + struct.pack("!H", 4000) + os.urandom(100))
                    tally.add("malformed_tcp")
            except OSError:
                tally.add("malformed_tcp_refused")
        time.sleep(0.01)
    udp.close()


def dnsperf(port, seconds, qps, tally):
    """UDP load of every fate: forwarded (A, AAAA, TXT), spoofed, refused, dropped."""
    lines = [f"www.{ZONE} A", f"www.{ZONE} AAAA", f"p.who.{ZONE} TXT", "p.local.test. A", "p.refused.test. A",
             "p.marker.test. A"] * 20 + ["p.dropped.test. A"]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    argv = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", f.name, "-c", "8", "-q", "200", "-l",
            str(int(seconds)), "-Q", str(qps), "-t", "2"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120).stdout
    os.unlink(f.name)
    tally.counts["dnsperf"] = out
    return out


def every(seconds, stop, fn, tally, name):
    while not stop.wait(seconds):
        try:
            fn()
            tally.add(name)
        except Exception as e:  # noqa: BLE001 (a failure is reported, not fatal to the soak)
            tally.bad(name, repr(e)[:300])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--qps", type=int, default=20000, help="dnsperf's UDP rate")
    ap.add_argument("--warmup", type=float, default=0.25, help="share of the run before RSS counts")
    ap.add_argument("--max-growth-kib", type=int, default=8192,
                    help="largest RSS growth allowed after the warm-up (fitted line, KiB)")
    args = ap.parse_args()
    seconds = args.minutes * 60

    work = Workdir()
    nsd_a = Nsd(work.path, "nsd-a").start()
    nsd_b = Nsd(work.path, "nsd-b").start()
    key_file = work.path / "console.key"
    key_file.write_text(base64.b64encode(CONSOLE_KEY).decode() + "\n")
    key_file.chmod(0o600)
    web_port, console_port = free_port(), free_port()
    env = {"DNSPC_WEB_PASSWORD": hash_secret(PASSWORD), "DNSPC_WEB_API_KEY": hash_secret(API_KEY)}
    policies = [work.path / f"p{i}.dp" for i in range(2)]
    d = Dnspc(work.path, policy(web_port, console_port, key_file, [nsd_a, nsd_b], MARKERS[0]), env=env)
    for i, p in enumerate(policies):
        p.write_text(policy(web_port, console_port, key_file, [nsd_a, nsd_b], MARKERS[i])
                     .replace("{port}", str(d.port)).replace("{control}", d.control))
    pid = d.proc.pid
    print(f"soak: {args.minutes:g} min, dnspc {DNSPC} pid {pid}, port {d.port}, web {web_port}, "
          f"console {console_port}, dnsperf {args.qps} qps", flush=True)

    tally = Tally()
    stop = threading.Event()
    rss = []  # (seconds since start, KiB)
    t0 = time.monotonic()

    def sample_rss():
        rss.append((time.monotonic() - t0, rss_kib(pid)))

    reloads = [0]

    def reload():
        reloads[0] += 1
        r = subprocess.run([DNSPC, "reload", "--control", d.control, str(policies[reloads[0] % 2])],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr

    def get(path, password=False):
        # The page takes the password (HTTP Basic), the API and /metrics the key too.
        auth = ({"Authorization": "Basic " + base64.b64encode(f"soak:{PASSWORD}".encode()).decode()} if password
                else {"X-API-Key": API_KEY})
        req = urllib.request.Request(f"http://127.0.0.1:{web_port}{path}", headers=auth)
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    def poll_web():
        json.loads(get("/api/v1/stats"))
        json.loads(get("/api/v1/servers"))
        metrics = get("/metrics")
        assert b"# TYPE" in metrics, metrics[:200]

    def poll_page():
        assert b"<html" in get("/", password=True).lower()

    def console():
        for code in ("showServers()", "topQueries(5)", "stats()"):
            r = subprocess.run([DNSPC, "console", "--host", f"127.0.0.1:{console_port}", "--key-file",
                                str(key_file), "-e", code], capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, f"{code}: {r.stdout}{r.stderr}"

    def chaos():
        # Kill NSD b (SIGKILL of its group), leave it down 10 s, start it again on its port.
        nsd_b.kill()
        tally.add("backend_killed")
        if stop.wait(10):
            nsd_b.start()
            return
        nsd_b.start()

    threads = [
        threading.Thread(target=udp_checker, args=(d.port, stop, tally)),
        threading.Thread(target=tcp_client, args=(d.port, stop, tally)),
        threading.Thread(target=malformed, args=(d.port, stop, tally)),
        threading.Thread(target=every, args=(1, stop, sample_rss, tally, "rss_samples")),
        threading.Thread(target=every, args=(20, stop, reload, tally, "reloads")),
        threading.Thread(target=every, args=(1, stop, poll_web, tally, "web_polls")),
        threading.Thread(target=every, args=(10, stop, poll_page, tally, "page_polls")),
        threading.Thread(target=every, args=(5, stop, console, tally, "console_runs")),
        threading.Thread(target=every, args=(20, stop, chaos, tally, "chaos_rounds")),
    ]
    for t in threads:
        t.start()
    perf = dnsperf(d.port, seconds, args.qps, tally)
    stop.set()
    for t in threads:
        t.join()
    time.sleep(3)  # every forwarded query answered or timed out

    failures = []
    alive = d.proc.alive()
    if not alive:
        failures.append(f"dnspc exited: {d.log_text()[-2000:]}")
    s = json.loads(get("/api/v1/stats")) if alive else {}
    d.stop()
    nsd_a.kill()
    nsd_b.kill()

    # Memory: a least-squares line through the samples after the warm-up, and
    # one through the lowest sample of each 20 s (one reload period: a reload
    # compiles a policy, a transient peak that is given back). The second is
    # what is judged: it is the baseline a leak would raise.
    def fit(points):
        if len(points) < 2:
            return 0.0, 0.0
        n = len(points)
        mt = sum(t for t, _ in points) / n
        mk = sum(k for _, k in points) / n
        var = sum((t - mt) ** 2 for t, _ in points)
        slope = sum((t - mt) * (k - mk) for t, k in points) / var if var else 0.0  # KiB a second
        return slope, slope * (points[-1][0] - points[0][0])

    after = [(t, k) for t, k in rss if t >= seconds * args.warmup]
    slope, growth = fit(after)
    windows = {}
    for t, k in after:
        w = int(t // 20)
        windows[w] = min(windows.get(w, (t, k)), (t, k), key=lambda p: p[1])
    base_slope, base_growth = fit(sorted(windows.values()))
    if base_growth > args.max_growth_kib:
        failures.append(f"baseline RSS grew {base_growth:.0f} KiB after the warm-up "
                        f"(slope {base_slope * 60:.1f} KiB/min)")

    c = tally.counts
    if c.get("wrong"):
        failures.append(f"{c['wrong']} wrong answers or failed steps, first ones: {tally.wrong}")
    if not c.get("correct"):
        failures.append("no answer was checked")

    balance = {}
    if s:
        # docs/api.md, "How the numbers add up", with the two answers made
        # here for queries counted elsewhere: FORMERR to a query without one
        # question (also counted malformed), SERVFAIL to a TCP query whose
        # backend connection failed (also counted forwarded).
        relayed = s["backend_answers"]["accepted"]
        servfail_made = s["timeouts"]["servfail"] + s["tcp"]["backend"]["servfail"]
        formerr = s["protocol"]["formerr_no_question"]
        local = s["answers"] - relayed - servfail_made
        dropped = (s["acl"]["dropped"] + sum(s["malformed"].values()) - formerr + s["actions"]["drop"] +
                   s["no_server"]["dropped"] + s["no_free_id"])
        outstanding = sum(v["outstanding"] for v in s["servers"].values())
        timeouts = s["timeouts"]["total"]
        tcp_failed = s["tcp"]["backend"]["servfail"]
        balance = {"queries": s["queries"], "local_answers": local, "forwarded": s["forwarded"], "dropped": dropped,
                   "relayed": relayed, "timeouts": timeouts, "tcp_backend_servfail": tcp_failed,
                   "outstanding": outstanding, "malformed": sum(s["malformed"].values()), "formerr": formerr}
        if s["queries"] != local + s["forwarded"] + dropped:
            failures.append(f"queries {s['queries']} != local {local} + forwarded {s['forwarded']} + "
                            f"dropped {dropped}")
        if s["forwarded"] != relayed + timeouts + tcp_failed + outstanding:
            failures.append(f"forwarded {s['forwarded']} != relayed {relayed} + timeouts {timeouts} + "
                            f"TCP backend failures {tcp_failed} + outstanding {outstanding}")

    perf_lines = [ln.strip() for ln in perf.splitlines() if ln.strip().startswith(("Queries", "Response codes"))]
    report = {
        "minutes": args.minutes, "dnspc_alive": alive, "reloads": c.get("reloads", 0),
        "backend_kills": c.get("backend_killed", 0), "web_polls": c.get("web_polls", 0), "page_polls": c.get("page_polls", 0),
        "console_runs": c.get("console_runs", 0),
        "checked_answers": {"correct": c.get("correct", 0), "wrong": c.get("wrong", 0),
                            "servfail_during_kills": c.get("servfail", 0),
                            "udp_timeouts": c.get("udp_check_timeout", 0), "tcp_answered": c.get("tcp_answered", 0),
                            "tcp_reconnects": {k[10:]: v for k, v in c.items() if k.startswith("tcp_error ")}},
        "malformed_sent": {"udp": c.get("malformed_udp", 0), "tcp": c.get("malformed_tcp", 0)},
        "rss_kib": {"first": rss[0][1] if rss else 0, "after_warmup": after[0][1] if after else 0,
                    "last": rss[-1][1] if rss else 0, "max": max((k for _, k in rss), default=0),
                    "slope_kib_per_min": round(slope * 60, 1), "fitted_growth_kib": round(growth),
                    "baseline_slope_kib_per_min": round(base_slope * 60, 1),
                    "baseline_growth_kib": round(base_growth), "windows": len(windows)},
        "counters": balance, "dnsperf": perf_lines,
    }
    if failures and s:
        report["stats"] = s
    print(json.dumps(report, indent=1))
    work.cleanup()
    if failures:
        print("SOAK FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("SOAK PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
