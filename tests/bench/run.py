#!/usr/bin/env python3
"""Forwarding benchmark: load balancers side by side, NSD behind, dnsperf in front.

Starts NSD on loopback, then for each scenario starts every target that takes
part (each on its own port, all forwarding to the same NSD), and drives them
with dnsperf at the same offered load, in turn (A B A B ...), for --runs
rounds. For each run it records what dnsperf saw (answered QPS, loss,
latency) and what the balancer spent: utime+stime from /proc/PID/stat, which
covers all of a process's threads, read before and after the run. The report
gives per-target medians and ratios against dnsdist.

CPU per answered query is the figure that matters: dnsperf, NSD and the
balancer share two cores, so QPS at saturation partly measures dnsperf.

Everything runs on 127.0.0.1; every process is started in its own process
group and killed as a group on the way out, whatever happens.
"""

import argparse
import contextlib
import datetime
import json
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import rules  # noqa: E402  (sibling module, found through the path above)
import render_dnspc  # noqa: E402

rules.RENDERERS["dnspc"] = render_dnspc.render_dnspc
DEFAULT_DNSPC = HERE.parents[1] / "build" / "cli" / "dnspc"

ZONE = "bench.test."
# (owner, address) of the A records the zone serves; the query file asks for
# these names so every query is an answer NSD has, not a REFUSED.
ZONE_HOSTS = [("@", "192.0.2.10"), ("ns", "192.0.2.53"), ("www", "192.0.2.80")] + [
    (f"host{i}", f"192.0.2.{100 + i}") for i in range(20)
]
CHECK_NAME = "www." + ZONE  # health checks and readiness probes ask for this
CLK_TCK = os.sysconf("SC_CLK_TCK")
START_TIMEOUT = 15.0  # seconds a process gets to start answering
STOP_TIMEOUT = 3.0  # seconds between SIGTERM and SIGKILL


# ---------------------------------------------------------------- processes


@dataclass
class Proc:
    """A process started in its own session, so its whole group can be killed
    (NSD forks server children that outlive a kill of the parent alone)."""

    name: str
    popen: subprocess.Popen
    log: Path
    stopped: bool = False

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def stop(self):
        # Once only: after the group is gone its id may be handed out again.
        if self.stopped:
            return
        self.stopped = True
        # SIGTERM to the whole group, so each process can stop cleanly (NSD's
        # own pid becomes its xfrd; the main and server processes are its
        # children), then SIGKILL for anything still there.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=STOP_TIMEOUT)


def start_process(ctx, name, argv):
    log = ctx.workdir / f"{name}.log"
    with open(log, "wb") as out:
        popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    proc = Proc(name, popen, log)
    ctx.cleanup.callback(proc.stop)  # stopped on any exit path, at the latest
    return proc


def free_port(taken):
    """A port free for both UDP and TCP on 127.0.0.1 (dnsdist listens on both)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            if port in taken:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        taken.add(port)
        return port
    raise RuntimeError("no free port found on 127.0.0.1")


# ---------------------------------------------------------------- DNS probe


def _build_query(name, qid):
    qname = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)


def _skip_name(msg, off):
    while True:
        length = msg[off]
        if length & 0xC0 == 0xC0:  # compression pointer ends the name
            return off + 2
        off += 1 + length
        if length == 0:
            return off


def _first_a(msg):
    """(rcode, first A address in the answer or None) of a DNS response."""
    rcode, ancount = msg[3] & 0x0F, struct.unpack("!H", msg[6:8])[0]
    off = _skip_name(msg, 12) + 4  # the question
    for _ in range(ancount):
        off = _skip_name(msg, off)
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            return rcode, socket.inet_ntoa(msg[off:off + 4])
        off += rdlen
    return rcode, None


def probe(port, name=CHECK_NAME, timeout=0.5, address="127.0.0.1"):
    """One A query over UDP; (rcode, address) or None when nothing came back."""
    qid = random.randrange(65536)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(_build_query(name, qid), (address, port))
        try:
            msg = s.recv(4096)
        except socket.timeout:
            return None
    if len(msg) < 12 or struct.unpack("!H", msg[:2])[0] != qid:
        return None
    return _first_a(msg)


def wait_answering(proc, port, expect_address):
    """Block until proc answers CHECK_NAME with expect_address, or fail loudly."""
    deadline = time.monotonic() + START_TIMEOUT
    last = None
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited early; see {proc.log}:\n{proc.log.read_text()[-2000:]}")
        last = probe(port)
        if last == (0, expect_address):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} did not answer {CHECK_NAME} with {expect_address} "
                       f"within {START_TIMEOUT}s (last answer: {last}); see {proc.log}")


# ---------------------------------------------------------------- NSD


def write_zone(zonedir):
    lines = [f"$ORIGIN {ZONE}", "$TTL 3600",
             f"@ IN SOA ns.{ZONE} admin.{ZONE} 1 3600 600 86400 3600", "@ IN NS ns"]
    lines += [f"{owner} IN A {addr}" for owner, addr in ZONE_HOSTS]
    (zonedir / "bench.test.zone").write_text("\n".join(lines) + "\n")


def nsd_config(workdir, port, extra_ports=()):
    """NSD listening on 127.0.0.1@port, and on each of extra_ports too (one
    server process serves them all: several backends, one NSD)."""
    # Every path is our own so NSD needs neither root nor /var/lib/nsd.
    # RRL is on by default and would drop most of a benchmark: turn it off.
    addresses = "".join(f"  ip-address: 127.0.0.1@{p}\n" for p in (port, *extra_ports))
    return f"""server:
  server-count: 1
{addresses}  username: ""
  chroot: ""
  database: ""
  zonesdir: "{workdir}"
  pidfile: "{workdir}/nsd.pid"
  xfrdfile: "{workdir}/xfrd.state"
  zonelistfile: "{workdir}/zone.list"
  logfile: "{workdir}/nsd.log"
  verbosity: 0
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: {ZONE}
  zonefile: bench.test.zone
"""


def start_nsd(ctx):
    write_zone(ctx.workdir)
    conf = ctx.workdir / "nsd.conf"
    conf.write_text(nsd_config(ctx.workdir, ctx.nsd_port, ctx.nsd_extra_ports))
    proc = start_process(ctx, "nsd", ["nsd", "-d", "-c", str(conf)])
    for port in (ctx.nsd_port, *ctx.nsd_extra_ports):
        wait_answering(proc, port, dict(ZONE_HOSTS)["www"])
    return proc


def write_query_file(path):
    names = [ZONE if owner == "@" else f"{owner}.{ZONE}" for owner, _ in ZONE_HOSTS]
    path.write_text("".join(f"{n} A\n" for n in names))


# ---------------------------------------------------------------- targets


@dataclass
class Target:
    start: Callable  # (ctx, rule_list, port) -> Proc, started and answering
    joins: Callable[[str], bool]  # does it take part in this scenario?


def _expected_address(rule_list):
    """What a correct balancer answers for CHECK_NAME under these rules."""
    for r in rule_list:
        if r["match"]["kind"] == "all" and r["action"]["kind"] == "spoof":
            return r["action"]["a"]
    return dict(ZONE_HOSTS)["www"]


def start_dnsdist(ctx, rule_list, port):
    net = rules.Network(port, ctx.nsd_port, CHECK_NAME)
    conf = ctx.workdir / f"dnsdist-{port}.conf"
    conf.write_text(rules.render_dnsdist(rule_list, net))
    # --supervised: stay in the foreground, no console; dnsdist only changes
    # user when told to (-u/-g), so this works unprivileged and as root.
    proc = start_process(ctx, f"dnsdist-{port}",
                         ["dnsdist", "--supervised", "--disable-syslog", "-C", str(conf)])
    wait_answering(proc, port, _expected_address(rule_list))
    return proc


def build_floor(build_dir):
    """Compile the floor forwarder with the system C compiler (no CMake needed)."""
    build_dir.mkdir(parents=True, exist_ok=True)
    binary = build_dir / "floor_forwarder"
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-o", str(binary),
                    str(HERE / "floor_forwarder.c")], check=True, timeout=120)
    return binary


def start_floor(ctx, rule_list, port):
    assert not rule_list, "the floor forwarder has no rule engine"
    if ctx.floor_binary is None:
        ctx.floor_binary = build_floor(ctx.build_dir)
    proc = start_process(ctx, f"floor-{port}", [str(ctx.floor_binary), str(port), str(ctx.nsd_port)])
    wait_answering(proc, port, _expected_address(rule_list))
    return proc


def start_dnspc(ctx, rule_list, port, binary=None, name="dnspc"):
    """`dnspc run` with one worker (dnsdist has one UDP listener thread),
    the same rules rendered by render_dnspc, its control socket in the
    temp dir."""
    net = rules.Network(port, ctx.nsd_port, CHECK_NAME)
    policy = ctx.workdir / f"dnspc-{port}.dp"
    # dnsdist does not limit queries per TCP connection by default
    # (setMaxTCPQueriesPerConnection 0); dnspc's default (1,000) would make
    # dnsperf reconnect and lose what it pipelined past the limit.
    options = [("tcp_max_queries_per_connection", 1_000_000_000)] if ctx.args.transport == "tcp" else []
    policy.write_text(render_dnspc.render_dnspc(rule_list, net, workers=ctx.args.dnspc_workers,
                                                control=str(ctx.workdir / f"dnspc-{port}.sock"), options=options))
    proc = start_process(ctx, f"{name}-{port}", [str(binary or ctx.args.dnspc), "run", str(policy)])
    wait_answering(proc, port, _expected_address(rule_list))
    return proc


def start_dnspc_base(ctx, rule_list, port):
    """The --dnspc-base binary, started exactly as start_dnspc starts dnspc:
    another build (e.g. an older commit) measured in the same run."""
    return start_dnspc(ctx, rule_list, port, binary=ctx.args.dnspc_base, name="dnspc-base")


# target name -> how to start it and which scenarios it joins.
# Ratios are always computed against "dnsdist", whatever the order here
# (and against "dnspc-base" too when it takes part). "dnspc-base" joins only
# with --dnspc-base, so it is not among the default targets.
TARGETS = {
    "dnsdist": Target(start_dnsdist, joins=lambda scenario: True),
    "floor": Target(start_floor, joins=rules.floor_takes_part),
    "dnspc": Target(start_dnspc, joins=lambda scenario: True),
    "dnspc-base": Target(start_dnspc_base, joins=lambda scenario: True),
}
DEFAULT_TARGETS = ("dnsdist", "floor", "dnspc")


# ---------------------------------------------------------------- measuring


def machine_idle_seconds():
    """Idle (+ iowait) time of all CPUs from /proc/stat, in seconds: how busy
    the whole machine was, to tell a slow balancer from a starved one. Only
    the idle figure is used: it is exact on tickless kernels, whereas busy
    time is sampled at each tick and misses short bursts at low load."""
    values = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return (int(values[4]) + int(values[5])) / CLK_TCK


def cpu_seconds(pid):
    """utime+stime of a process, all its threads included, in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()  # comm may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


_SUMMARY = {
    "sent": (r"Queries sent:\s+(\d+)", int),
    "completed": (r"Queries completed:\s+(\d+)", int),
    "lost": (r"Queries lost:\s+(\d+)", int),
    "run_time": (r"Run time \(s\):\s+([\d.]+)", float),
    "qps": (r"Queries per second:\s+([\d.]+)", float),
    "lat_avg": (r"Average Latency \(s\):\s+([\d.]+)", float),
    "lat_min": (r"Average Latency \(s\):\s+[\d.]+ \(min ([\d.]+)", float),
    "lat_max": (r"Average Latency \(s\):.*max ([\d.]+)\)", float),
    "lat_stddev": (r"Latency StdDev \(s\):\s+([\d.]+)", float),
}


def parse_dnsperf(text):
    """The summary dnsperf prints at the end, plus latency percentiles from
    the per-response lines of -v ("> NOERROR name A 0.000123"): dnsperf 2.10
    prints no percentiles or histogram itself."""
    out = {}
    for key, (pattern, conv) in _SUMMARY.items():
        m = re.search(pattern, text)
        if not m:
            raise RuntimeError(f"dnsperf output lacks {key!r}:\n{text[-3000:]}")
        out[key] = conv(m.group(1))
    codes = re.search(r"Response codes:\s+(.*)", text)
    out["rcodes"] = dict((c, int(n)) for c, n in re.findall(r"(\w+) (\d+) \(", codes.group(1))) if codes else {}
    latencies = sorted(float(line.rsplit(None, 1)[1]) for line in text.splitlines()
                       if line.startswith("> ") and not line.startswith(("> T ", "> I ")))
    for p in (50, 90, 99, 99.9):
        out[f"lat_p{p}"] = latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] if latencies else None
    return out


def run_dnsperf(ctx, port, qps, seconds, verbose=True):
    argv = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(ctx.query_file),
            "-l", str(seconds), "-c", str(ctx.args.clients), "-T", "1",
            "-q", str(ctx.args.outstanding), "-t", str(ctx.args.timeout)]
    if qps:
        argv += ["-Q", str(qps)]
    if ctx.args.transport == "tcp":
        argv += ["-m", "tcp"]
    if verbose:
        argv.append("-v")
    # Output goes to a file, not a pipe: at 100k answers a second the -v
    # lines must not wait on this script reading them.
    out_path = ctx.workdir / "dnsperf.out"
    with open(out_path, "wb") as out:
        subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                       timeout=seconds + ctx.args.timeout + 30, check=True)
    text = out_path.read_text()
    out_path.unlink()
    return argv, text


def measure(ctx, proc, port, qps):
    """One run against a started balancer: dnsperf figures plus its CPU."""
    if not proc.alive():
        raise RuntimeError(f"{proc.name} died; see {proc.log}")
    cpu_before, idle_before, wall_before = cpu_seconds(proc.pid), machine_idle_seconds(), time.monotonic()
    argv, text = run_dnsperf(ctx, port, qps, ctx.args.duration)
    cpu, wall = cpu_seconds(proc.pid) - cpu_before, time.monotonic() - wall_before
    idle = machine_idle_seconds() - idle_before
    result = parse_dnsperf(text)
    result["cpu_s"] = cpu
    result["cpu_util"] = cpu / wall  # share of one core over the run
    result["machine_idle"] = min(1.0, idle / (wall * os.cpu_count()))  # all cores, everyone
    result["cpu_us_per_q"] = cpu * 1e6 / result["completed"] if result["completed"] else None
    result["loss_pct"] = 100.0 * result["lost"] / result["sent"] if result["sent"] else None
    result["dnsperf"] = shlex.join(argv)
    return result


# ---------------------------------------------------------------- the run


@dataclass
class Context:
    args: argparse.Namespace
    workdir: Path
    build_dir: Path
    cleanup: contextlib.ExitStack
    nsd_port: int = 0
    query_file: Optional[Path] = None
    floor_binary: Optional[Path] = None
    ports: set = field(default_factory=set)
    nsd_extra_ports: list = field(default_factory=list)  # NSD's other ports, if any


def prepare(args, cleanup, nsd_extra_ports=0):
    """The temp dir (removed by `cleanup` unless --keep), the Context, the
    query file, and NSD started on ctx.nsd_port (plus nsd_extra_ports more
    ports, in ctx.nsd_extra_ports). Needs args.keep and args.build_dir."""
    tmp = Path(tempfile.mkdtemp(prefix="dnspc-bench-"))
    if args.keep:
        log(f"keeping {tmp}")
    else:
        cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
    ctx = Context(args, tmp, args.build_dir or tmp / "build", cleanup)
    ctx.nsd_port = free_port(ctx.ports)
    ctx.nsd_extra_ports = [free_port(ctx.ports) for _ in range(nsd_extra_ports)]
    ctx.query_file = tmp / "queries.txt"
    write_query_file(ctx.query_file)
    start_nsd(ctx)
    return ctx


def run_scenario(ctx, load, scenario):
    """Start the targets of one scenario, warm them up, then measure them in
    turn for --runs rounds. Returns one record per run."""
    rule_list = rules.scenario_rules(scenario, ctx.args.rules, ctx.args.seed)
    names = [t for t in ctx.args.targets if TARGETS[t].joins(scenario)]
    qps = None if load == "max" else int(load)
    records = []
    with contextlib.ExitStack() as stack:
        started = {}
        for name in names:
            port = free_port(ctx.ports)
            proc = TARGETS[name].start(ctx, rule_list, port)
            stack.callback(proc.stop)  # these balancers only live for this scenario
            started[name] = (proc, port)
        # One short unrecorded run each, so the first recorded run does not
        # pay for cold caches, lazy allocations or the first health checks.
        for name, (proc, port) in started.items():
            run_dnsperf(ctx, port, qps, 1, verbose=False)
        for r in range(ctx.args.runs):
            for name, (proc, port) in started.items():  # A B A B ...
                res = measure(ctx, proc, port, qps)
                res.update(load=load, scenario=scenario, target=name, run=r + 1)
                records.append(res)
                log(f"  [{load} qps, {scenario}] run {r + 1}/{ctx.args.runs} {name:10s} "
                    f"{res['qps']:9.0f} qps  loss {res['loss_pct']:5.2f}%  "
                    f"{fmt(res['cpu_us_per_q'], 2):>6s} us CPU/q  "
                    f"({fmt(res['cpu_util'], 0, 100)}% of a core, machine {fmt(res['machine_idle'], 0, 100)}% idle)  "
                    f"rcodes {res['rcodes']}")
                unexpected = set(res["rcodes"]) - {"NOERROR"}
                if unexpected:
                    log(f"  WARNING: {name} gave {unexpected}: rules or backend misbehave")
    return records


def summarise(records):
    """Medians per (load, scenario, target), each metric on its own, with
    ratios against dnsdist (and dnspc-base, if it ran) in the same cell and
    against the target's own no-rule scenario."""
    keys = sorted({(r["load"], r["scenario"], r["target"]) for r in records},
                  key=lambda k: (k[0] == "max", int(k[0]) if k[0] != "max" else 0,
                                 k[1], k[2] != "dnsdist", k[2]))
    metrics = ("qps", "loss_pct", "lat_avg", "lat_p50", "lat_p99", "lat_p99.9", "lat_max",
               "cpu_us_per_q", "cpu_util", "machine_idle")
    rows = []
    for load, scenario, target in keys:
        runs = [r for r in records if (r["load"], r["scenario"], r["target"]) == (load, scenario, target)]
        row = {"load": load, "scenario": scenario, "target": target, "runs": len(runs)}
        for m in metrics:
            vals = [r[m] for r in runs if r[m] is not None]
            row[m] = statistics.median(vals) if vals else None
        rows.append(row)
    by_key = {(r["load"], r["scenario"], r["target"]): r for r in rows}
    for row in rows:
        ref = by_key.get((row["load"], row["scenario"], "dnsdist"))
        own_a = by_key.get((row["load"], "a", row["target"]))
        base = by_key.get((row["load"], row["scenario"], "dnspc-base"))
        row["cpu_vs_dnsdist"] = _ratio(row["cpu_us_per_q"], ref and ref["cpu_us_per_q"])
        row["cpu_vs_dnspc_base"] = _ratio(row["cpu_us_per_q"], base and base["cpu_us_per_q"])
        row["qps_vs_dnsdist"] = _ratio(row["qps"], ref and ref["qps"])
        row["cpu_vs_own_a"] = _ratio(row["cpu_us_per_q"], own_a and own_a["cpu_us_per_q"])
    return rows


def _ratio(a, b):
    return a / b if a is not None and b else None


def fmt(v, digits=1, scale=1.0):
    return "-" if v is None else f"{v * scale:.{digits}f}"


def markdown_table(rows, n_rules):
    with_base = any(r["target"] == "dnspc-base" for r in rows)
    head = ("| load (qps) | scenario | target | answered qps | loss % | lat avg µs | p50 µs "
            "| p99 µs | p99.9 µs | max µs | CPU µs/query | CPU % of a core "
            "| machine idle % | CPU vs dnsdist | QPS vs dnsdist | CPU vs own (a) |"
            + (" CPU vs dnspc-base |" if with_base else ""))
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        lines.append("| " + " | ".join([
            r["load"], f"{r['scenario']}: {rules.scenario_title(r['scenario'], n_rules)}", r["target"],
            fmt(r["qps"], 0), fmt(r["loss_pct"], 2),
            fmt(r["lat_avg"], 0, 1e6), fmt(r["lat_p50"], 0, 1e6), fmt(r["lat_p99"], 0, 1e6),
            fmt(r["lat_p99.9"], 0, 1e6), fmt(r["lat_max"], 0, 1e6),
            fmt(r["cpu_us_per_q"], 2), fmt(r["cpu_util"], 0, 100), fmt(r["machine_idle"], 0, 100),
            fmt(r["cpu_vs_dnsdist"], 2), fmt(r["qps_vs_dnsdist"], 2), fmt(r["cpu_vs_own_a"], 2),
        ] + ([fmt(r["cpu_vs_dnspc_base"], 2)] if with_base else [])) + " |")
    return "\n".join(lines)


def machine_facts():
    def first_line(argv):
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (p.stdout + p.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return None
    debian = Path("/etc/debian_version")
    return {
        "cpus": os.cpu_count(),
        "debian": debian.read_text().strip() if debian.exists() else None,
        "kernel": platform.release(),
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        "dnsdist": first_line(["dnsdist", "--version"]),
        "nsd": first_line(["nsd", "-v"]),
        "dnsperf": dnsperf_version(),
    }


def dnsperf_version():
    p = subprocess.run(["dnsperf", "-h"], capture_output=True, text=True, timeout=10)
    return next((l.strip() for l in (p.stdout + p.stderr).splitlines() if "Version" in l), None)


def log(msg):
    print(msg, flush=True)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="rounds per scenario (median is reported)")
    ap.add_argument("--duration", type=int, default=5, help="seconds per dnsperf run")
    ap.add_argument("--qps", default="10000,max",
                    help="comma list of offered loads; 'max' runs dnsperf without -Q (saturation)")
    ap.add_argument("--scenarios", default="a,b,c", help=f"comma list out of {','.join(rules.SCENARIOS)}")
    ap.add_argument("--targets", default=",".join(DEFAULT_TARGETS), help=f"comma list out of {','.join(TARGETS)} "
                    "(dnspc-base is added when --dnspc-base is given)")
    ap.add_argument("--rules", type=int, default=800, help="rule count of scenario b")
    ap.add_argument("--seed", type=int, default=rules.DEFAULT_SEED, help="seed of the rule generator")
    ap.add_argument("--clients", type=int, default=4, help="dnsperf -c (source sockets)")
    ap.add_argument("--outstanding", type=int, default=100,
                    help="dnsperf -q (queries in flight); see README before raising it")
    ap.add_argument("--timeout", type=int, default=2, help="dnsperf -t: an answer later than this is lost")
    ap.add_argument("--dnspc", type=Path, default=DEFAULT_DNSPC, help="the dnspc binary (default: build/cli/dnspc)")
    ap.add_argument("--dnspc-base", type=Path,
                    help="another dnspc binary (e.g. an older commit's), run as target dnspc-base "
                         "exactly as dnspc is, in the same scenarios; the report adds CPU vs dnspc-base")
    ap.add_argument("--dnspc-workers", type=int, default=1, help="dnspc's `option workers` (default 1, as dnsdist)")
    ap.add_argument("--build-dir", type=Path, help="where to compile the floor forwarder (default: temp)")
    ap.add_argument("--transport", choices=("udp", "tcp"), default="udp",
                    help="dnsperf -m: tcp sends every query over TCP (-c connections, pipelined); "
                         "the floor forwarder speaks UDP only and sits out")
    ap.add_argument("--json", type=Path, help="write every run and the medians here")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (configs, logs)")
    args = ap.parse_args(argv)
    args.qps = [q.strip() for q in args.qps.split(",") if q.strip()]
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    for q in args.qps:
        if q != "max" and not q.isdigit():
            ap.error(f"--qps: {q!r} is neither a number nor 'max'")
    for s in args.scenarios:
        if s not in rules.SCENARIOS:
            ap.error(f"--scenarios: unknown {s!r}")
    if args.dnspc_base and "dnspc-base" not in args.targets:
        args.targets.append("dnspc-base")
    for t in args.targets:
        if t not in TARGETS:
            ap.error(f"--targets: unknown {t!r}")
    if "dnspc-base" in args.targets and not args.dnspc_base:
        ap.error("--targets: dnspc-base needs --dnspc-base PATH")
    if args.transport == "tcp":
        args.targets = [t for t in args.targets if t != "floor"]
    if args.runs < 1 or args.duration < 1:
        ap.error("--runs and --duration must be at least 1")
    return args


def add_common_args(ap, timeout=2):
    """The options every benchmark built on this file takes: dnsperf's
    clients, outstanding queries and timeout (as here), the binary, the JSON
    report and keeping the temp dir. Also sets what this file's functions
    read from args (UDP; no floor build dir) once parsed: call
    finish_common_args(args)."""
    ap.add_argument("--clients", type=int, default=4, help="dnsperf -c (source ports), as run.py")
    ap.add_argument("--outstanding", type=int, default=100, help="dnsperf -q, as run.py")
    ap.add_argument("--timeout", type=int, default=timeout, help="dnsperf -t")
    ap.add_argument("--dnspc", type=Path, default=DEFAULT_DNSPC, help="the dnspc binary")
    ap.add_argument("--json", type=Path, help="write every run and the report here")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (policies, logs)")


def finish_common_args(ap, args):
    if not args.dnspc.exists():
        ap.error(f"--dnspc: {args.dnspc} does not exist")
    args.transport, args.build_dir = "udp", None
    return args


def main(argv=None):
    args = parse_args(argv)
    # SIGTERM (e.g. from a CI timeout) must unwind through the cleanups too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started_at = datetime.datetime.now().astimezone()
    facts = machine_facts()
    records = []
    with contextlib.ExitStack() as cleanup:
        ctx = prepare(args, cleanup)
        log(f"NSD on 127.0.0.1:{ctx.nsd_port}; {facts['cpus']} CPUs, load average {facts['loadavg_at_start']}")
        for load in args.qps:
            for scenario in args.scenarios:
                log(f"load {load}, scenario {scenario}: {rules.scenario_title(scenario, args.rules)}")
                records += run_scenario(ctx, load, scenario)
    rows = summarise(records)
    table = markdown_table(rows, args.rules)
    print()
    print(table)
    if args.json:
        args.json.write_text(json.dumps({
            "command": shlex.join(["python3"] + sys.argv),
            "started": started_at.isoformat(timespec="seconds"),
            "machine": facts,
            "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "medians": rows, "runs": records, "markdown": table,
        }, indent=1))
        log(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
