#!/usr/bin/env python3
"""The kernel fast path (XDP, issue #19): CPU per dropped query with the drop
rule in the kernel against the same rule in user space, and CPU per answered
query with and without the fast path in front.

    xdp_bench.py [--runs 3] [--duration 5] [--modes generic,native]
                 [--flood-qps max,150000] [--senders 1] [--answer-qps 20000,max] [--pin] [--json FILE] [--keep]

Needs root (network namespaces, veth pairs, XDP); otherwise it says why and
exits with status 77. Holds /tmp/dnspc-build.lock (flock) while it measures,
so no build of the project's shares the two cores meanwhile.

The network is tests/integration/netns.py's: dnspc and NSD (on 127.0.0.1,
the backend) in a server namespace whose one interface dnspc0 (198.18.0.1)
receives every client's packets through a bridge; client 1 (198.18.0.2)
floods, client 2 (198.18.0.3) sends normal queries. Every variant is one
`dnspc run` (one worker), started for its run and stopped after it, with
this policy (the `xdp` line only in the kernel variants):

    listen 198.18.0.1:53;
    acl 198.18.0.0/24, 127.0.0.0/8;
    xdp "dnspc0" mode MODE;
    pool main { server 127.0.0.1:NSD state up; }
    rule flood: src in 198.18.0.2/32 => drop;
    rule default: true => pool main;

Groups, each variant measured in turn for --runs rounds (the order rotating
each round):

- drop: client 1 runs flood_sender.c (dnsperf cannot flood a server that
  drops: each query it sends holds a slot until its timeout) for --duration
  seconds at each rate of --flood-qps: max (unpaced: the highest rate one
  sending thread reaches) and 150,000 (one rate for every variant, which
  user space keeps up with here). Per query sent.
- pass: client 2 runs dnsperf (`-c 4 -q 100 -t 2`, as run.py) at each load
  of --answer-qps (default 20000 and max: saturation), names NSD answers,
  forwarded by user space after the kernel's rule did not hold. Per
  answered query.

Variants in each group: xdp-generic, xdp-native (--modes: the policy's xdp
statement; in drop the kernel drops, in pass it evaluates the rule and
passes the query up marked), user (no xdp statement: the same rules in user
space), and user+pass-generic (--pass-program: user space behind an XDP
program that passes everything, attached with `ip link`: what any XDP
program on the interface costs, apart from dnspc's program and hand-over).

What each run reads, before the traffic and after it (for a flood, 1.5 s
after it ends: user space may still be draining its socket, and the
kernel's counters are folded into dnspc's registry once a second):

- dnspc's CPU: utime+stime of all its threads (/proc/PID/stat), what the
  issue's targets are about, in clock ticks (10 ms); and the same time from
  the scheduler (/proc/PID/task/*/schedstat), in nanoseconds: what a
  fast-path drop leaves to dnspc is a few ticks at most.
- the generator's CPU (wait4 on flood_sender or dnsperf), NSD's (all its
  processes), the ksoftirqd threads', and their sum with dnspc's: the CPU
  the traffic cost wherever it was charged.
- the machine's non-idle CPU (/proc/stat), net of its background: the
  machine's CPU over one second with dnspc up and no traffic, measured
  right before, times the run's length. Only as good as the background is
  steady: on a shared machine, read the sum above instead.
- cross-checks, with a warning when they disagree: dnspc0's received
  packets, the kernel's `dnspc_xdp_packets_total{result="seen"}` and
  `dnspc_rule_hits_total{rule="flood",path=...}` from `ctl metrics` (the
  drop counted on the expected path), `dnspc_xdp_marked_total` (pass: the
  queries came up through the program), the server namespace's UDP
  receive-buffer drops, the answers' rcodes.

Why more than dnspc's CPU: XDP runs in softirq context, which is charged to
whatever task the CPU was running (here mostly the flood sender, whose
sendmmsg carries each datagram through the veth, the bridge and dnspc0's
receive path on the same CPU) or to no task at all: never to dnspc. dnspc's
own CPU per dropped query with the fast path is therefore close to zero by
construction; the sum is the honest cost of a drop (it includes the
sender's own sending, the same in every variant).

Reported: per group, load and variant, medians with the spread (min-max)
over the rounds; the ratios kernel/user, each the median of the per-round
ratios with their min-max. Targets (issue #19): dnspc CPU per dropped query
xdp/user at most 0.1; dnspc CPU per answered query xdp/user at most 1.05.
"""

import argparse
import contextlib
import datetime
import fcntl
import json
import os
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import run  # tests/bench/run.py: NSD, processes, dnsperf's output, CPU time

sys.path.insert(0, str(run.HERE.parents[0] / "integration"))
import netns  # noqa: E402  (tests/integration/netns.py: the namespaces)

BUILD_LOCK = "/tmp/dnspc-build.lock"
DNS_PORT = 53
FLOOD_CLIENT, PASS_CLIENT = 0, 1  # 198.18.0.2 floods, 198.18.0.3 asks normally
SETTLE_S = 1.5  # after a flood: user space drains, the kernel's counters are folded (every second)
SKIP = 77
BACKGROUND_S = 1.0  # the machine's CPU with dnspc up and no traffic, before each run
KSOFTIRQD = []  # filled in main()
NSD = []  # NSD's processes (it forks), filled in main()
# --pin: dnspc alone on the last CPU; this script, NSD and the generators on the first.
DNSPC_CPU, OTHERS_CPU = os.cpu_count() - 1, 0


@dataclass
class Variant:
    group: str  # drop or pass
    load: str  # queries per second offered, or max
    mode: Optional[str]  # generic, native; None: no xdp statement (user space)
    foreign: Optional[str] = None  # user space, with PASS_PROGRAM attached in this mode

    @property
    def name(self):
        if self.foreign:
            return f"user+pass-{self.foreign}"
        return f"xdp-{self.mode}" if self.mode else "user"


# --pass-program: user space decides, behind an XDP program that passes every
# packet. What any XDP program on the interface costs the kernel (on a veth,
# generic mode copies each skb that lacks XDP's headroom; native mode hands
# the packet to veth's NAPI instead of the backlog), apart from what dnspc's
# program and its hand-over add.
PASS_PROGRAM = """
#include <linux/bpf.h>
__attribute__((section("xdp"), used)) int pass(struct xdp_md *ctx) { return XDP_PASS; }
char _license[] __attribute__((section("license"), used)) = "GPL";
"""
IP_LINK_MODE = {"generic": "xdpgeneric", "native": "xdpdrv"}  # `ip link set dev D MODE obj F`
IP_LINK_SHOWS = {"generic": "xdpgeneric", "native": "xdp"}  # what `ip link show` prints then


def policy(v, nsd_port, control):
    flood = netns.SUBNET_PREFIX + str(FLOOD_CLIENT + 2)
    lines = [f"listen {netns.SERVER_ADDRESS}:{DNS_PORT};",
             f"acl {netns.SUBNET_PREFIX}0/24, 127.0.0.0/8;",  # the default ACL refuses 198.18/15
             "option workers 1;", f'control "{control}";']
    if v.mode:
        lines.append(f'xdp "{netns.SERVER_INTERFACE}" mode {v.mode};')
    lines += [f"pool main {{ server 127.0.0.1:{nsd_port} state up; }}",
              f"rule flood: src in {flood}/32 => drop;",
              "rule default: true => pool main;"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- readings


def ctl_text(control, command, timeout=10):
    """One control command's raw answer (`metrics` answers Prometheus text, not JSON)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(control)
        s.sendall(command.encode() + b"\n")
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks).decode()


_SAMPLE = re.compile(r'^dnspc_(\w+)\{([^}]*)\}\s+(\S+)$|^dnspc_(\w+)\s+(\S+)$')


def prometheus(control):
    """{(metric, frozenset(labels)): value} of dnspc's `ctl metrics`."""
    out = {}
    for line in ctl_text(control, "metrics").splitlines():
        m = _SAMPLE.match(line)
        if not m:
            continue
        if m.group(1):
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
            out[(m.group(1), labels)] = float(m.group(3))
        else:
            out[(m.group(4), frozenset())] = float(m.group(5))
    return out


def counters(control):
    """The dnspc counters the cross-checks compare."""
    p = prometheus(control)

    def get(metric, **labels):
        return p.get((metric, frozenset(labels.items())), 0.0)

    return {
        "kernel_seen": get("xdp_packets_total", result="seen"),
        "kernel_attached": get("xdp_attached"),
        "kernel_marked": get("xdp_marked_total"),
        "flood_hits_kernel": get("rule_hits_total", rule="flood", path="kernel"),
        "flood_hits_user": get("rule_hits_total", rule="flood", path="user"),
        "default_hits_user": get("rule_hits_total", rule="default", path="user"),
    }


def machine_jiffies():
    """(non-idle, softirq) of all CPUs from /proc/stat, in seconds."""
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice; guest is inside user
    total = sum(v[:8])
    return (total - v[3] - v[4]) / run.CLK_TCK, v[6] / run.CLK_TCK


def run_time_seconds(pid):
    """On-CPU time of all a process's threads from the scheduler
    (/proc/PID/task/*/schedstat, nanoseconds): the same time utime+stime
    samples at each tick, exact; a few milliseconds over a run are visible."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def pids_with_argument(arg):
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError):
                if arg.encode() in (d / "cmdline").read_bytes().split(b"\0"):
                    pids.append(int(d.name))
    return pids


def ksoftirqd_pids():
    """The per-CPU threads that run softirq work a CPU could not finish on
    the way out of an interrupt or a bh-enable (under load, the deferred part
    of the receive path)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError):
                if (d / "comm").read_text().startswith("ksoftirqd/"):
                    pids.append(int(d.name))
    return pids


def ksoftirqd_seconds(pids):
    return sum(run.cpu_seconds(p) for p in pids)


def udp_rcvbuf_errors(net):
    text = net.run_in(net.server, ["cat", "/proc/net/snmp"], check=True).stdout
    udp = [line.split() for line in text.splitlines() if line.startswith("Udp:")]
    return int(udp[1][udp[0].index("RcvbufErrors")])


class Snapshot:
    """What one run compares before and after. The CPU figures are read on
    their own (cpu()), right at the window's edges; the counters (which cost
    a control command and an `ip netns exec`) outside the window."""

    def __init__(self, proc, net, control):
        self.proc, self.net, self.control = proc, net, control

    def cpu(self):
        self.dnspc_cpu = run.cpu_seconds(self.proc.pid)
        self.dnspc_run = run_time_seconds(self.proc.pid)
        self.nsd = sum(run.cpu_seconds(p) for p in NSD)
        self.ksoftirqd = ksoftirqd_seconds(KSOFTIRQD)
        self.machine, self.softirq = machine_jiffies()
        self.wall = time.monotonic()
        return self

    def counts(self):
        self.rx = self.net.interface_counters(self.net.server)[0]
        self.rcvbuf = udp_rcvbuf_errors(self.net)
        self.counters = counters(self.control)
        return self

    def delta(self, before):
        d = {"dnspc_cpu_s": self.dnspc_cpu - before.dnspc_cpu,
             "dnspc_run_s": self.dnspc_run - before.dnspc_run,
             "nsd_cpu_s": self.nsd - before.nsd,
             "ksoftirqd_s": self.ksoftirqd - before.ksoftirqd,
             "machine_cpu_s": self.machine - before.machine,
             "softirq_s": self.softirq - before.softirq,
             "wall_s": self.wall - before.wall,
             "rx_packets": self.rx - before.rx,
             "udp_rcvbuf_errors": self.rcvbuf - before.rcvbuf}
        d.update({k: self.counters[k] - before.counters[k] for k in self.counters if k != "kernel_attached"})
        d["kernel_attached"] = self.counters["kernel_attached"]
        return d


# ---------------------------------------------------------------- the generators


def build_sender(workdir):
    binary = workdir / "flood_sender"
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-o", str(binary), str(run.HERE / "flood_sender.c")],
                   check=True, timeout=120)
    return binary


def flood(ctx, net, load):
    """--senders flood_senders in the flood client; (sent, their CPU seconds, argv)."""
    rate = 0 if load == "max" else int(load) / ctx.args.senders
    names = [f"{owner}.{run.ZONE}" for owner, _ in run.ZONE_HOSTS if owner != "@"]
    argv = [str(ctx.sender), netns.SERVER_ADDRESS, str(DNS_PORT), str(ctx.args.duration), str(rate)] + names
    procs = [net.popen_in(net.client(FLOOD_CLIENT), argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(ctx.args.senders)]
    sent, cpu = 0, 0.0
    for p in procs:
        code, out, used = wait_with_cpu(p)
        m = re.match(r"sent (\d+) seconds ([\d.]+) errors (\d+)", out)
        if code != 0 or not m:
            raise RuntimeError(f"flood_sender failed (exit {code}): {out}")
        sent += int(m.group(1))
        cpu += used
    return sent, cpu, shlex.join(argv)


def wait_with_cpu(p):
    """(exit code, output, CPU seconds) of a process popen_in started: wait4
    rather than wait gives its own utime+stime (`ip netns exec` execs the
    command, so the pid is the command's). Its output must fit a pipe's
    buffer (a summary line or a few)."""
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, p.stdout.read(), usage.ru_utime + usage.ru_stime


def dnsperf(ctx, net, load):
    argv = ["dnsperf", "-s", netns.SERVER_ADDRESS, "-p", str(DNS_PORT), "-d", str(ctx.query_file),
            "-l", str(ctx.args.duration), "-c", str(ctx.args.clients), "-T", "1",
            "-q", str(ctx.args.outstanding), "-t", str(ctx.args.timeout)]
    if load != "max":
        argv += ["-Q", load]
    p = net.popen_in(net.client(PASS_CLIENT), argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    code, out, cpu = wait_with_cpu(p)
    if code != 0:
        raise RuntimeError(f"dnsperf failed (exit {code}): {out[-2000:]}")
    return run.parse_dnsperf(out), cpu, shlex.join(argv)


# ---------------------------------------------------------------- one run


def start_dnspc(ctx, net, v):
    """dnspc with v's policy, answering through NSD; None (and why) when it cannot start."""
    control = str(ctx.workdir / f"{v.group}-{v.name}.sock")
    path = ctx.workdir / f"{v.group}-{v.name}.dp"
    path.write_text(policy(v, ctx.nsd_port, control))
    pin = ["taskset", "-c", str(DNSPC_CPU)] if ctx.args.pin else []  # taskset execs: the pid stays dnspc's
    proc = run.start_process(ctx, f"dnspc-{v.group}-{v.name}", pin + [str(ctx.args.dnspc), "run", str(path)])
    deadline = time.monotonic() + run.START_TIMEOUT
    while time.monotonic() < deadline:
        if not proc.alive():
            return None, control, proc.log.read_text()[-2000:].strip()
        if run.probe(DNS_PORT, name=run.CHECK_NAME, timeout=0.3, address=netns.SERVER_ADDRESS) == \
                (0, dict(run.ZONE_HOSTS)["www"]):
            break
        time.sleep(0.1)
    else:
        proc.stop()
        raise RuntimeError(f"dnspc ({v.name}) did not answer within {run.START_TIMEOUT}s; see {proc.log}")
    attached = counters(control)["kernel_attached"]
    # What the kernel says is attached, in which mode: `ip link` shows
    # xdpgeneric for generic, xdp for the driver's hook (native).
    link = net.run_in(net.server, ["ip", "link", "show", netns.SERVER_INTERFACE], check=True).stdout.split()
    if v.mode and IP_LINK_SHOWS[v.mode] not in link:
        proc.stop()
        raise RuntimeError(f"dnspc ({v.name}) runs, but `ip link` shows no {v.mode} XDP program on "
                           f"{netns.SERVER_INTERFACE}: {' '.join(link)}")
    if bool(attached) != bool(v.mode):
        proc.stop()
        state = "not attached" if v.mode else "attached without an xdp statement"
        return None, control, f"the kernel fast path is {state}: {proc.log.read_text()[-2000:]}"
    return proc, control, None


def pass_program(ctx):
    """PASS_PROGRAM compiled (clang-19, as tests/integration/test_netns.py): its path."""
    source, obj = ctx.workdir / "pass.c", ctx.workdir / "pass.o"
    source.write_text(PASS_PROGRAM)
    subprocess.run(["clang-19", "-O2", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-c", str(source),
                    "-o", str(obj)], check=True, timeout=120)
    return obj


def measure(ctx, net, v):
    if v.foreign:
        net.run_in(net.server, ["ip", "link", "set", "dev", netns.SERVER_INTERFACE, IP_LINK_MODE[v.foreign],
                                "obj", str(ctx.pass_program), "sec", "xdp"], check=True)
    try:
        return measure_started(ctx, net, v)
    finally:
        if v.foreign:
            net.run_in(net.server, ["ip", "link", "set", "dev", netns.SERVER_INTERFACE,
                                    IP_LINK_MODE[v.foreign], "off"], check=True)


def measure_started(ctx, net, v):
    proc, control, problem = start_dnspc(ctx, net, v)
    if proc is None:
        return None, problem
    try:
        # Unrecorded warm-up: the first queries pay for lazy setup, ARP, the backend's first answers.
        if v.group == "pass":
            net.run_in(net.client(PASS_CLIENT), ["dnsperf", "-s", netns.SERVER_ADDRESS, "-p", str(DNS_PORT),
                                                 "-d", str(ctx.query_file), "-l", "1"], timeout=60)
        # The machine's CPU without our traffic (other users of the machine,
        # dnspc's timers): subtracted from the machine's figure below.
        idle_from = machine_jiffies()[0], time.monotonic()
        time.sleep(BACKGROUND_S)
        background = (machine_jiffies()[0] - idle_from[0]) / (time.monotonic() - idle_from[1])
        before = Snapshot(proc, net, control).counts().cpu()
        if v.group == "drop":
            sent, sender_cpu, argv = flood(ctx, net, v.load)
            time.sleep(SETTLE_S)
            res = Snapshot(proc, net, control).cpu().counts().delta(before)
            res.update(sent=sent, generator_cpu_s=sender_cpu, generator=argv, per=sent,
                       offered_qps=sent / ctx.args.duration)
        else:
            perf, generator_cpu, argv = dnsperf(ctx, net, v.load)
            res = Snapshot(proc, net, control).cpu().counts().delta(before)
            res.update(perf)
            res.update(generator=argv, per=perf["completed"], offered_qps=perf["qps"], generator_cpu_s=generator_cpu)
        if not proc.alive():
            raise RuntimeError(f"dnspc ({v.name}) died; see {proc.log}")
    finally:
        proc.stop()
    res["background_cores"] = background
    res["machine_net_cpu_s"] = max(0.0, res["machine_cpu_s"] - background * res["wall_s"])
    res["traffic_cpu_s"] = res["dnspc_cpu_s"] + res["generator_cpu_s"] + res["nsd_cpu_s"] + res["ksoftirqd_s"]
    n = res["per"]
    for k in ("dnspc_cpu_s", "dnspc_run_s", "generator_cpu_s", "nsd_cpu_s", "ksoftirqd_s", "traffic_cpu_s",
              "machine_cpu_s",
              "machine_net_cpu_s", "softirq_s"):
        res[k.replace("_s", "_us_per_q")] = res[k] * 1e6 / n if n and res[k] is not None else None
    return res, None


def check(v, res):
    """Warnings when the counters say the run was not what it claims to be."""
    out = []
    if v.group == "drop":
        sent = res["sent"]
        if abs(res["rx_packets"] - sent) > 0.01 * sent + 100:
            out.append(f"dnspc0 received {res['rx_packets']} packets, the sender sent {sent}")
        decided = res["flood_hits_kernel"] if v.mode else res["flood_hits_user"]
        if abs(decided - sent) > 0.01 * sent + 100:
            out.append(f"rule flood dropped {decided:.0f} ({'kernel' if v.mode else 'user'}) of {sent} sent")
        if v.mode and abs(res["kernel_seen"] - sent) > 0.01 * sent + 100:
            out.append(f"the kernel saw {res['kernel_seen']:.0f} of {sent} sent")
        if res["udp_rcvbuf_errors"]:
            out.append(f"{res['udp_rcvbuf_errors']} datagrams overflowed a UDP socket in the server namespace")
    else:
        if v.mode and res["kernel_marked"] < 0.99 * res["sent"]:
            out.append(f"only {res['kernel_marked']:.0f} of {res['sent']} queries came up marked by the kernel")
        if set(res["rcodes"]) - {"NOERROR"}:
            out.append(f"rcodes {res['rcodes']}")
    return out


def run_group(ctx, net, group, load, modes, pass_modes):
    variants = ([Variant(group, load, m) for m in modes] + [Variant(group, load, None)]
                + [Variant(group, load, None, foreign=m) for m in pass_modes])
    label = f"{group} @ {load}"
    records, unavailable = [], {}
    for r in range(ctx.args.runs):
        k = r % len(variants)
        for v in variants[k:] + variants[:k]:
            if v.name in unavailable:
                continue
            res, problem = measure(ctx, net, v)
            if res is None:
                unavailable[v.name] = problem
                run.log(f"  [{label}] {v.name}: cannot run, left out: {problem}")
                continue
            res.update(group=label, load=load, variant=v.name, round=r + 1, warnings=check(v, res))
            records.append(res)
            run.log(f"  [{label}] round {r + 1}/{ctx.args.runs} {v.name:11s} {res['offered_qps']:9.0f} qps  "
                    f"dnspc {res['dnspc_cpu_s']:5.2f} s = {run.fmt(res['dnspc_cpu_us_per_q'], 3):>6s} us/q "
                    f"(schedstat {run.fmt(res['dnspc_run_us_per_q'], 3)})  "
                    f"generator {run.fmt(res['generator_cpu_us_per_q'], 3)} nsd {run.fmt(res['nsd_cpu_us_per_q'], 3)} "
                    f"ksoftirqd {run.fmt(res['ksoftirqd_us_per_q'], 3)} "
                    f"traffic {run.fmt(res['traffic_cpu_us_per_q'], 3)} us/q  "
                    f"machine {run.fmt(res['machine_net_cpu_us_per_q'], 3)} us/q net of "
                    f"{res['background_cores']:.2f} cores background (softirq {run.fmt(res['softirq_us_per_q'], 3)})")
            for w in res["warnings"]:
                run.log(f"    WARNING: {w}")
    return records, unavailable


# ---------------------------------------------------------------- the report


def median(vals):
    vals = [x for x in vals if x is not None]
    return statistics.median(vals) if vals else None


def spread(vals, digits):
    vals = [x for x in vals if x is not None]
    if not vals:
        return "-"
    return f"{statistics.median(vals):.{digits}f} ({min(vals):.{digits}f}-{max(vals):.{digits}f})"


COLUMNS = [("offered_qps", "queries/s", 0), ("dnspc_cpu_s", "dnspc CPU s", 2),
           ("dnspc_cpu_us_per_q", "dnspc µs/q", 3), ("dnspc_run_us_per_q", "dnspc µs/q (schedstat)", 3),
           ("generator_cpu_us_per_q", "generator µs/q", 3),
           ("nsd_cpu_us_per_q", "NSD µs/q", 3), ("ksoftirqd_us_per_q", "ksoftirqd µs/q", 3),
           ("traffic_cpu_us_per_q", "sum µs/q", 3),
           ("machine_net_cpu_us_per_q", "machine µs/q (net of background)", 3),
           ("background_cores", "background (cores)", 2)]
RATIOS = [("dnspc_cpu_us_per_q", "dnspc CPU"), ("dnspc_run_us_per_q", "dnspc CPU (schedstat)"),
          ("traffic_cpu_us_per_q", "dnspc+generator+NSD+ksoftirqd CPU")]


def report(records):
    lines = ["| group | variant | " + " | ".join(title for _, title, _ in COLUMNS) + " |",
             "|---|---|" + "---:|" * len(COLUMNS)]
    keys = list(dict.fromkeys((r["group"], r["variant"]) for r in records))
    for group, variant in keys:
        recs = [r for r in records if (r["group"], r["variant"]) == (group, variant)]
        lines.append(f"| {group} | {variant} | "
                     + " | ".join(spread([r[k] for r in recs], d) for k, _, d in COLUMNS) + " |")
    lines.append("")
    ratios = {}
    for group, variant in keys:
        if variant == "user":
            continue
        for key, title in RATIOS:
            per_round = []
            for r in records:
                if (r["group"], r["variant"]) != (group, variant):
                    continue
                base = next((b for b in records if (b["group"], b["variant"], b["round"]) ==
                             (group, "user", r["round"])), None)
                if base and base[key]:
                    per_round.append(r[key] / base[key])
            if per_round:
                ratios[f"{group}/{variant}/{title}"] = per_round
                lines.append(f"- {group}: {variant} / user, {title} per query: {spread(per_round, 3)}")
    return "\n".join(lines), ratios


# ---------------------------------------------------------------- main


@contextlib.contextmanager
def build_lock():
    """The project's build lock, held while measuring: no build shares the cores.
    Under `flock /tmp/dnspc-build.lock python3 ...` the lock is already ours
    (an inherited descriptor holds it): locking it again through a new
    descriptor would wait for ourselves."""
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(fd) == BUILD_LOCK:
                run.log(f"{BUILD_LOCK} is held by whoever started this (descriptor {fd.name})")
                yield
                return
    with open(BUILD_LOCK, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            run.log(f"waiting for {BUILD_LOCK} (a build or another benchmark holds it)")
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="rounds per group")
    ap.add_argument("--duration", type=int, default=5, help="seconds per flood or dnsperf run")
    ap.add_argument("--modes", default="generic,native",
                    help="XDP modes to measure (generic: every interface; native: the driver's hook, veth has one)")
    ap.add_argument("--groups", default="drop,pass")
    ap.add_argument("--pass-program", default="generic",
                    help="XDP modes of an extra user-space variant behind a program that passes everything "
                         "(what any XDP program costs, apart from dnspc's); empty: none")
    ap.add_argument("--flood-qps", default="max,150000",
                    help="comma list of the flood's rates over all senders; max: unpaced")
    ap.add_argument("--senders", type=int, default=1, help="flood_sender processes in the flood client")
    ap.add_argument("--answer-qps", default="20000,max",
                    help="comma list of dnsperf -Q for the pass group; max: no -Q (saturation)")
    ap.add_argument("--pin", action="store_true",
                    help="dnspc on the last CPU, NSD and the generators on the first: softirq work of the "
                         "clients' packets (the XDP program included) then runs on the senders' CPU and is "
                         "never charged to dnspc")
    run.add_common_args(ap)
    args = ap.parse_args(argv)
    args.modes = [m for m in args.modes.split(",") if m]
    args.groups = [g for g in args.groups.split(",") if g]
    args.pass_program = [m for m in args.pass_program.split(",") if m]
    for m in args.modes + args.pass_program:
        if m not in ("generic", "native"):
            ap.error(f"--modes: {m!r} is neither generic nor native")
    for g in args.groups:
        if g not in ("drop", "pass"):
            ap.error(f"--groups: {g!r} is neither drop nor pass")
    for name in ("flood_qps", "answer_qps"):
        loads = [q.strip() for q in getattr(args, name).split(",") if q.strip()]
        for val in loads:
            if val != "max" and not val.isdigit():
                ap.error(f"--{name.replace('_', '-')}: {val!r} is neither a number nor max")
        setattr(args, name, loads)
    if args.runs < 1 or args.duration < 1 or args.senders < 1:
        ap.error("--runs, --duration and --senders must be at least 1")
    return run.finish_common_args(ap, args)


def main(argv=None):
    args = parse_args(argv)
    reason = netns.skip_reason()
    if reason:
        print(f"xdp_bench: cannot run: {reason}", file=sys.stderr)
        sys.exit(SKIP)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started_at = datetime.datetime.now().astimezone()
    facts = run.machine_facts()
    records, unavailable = [], {}
    with netns.Topology(clients=2) as net, net.entered(net.server), contextlib.ExitStack() as cleanup:
        # From here this thread, and every process it starts, is in the server namespace.
        if args.pin:
            os.sched_setaffinity(0, {OTHERS_CPU})  # this thread; what it starts inherits it
        ctx = run.prepare(args, cleanup)
        ctx.sender = build_sender(ctx.workdir)
        ctx.pass_program = pass_program(ctx) if args.pass_program else None
        KSOFTIRQD[:] = ksoftirqd_pids()
        NSD[:] = pids_with_argument(str(ctx.workdir / "nsd.conf"))
        run.log(f"NSD on 127.0.0.1:{ctx.nsd_port} in {net.server.name}; {facts['cpus']} CPUs, "
                f"load average {facts['loadavg_at_start']}")
        with build_lock():
            for group in args.groups:
                for load in args.flood_qps if group == "drop" else args.answer_qps:
                    recs, gone = run_group(ctx, net, group, load, args.modes, args.pass_program)
                    records += recs
                    unavailable.update({f"{group} @ {load}/{k}": v for k, v in gone.items()})
    table, ratios = report(records)
    print()
    print(table)
    for k, v in unavailable.items():
        print(f"- {k}: not measured: {v}")
    if args.json:
        args.json.write_text(json.dumps({
            "command": shlex.join(["python3"] + sys.argv), "started": started_at.isoformat(timespec="seconds"),
            "machine": facts, "options": {k: str(v) for k, v in vars(args).items()},
            "ratios": ratios, "unavailable": unavailable, "runs": records, "markdown": table}, indent=1))
        run.log(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
