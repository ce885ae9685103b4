"""Network namespaces for the kernel fast path's end-to-end tests (docs/xdp.md).

The topology: a server namespace where dnspc and its backends run, client
namespaces that send queries, and a switch namespace with a bridge between
them. The server has one interface, `dnspc0`, on which every client's packet
arrives: the interface dnspc attaches its XDP program to, so the test is
honest (the program really sees the clients' packets on receive, in generic
mode on a veth as on a NIC). Clients have distinct source addresses, so a
flood from one and normal queries from another are told apart by policy.

    198.18.0.0/24 (RFC 2544's benchmark range, never routed)
    server  dnspc0 198.18.0.1 --+
    client1 eth0   198.18.0.2 --+-- bridge in the switch namespace
    client2 eth0   198.18.0.3 --+

Every namespace has its loopback up (the backends listen on 127.0.0.1 in the
server namespace). IPv6 is off, so no neighbour discovery crosses the link
uninvited; IPv4 neighbours are resolved by ARP as usual.

    reason = skip_reason()           # None, or why these tests cannot run
    with Topology() as net:
        net.run_in(net.server, ["ip", "addr"])
        proc = net.popen_in(net.server, ["nsd", ...])   # killed on the way out
        with net.entered(net.client(0)):                # this thread inside
            sock = socket.socket(...)                   # stays in client1

Whatever happens inside the `with`, the processes started with popen_in are
killed and the namespaces deleted (an atexit hook backs this up, and a later
run deletes the namespaces of a run that was killed outright).
"""

import atexit
import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess

SUBNET_PREFIX = "198.18.0."
SERVER_ADDRESS = SUBNET_PREFIX + "1"
SERVER_INTERFACE = "dnspc0"
_NAME_RE = re.compile(r"^dnspc-t(\d+)-")
_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_live_topologies = []


def skip_reason():
    """None when this process can build the topology; else why not."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth pairs, XDP)"
    if shutil.which("ip") is None:
        return "no `ip` command (Debian package iproute2)"
    probe = f"dnspc-t{os.getpid()}-probe"
    done = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if done.returncode != 0:
        return f"cannot create a network namespace: {done.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _ip(*args):
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def _delete_stale_namespaces():
    """Namespaces of earlier runs whose process is gone (a SIGKILL skips every cleanup)."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in listed.splitlines():
        name = line.split()[0] if line.split() else ""
        match = _NAME_RE.match(name)
        if match and not os.path.exists(f"/proc/{match.group(1)}"):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


class Namespace:
    def __init__(self, name, address, interface):
        self.name = name
        self.address = address  # on `interface`; None for the switch
        self.interface = interface

    def __repr__(self):
        return f"Namespace({self.name!r}, {self.address!r})"


class Topology:
    """A server, `clients` clients and the switch between them; a context manager."""

    _count = 0

    def __init__(self, clients=2):
        if not 1 <= clients <= 200:
            raise ValueError("clients: 1 to 200")
        Topology._count += 1
        tag = f"dnspc-t{os.getpid()}-{Topology._count}"
        self.switch = Namespace(f"{tag}-switch", None, "br0")
        self.server = Namespace(f"{tag}-server", SERVER_ADDRESS, SERVER_INTERFACE)
        self.clients = [Namespace(f"{tag}-client{i + 1}", f"{SUBNET_PREFIX}{i + 2}", "eth0") for i in range(clients)]
        self._created = []
        self._processes = []

    def client(self, i):
        return self.clients[i]

    def namespaces(self):
        return [self.switch, self.server, *self.clients]

    # -- lifecycle ----------------------------------------------------------

    def __enter__(self):
        _delete_stale_namespaces()
        _live_topologies.append(self)
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _build(self):
        for ns in self.namespaces():
            _ip("netns", "add", ns.name)
            self._created.append(ns.name)
            for key in ("all", "default"):
                self.run_in(ns, ["sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=1"], check=True)
            _ip("-n", ns.name, "link", "set", "lo", "up")
        sw = self.switch.name
        _ip("-n", sw, "link", "add", "br0", "type", "bridge")
        _ip("-n", sw, "link", "set", "br0", "up")
        for i, ns in enumerate([self.server, *self.clients]):
            port = f"port{i}"
            _ip("-n", sw, "link", "add", port, "type", "veth", "peer", "name", ns.interface, "netns", ns.name)
            _ip("-n", sw, "link", "set", port, "master", "br0")
            _ip("-n", sw, "link", "set", port, "up")
            _ip("-n", ns.name, "addr", "add", f"{ns.address}/24", "dev", ns.interface)
            _ip("-n", ns.name, "link", "set", ns.interface, "up")

    def close(self):
        for p in self._processes:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(p.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(timeout=5)
        self._processes.clear()
        # Deleting a namespace deletes its veth ends, and the bridge with the switch.
        for name in reversed(self._created):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        self._created.clear()
        if self in _live_topologies:
            _live_topologies.remove(self)

    # -- running things inside ----------------------------------------------

    @staticmethod
    def prefix(ns):
        """The argv prefix that runs a command in `ns`."""
        return ["ip", "netns", "exec", ns.name]

    def run_in(self, ns, argv, timeout=30, check=False, **kwargs):
        """Runs argv in `ns` to completion; its CompletedProcess (output captured as text)."""
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        done = subprocess.run(self.prefix(ns) + list(argv), timeout=timeout, **kwargs)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} in {ns.name}: exit {done.returncode}: {done.stderr}")
        return done

    def popen_in(self, ns, argv, **kwargs):
        """Starts argv in `ns`, in its own process group, killed when the topology closes."""
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(self.prefix(ns) + list(argv), start_new_session=True, **kwargs)
        self._processes.append(p)
        return p

    @contextlib.contextmanager
    def entered(self, ns):
        """The calling thread inside `ns` until the block ends: sockets it opens
        and processes or threads it starts meanwhile stay there."""
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"/run/netns/{ns.name}", os.O_RDONLY)
        try:
            if _libc.setns(target, _CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns into {ns.name}: {os.strerror(err)}")
            try:
                yield ns
            finally:
                _libc.setns(home, _CLONE_NEWNET)
        finally:
            os.close(target)
            os.close(home)

    def interface_counters(self, ns):
        """rx_packets, tx_packets of the namespace's interface."""
        base = "/sys/class/net/{}/statistics/".format(ns.interface)
        # /sys shows the namespace of whoever mounted it: read it from inside.
        done = self.run_in(ns, ["cat", base + "rx_packets", base + "tx_packets"], check=True)
        rx, tx = (int(v) for v in done.stdout.split())
        return rx, tx


@atexit.register
def _close_all():
    for t in list(_live_topologies):
        t.close()
