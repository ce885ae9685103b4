"""Shared pieces of the integration tests: real processes on loopback.

- free_port(): a port free for UDP and TCP on 127.0.0.1 and ::1.
- Nsd: an NSD server on its own port (127.0.0.1 and ::1), in its own process
  group, so SIGSTOP of the group makes it silent (NSD forks its servers).
- Responder: a small DNS server of ours, in a thread of the test process,
  for what a real server will not do on demand (wrong ID, wrong name, answers
  from another port, forged answers, silence, slowness); it records every
  query it sees.
- Dnspc: `dnspc run` on a policy text, with its control socket, stderr
  captured to a file, and extra environment variables if given.

Every process is started in its own session and killed as a group on the
way out (unittest cleanups, plus atexit as a last resort). Every wait is
bounded.
"""

import atexit
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

try:
    import dns.message  # noqa: F401
except ImportError:  # a Python without python3-dnspython: use Debian's copy (pure Python)
    sys.path.append("/usr/lib/python3/dist-packages")
import dns.edns  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rrset  # noqa: E402

DNSPC = os.environ.get("DNSPC_BIN") or str(Path(__file__).resolve().parents[2] / "build" / "cli" / "dnspc")
START_TIMEOUT = float(os.environ.get("DNSPC_START_TIMEOUT", "10"))  # longer under valgrind
# Set by CMake when dnspc is built with a sanitizer (docs/reliability.md,
# "Sanitizers"): "address" (ASan+UBSan) or "thread" (TSan). The few tests
# whose verdict a sanitizer skews (resident memory) skip, saying why; a
# sanitized dnspc checks for leaks on its way out, which takes longer.
SANITIZER = os.environ.get("DNSPC_SANITIZED", "")
SANITIZED = bool(SANITIZER)
STOP_TIMEOUT = 30.0 if SANITIZED else 5.0

_live = []  # processes to kill at exit whatever happens


def _kill_all():
    for p in list(_live):
        p.kill()


atexit.register(_kill_all)


def free_port(taken=set()):  # noqa: B006 (shared on purpose: never hand out a port twice)
    """A port free for UDP and TCP on 127.0.0.1 and ::1."""
    for _ in range(500):
        port = random.randint(20000, 60000)
        if port in taken:
            continue
        ok = True
        for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(fam, kind)
                try:
                    s.bind((host, port))
                except OSError:
                    ok = False
                finally:
                    s.close()
        if ok:
            taken.add(port)
            return port
    raise RuntimeError("no free port")


def wait_until(predicate, timeout, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Proc:
    """A process in its own session; stop() kills the whole group."""

    def __init__(self, name, argv, log_path, env=None):
        self.name = name
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "wb")
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                      start_new_session=True, env=env)
        self.pgid = self.popen.pid
        _live.append(self)

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def signal_group(self, sig):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, sig)

    def kill(self):
        self.signal_group(signal.SIGCONT)
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=STOP_TIMEOUT)
        self._log.close()
        if self in _live:
            _live.remove(self)

    def log_text(self):
        self._log.flush()
        return self.log_path.read_text(errors="replace")


# ---------------------------------------------------------------- NSD

ZONE = "quickstart.test."


class Nsd:
    """NSD serving ZONE on 127.0.0.1@port and ::1@port. Each instance says who
    it is: whoami.ZONE and *.who.ZONE answer TXT "<name>"."""

    def __init__(self, workdir, name, port=None, extra_records=()):
        self.name = name
        self.extra_records = list(extra_records)  # zone-file lines added to the zone
        self.port = port or free_port()
        self.dir = Path(workdir) / f"nsd-{name}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = None

    def write_config(self):
        zone = "\n".join([
            f"$ORIGIN {ZONE}", "$TTL 300",
            f"@ IN SOA ns.{ZONE} admin.{ZONE} 1 3600 600 86400 300", "@ IN NS ns",
            "ns IN A 192.0.2.53", "www IN A 192.0.2.80", "www IN AAAA 2001:db8::80",
            f'whoami IN TXT "{self.name}"', f'*.who IN TXT "{self.name}"',
            *self.extra_records,
        ]) + "\n"
        (self.dir / "zone").write_text(zone)
        (self.dir / "nsd.conf").write_text(f"""server:
  server-count: 1
  ip-address: 127.0.0.1@{self.port}
  ip-address: ::1@{self.port}
  username: ""
  chroot: ""
  database: ""
  zonesdir: "{self.dir}"
  pidfile: "{self.dir}/nsd.pid"
  xfrdfile: "{self.dir}/xfrd.state"
  zonelistfile: "{self.dir}/zone.list"
  logfile: "{self.dir}/nsd.log"
  verbosity: 0
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: {ZONE}
  zonefile: zone
""")

    def start(self):
        self.write_config()
        self.proc = Proc(f"nsd-{self.name}", ["nsd", "-d", "-c", str(self.dir / "nsd.conf")], self.dir / "out.log")
        wait_until(lambda: self.answers(), START_TIMEOUT, 0.05, f"NSD {self.name} to answer")
        return self

    def answers(self, host="127.0.0.1"):
        try:
            return who(host, self.port, timeout=0.3) == self.name
        except Exception:  # noqa: BLE001 (not up yet)
            return False

    def stop_signal(self):  # silent: the whole group stops
        self.proc.signal_group(signal.SIGSTOP)

    def cont(self):
        self.proc.signal_group(signal.SIGCONT)

    def kill(self):
        if self.proc:
            self.proc.kill()
            self.proc = None

    def server(self, host="127.0.0.1"):
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"


# ---------------------------------------------------------------- DNS client helpers


def query(host, port, name, rdtype="A", timeout=1.0, **kw):
    """One UDP query with dnspython; returns the response message (raises on timeout)."""
    q = dns.message.make_query(name, rdtype, **kw)
    return dns.query.udp(q, host, port=port, timeout=timeout)


def who(host, port, timeout=1.0, name=None):
    """The TXT text of whoami (or NAME) through host:port, or None when no answer."""
    try:
        r = query(host, port, name or ("whoami." + ZONE), "TXT", timeout=timeout)
    except dns.exception.Timeout:
        return None
    for rrset in r.answer:
        for rd in rrset:
            return b"".join(rd.strings).decode()
    return None


def raw_exchange(host, port, packet, timeout=0.5):
    """Sends raw bytes over UDP; returns the answer bytes or None."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(packet, (host, port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


BIG_TXT = "big IN TXT " + " ".join(f'"{"x" * 200}-{i}"' for i in range(6))  # too large for 512 bytes


def build_query(name, qtype=1, qid=None, flags=0x0100, qclass=1, edns=None):
    """Raw query bytes: name as given (case kept), EDNS as (payload, version, do) or None."""
    qid = random.randrange(65536) if qid is None else qid
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".") if l) + b"\0"
    arcount = 1 if edns else 0
    out = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, arcount) + wire + struct.pack("!HH", qtype, qclass)
    if edns:
        payload, version, do = edns
        out += b"\0" + struct.pack("!HHBBHH", 41, payload, 0, version, 0x8000 if do else 0, 0)
    return out


# ---------------------------------------------------------------- our responder


class Responder:
    """A DNS server in a thread: answers A queries with `address` (TXT with its
    name), records (source port, ID, flags, qname) of every query, and can
    misbehave: mode is one of
      normal       answer properly
      silent       never answer
      slow         answer after `delay` seconds
      wrong_id     answer with another ID
      wrong_name   answer with another question name
      wrong_type   answer with another qtype
      other_port   answer from another socket (other source port)
      forge        first send `forge_count` answers with random IDs, then the real one
      servfail     answer SERVFAIL
      oversize     answer with about 4.9 KB of TXT whatever the query's payload size
    """

    def __init__(self, name="resp", host="127.0.0.1", address="192.0.2.99"):
        self.name = name
        self.host = host
        self.address = address
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.other = socket.socket(fam, socket.SOCK_DGRAM)
        self.other.bind((host, 0))
        self.sock.settimeout(0.1)
        self.mode = "normal"
        self.delay = 0.5
        self.forge_count = 20
        self.seen = []  # (port, id, flags, qname, qtype)
        self._lock = threading.Lock()
        self._stop = False
        self._timers = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def server(self):
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def close(self):
        self._stop = True
        self.thread.join(timeout=2)
        for t in self._timers:
            t.cancel()
        self.sock.close()
        self.other.close()

    def queries(self):
        with self._lock:
            return list(self.seen)

    def clear(self):
        with self._lock:
            self.seen.clear()

    def _answer(self, q):
        r = dns.message.make_response(q)
        qname = q.question[0].name
        qtype = q.question[0].rdtype
        if qtype == dns.rdatatype.A:
            r.answer.append(dns.rrset.from_text(qname, 60, "IN", "A", self.address))
        elif qtype == dns.rdatatype.TXT:
            r.answer.append(dns.rrset.from_text(qname, 60, "IN", "TXT", f'"{self.name}"'))
        return r

    def _run(self):
        while not self._stop:
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                q = dns.message.from_wire(data)
            except Exception:  # noqa: BLE001
                continue
            with self._lock:
                self.seen.append((peer[1], q.id, q.flags, q.question[0].name.to_text(), q.question[0].rdtype))
            mode = self.mode
            if mode == "silent":
                continue
            r = self._answer(q)
            if mode == "servfail":
                r.set_rcode(dns.rcode.SERVFAIL)
                r.answer = []
            if mode == "oversize":
                strings = " ".join(f'"{"y" * 200}-{i}"' for i in range(24))
                r.answer = [dns.rrset.from_text(q.question[0].name, 60, "IN", "TXT", strings)]
            if mode == "wrong_id":
                r.id = (q.id + 1) % 65536
            elif mode == "wrong_name":
                r.question = [dns.rrset.RRset(dns.name.from_text("other." + q.question[0].name.to_text()),
                                              dns.rdataclass.IN, q.question[0].rdtype)]
                r.answer = []
            elif mode == "wrong_type":
                r.question = [dns.rrset.RRset(q.question[0].name, dns.rdataclass.IN, dns.rdatatype.MX)]
                r.answer = []
            wire = r.to_wire(max_size=65535)  # oversize: past the query's payload size on purpose
            if mode == "other_port":
                self.other.sendto(wire, peer)
            elif mode == "forge":
                for _ in range(self.forge_count):
                    forged = dns.message.make_response(q)
                    forged.id = random.randrange(65536)
                    if forged.id == q.id:
                        continue
                    forged.answer.append(dns.rrset.from_text(q.question[0].name, 60, "IN", "A", "203.0.113.66"))
                    self.sock.sendto(forged.to_wire(), peer)
                self.sock.sendto(wire, peer)
            elif mode == "slow":
                t = threading.Timer(self.delay, self._send_late, (wire, peer))
                self._timers.append(t)
                t.start()
            else:
                self.sock.sendto(wire, peer)

    def _send_late(self, wire, peer):
        with contextlib.suppress(OSError):
            self.sock.sendto(wire, peer)


# ---------------------------------------------------------------- dnspc


class Dnspc:
    """`dnspc run` on a policy text. The text may use {port} (the listener
    port, also on ::1) and {control} (the control socket path)."""

    count = 0

    def __init__(self, workdir, policy, extra_args=(), port=None, wait=True, log_format=None, env=None, wrapper=()):
        self.workdir = Path(workdir)
        self.port = port or free_port()
        Dnspc.count += 1
        tag = f"{self.port}-{Dnspc.count}"
        self.control = str(self.workdir / f"control-{tag}.sock")
        self.policy_path = self.workdir / f"policy-{tag}.dp"
        self.policy_path.write_text(policy.replace("{port}", str(self.port)).replace("{control}", self.control))
        # wrapper: a command dnspc runs under (setpriv dropping capabilities).
        argv = [*wrapper, DNSPC, "run"]
        if log_format:
            argv += ["--log-format", log_format]
        argv += [*extra_args, str(self.policy_path)]
        # env: variables added to this process's environment (the web server's secrets).
        full_env = {**os.environ, **env} if env else None
        self.proc = Proc("dnspc", argv, self.workdir / f"dnspc-{tag}.log", env=full_env)
        if wait:
            self.wait_ready()

    def wait_ready(self):
        def ready():
            if not self.proc.alive():
                raise AssertionError(f"dnspc exited early ({self.proc.popen.returncode}):\n{self.proc.log_text()}")
            try:
                self.ctl("stats")
                return True
            except OSError:
                return False
        wait_until(ready, START_TIMEOUT, 0.02, "dnspc's control socket")

    def ctl_text(self, command):
        """The control socket's answer as text (talking to the socket directly)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(self.control)
            s.sendall(command.encode() + b"\n")
            chunks = []
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
        return b"".join(chunks).decode()

    def ctl(self, command):
        """The control socket's JSON answer, parsed."""
        return json.loads(self.ctl_text(command))

    def stats(self):
        return self.ctl("stats")

    def server_queries(self):
        return {k: v["queries"] for k, v in self.stats()["servers"].items()}

    def servers(self):
        return {s["key"]: s for s in self.ctl("servers")["servers"]}

    def terminate(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Sends sig and returns (exit code, seconds it took)."""
        t0 = time.monotonic()
        os.kill(self.proc.pid, sig)
        try:
            rc = self.proc.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        return rc, time.monotonic() - t0

    def stop(self):
        if self.proc.alive():
            self.terminate()
        self.proc.kill()

    def log_text(self):
        return self.proc.log_text()


def answer_a(port, name, timeout=1.0):
    """The first A address of the answer, or the rcode's name when there is none."""
    r = query("127.0.0.1", port, name, "A", timeout=timeout)
    for rrset in r.answer:
        for rd in rrset:
            return rd.address
    return dns.rcode.to_text(r.rcode())


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def run_dnspc(*args, timeout=30):
    return subprocess.run([DNSPC, *args], capture_output=True, text=True, timeout=timeout)


class Workdir:
    """A temp dir removed at the end (kept with DNSPC_KEEP=1)."""

    def __init__(self):
        self.path = Path(tempfile.mkdtemp(prefix="dnspc-it-"))

    def cleanup(self):
        if os.environ.get("DNSPC_KEEP"):
            print(f"kept {self.path}", file=sys.stderr)
        else:
            shutil.rmtree(self.path, ignore_errors=True)
