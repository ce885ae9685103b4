#!/usr/bin/env python3
"""Benchmark rule sets: one neutral list, translated for each load balancer.

The benchmark compares balancers "with the same rules", so the rules are
generated once, in a neutral form that names no product, and each target
gets a translator that renders the list (plus listener and backend) as its
own configuration. Adding a balancer means adding one render function and
one entry in RENDERERS; the generator and the scenarios stay as they are.

Neutral rule: a dict {"match": {...}, "action": {...}}.

  match kinds
    {"kind": "all"}
    {"kind": "suffix", "suffix": "a.nomatch-1.invalid."}        qname is or is under it
    {"kind": "netmask", "netmask": "198.18.4.0/24"}              source address in it
    {"kind": "regex", "regex": "[a-z]+\\.nomatch-2\\.invalid"}   full match of the
        lower-case qname WITHOUT its trailing dot; patterns use only the
        common subset of POSIX ERE, RE2 and PCRE (no \\d, no lookaround), so
        any engine reads them the same way
    {"kind": "qtype_suffix", "qtype": "TXT", "suffix": "..."}    both must hold

  action kinds
    {"kind": "drop"}
    {"kind": "spoof", "a": "192.0.2.1"}                          answer with this A

Rules run in order, the first match wins, no match means "forward to the
backend". The benchmark traffic asks for A records under bench.test. from
127.0.0.1, so the generated rules never match it: names live under
.invalid, netmasks inside 198.18.0.0/15 (RFC 2544 benchmarking) and
2001:db8::/32 (documentation), qtype rules ask for qtypes other than A.
"""

import argparse
import ipaddress
import json
import random
import sys
from dataclasses import dataclass

DEFAULT_SEED = 2024
SPOOF_ADDRESS = "192.0.2.1"

# qtypes for qtype-and-suffix rules; never A, which is all the traffic asks.
_QTYPES = ("TXT", "MX", "SRV", "ANY", "AAAA", "NS", "CAA")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True)
class Network:
    """Where a balancer listens and where its single backend (NSD) is."""

    listen_port: int
    backend_port: int
    check_name: str  # a name inside the backend's zone, for health checks
    host: str = "127.0.0.1"


# ---------------------------------------------------------------- generator


def _label(rng, lo=3, hi=10):
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(lo, hi)))


def _suffix(rng, i):
    # 0 to 2 extra labels so suffixes have different depths, as real lists do.
    extra = "".join(_label(rng) + "." for _ in range(rng.randint(0, 2)))
    return f"{extra}nomatch-{i}.invalid."


def _netmask(rng):
    # Half IPv4 inside 198.18.0.0/15, half IPv6 inside 2001:db8::/32, with
    # prefix lengths spread the way block lists spread them.
    if rng.random() < 0.5:
        base, length = ipaddress.ip_network("198.18.0.0/15"), rng.randint(16, 32)
    else:
        base, length = ipaddress.ip_network("2001:db8::/32"), rng.choice((32, 40, 48, 56, 64, 128))
    host = base.network_address + rng.getrandbits(base.max_prefixlen - base.prefixlen)
    return str(ipaddress.ip_network(f"{host}/{length}", strict=False))


def _regex(rng, i):
    zone = f"nomatch-re-{i}\\.invalid"
    shapes = (
        f"[a-z0-9]{{{rng.randint(12, 32)},}}\\.{zone}",  # random-subdomain attack
        f"(www|mail|ns[0-9]+)\\.{_label(rng)}\\.{zone}",  # alternation
        f"[a-z]+-[0-9]{{{rng.randint(2, 6)}}}\\.{zone}",  # counted repetition
        f"([a-z0-9-]+\\.)*{_label(rng)}[0-9]*\\.{zone}",  # any depth
    )
    return rng.choice(shapes)


def _mix_counts(n):
    """The project's standard mix: 3/8 suffix, 3/8 netmask, 1/8 regex, 1/8 qtype+suffix."""
    suffix = netmask = 3 * n // 8
    regex = n // 8
    return {"suffix": suffix, "netmask": netmask, "regex": regex,
            "qtype_suffix": n - suffix - netmask - regex}


def generate_nonmatching(n, seed=DEFAULT_SEED, action=None):
    """n rules of the standard mix, none of which matches the benchmark traffic.

    Deterministic for a given (n, seed). Kinds are shuffled together so that
    a balancer which evaluates rules in order meets every kind throughout.
    """
    rng = random.Random(seed)
    action = action or {"kind": "drop"}
    matches = []
    counts = _mix_counts(n)
    netmasks = set()
    while len(netmasks) < counts["netmask"]:
        netmasks.add(_netmask(rng))
    matches += [{"kind": "netmask", "netmask": m} for m in sorted(netmasks)]
    matches += [{"kind": "suffix", "suffix": _suffix(rng, i)} for i in range(counts["suffix"])]
    matches += [{"kind": "regex", "regex": _regex(rng, i)} for i in range(counts["regex"])]
    matches += [{"kind": "qtype_suffix", "qtype": rng.choice(_QTYPES),
                 "suffix": f"{_label(rng)}.nomatch-qt-{i}.invalid."}
                for i in range(counts["qtype_suffix"])]
    rng.shuffle(matches)
    return [{"match": m, "action": dict(action)} for m in matches]


# ---------------------------------------------------------------- scenarios

# name -> (title, function(n_rules, seed) -> rules, does the floor forwarder take part)
# The floor forwarder has no rule engine, so it only joins the no-rule case.
SCENARIOS = {
    "a": ("forward, no rules", lambda n, seed: [], True),
    "b": ("forward, {n} non-matching rules", generate_nonmatching, False),
    "c": ("spoof every query (A 192.0.2.1)",
          lambda n, seed: [{"match": {"kind": "all"},
                            "action": {"kind": "spoof", "a": SPOOF_ADDRESS}}], False),
}


def scenario_title(name, n_rules):
    return SCENARIOS[name][0].format(n=n_rules)


def scenario_rules(name, n_rules=800, seed=DEFAULT_SEED):
    return SCENARIOS[name][1](n_rules, seed)


def floor_takes_part(name):
    return SCENARIOS[name][2]


# ---------------------------------------------------------------- dnsdist


def _lua_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dnsdist_selector(m):
    kind = m["kind"]
    if kind == "all":
        return "AllRule()"
    if kind in ("suffix", "netmask"):
        # makeRule() builds a SuffixMatchNodeRule or a NetmaskGroupRule from
        # the string, as dnsdist's own documentation writes such rules.
        return f"makeRule({_lua_str(m[kind])})"
    if kind == "regex":
        # RegexRule matches the qname without its trailing dot (POSIX ERE,
        # case-insensitive), which is the neutral form's convention.
        return f"RegexRule({_lua_str('^' + m['regex'] + '$')})"
    if kind == "qtype_suffix":
        return (f"AndRule({{QTypeRule(DNSQType.{m['qtype']}), "
                f"makeRule({_lua_str(m['suffix'])})}})")
    raise ValueError(f"dnsdist: unknown match kind {kind!r}")


def _dnsdist_action(a):
    if a["kind"] == "drop":
        return "DropAction()"
    if a["kind"] == "spoof":
        return f"SpoofAction({_lua_str(a['a'])})"
    raise ValueError(f"dnsdist: unknown action kind {a['kind']!r}")


def render_dnsdist(rules, net):
    """A dnsdist 1.7 Lua configuration: one listener, one backend, the rules."""
    lines = [
        "-- generated by tests/bench/rules.py; do not edit",
        # No phoning home for security status during a benchmark.
        'setSecurityPollSuffix("")',
        f'setLocal("{net.host}:{net.listen_port}")',
        'setACL({"127.0.0.0/8", "::1/128"})',
        # The health check must ask for a name inside NSD's zone: NSD answers
        # REFUSED outside it and dnsdist would mark the backend down.
        f'newServer({{address="{net.host}:{net.backend_port}", '
        f'checkName="{net.check_name}", checkType="A"}})',
    ]
    lines += [f"addAction({_dnsdist_selector(r['match'])}, {_dnsdist_action(r['action'])})"
              for r in rules]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- dnspc
# dnspc's translator renders the same neutral list in its policy language
# (.dp); it lives in render_dnspc.py beside this file (it imports this
# module, so it is registered by whoever imports both, e.g. run.py when it
# gains a dnspc target: RENDERERS["dnspc"] = render_dnspc.render_dnspc).

RENDERERS = {
    "dnsdist": render_dnsdist,
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="b", choices=sorted(SCENARIOS))
    ap.add_argument("--rules", type=int, default=800, help="rule count for scenario b")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--target", default="neutral", choices=["neutral"] + sorted(RENDERERS))
    ap.add_argument("--listen-port", type=int, default=5300)
    ap.add_argument("--backend-port", type=int, default=5301)
    args = ap.parse_args(argv)
    rules = scenario_rules(args.scenario, args.rules, args.seed)
    if args.target == "neutral":
        json.dump(rules, sys.stdout, indent=1)
        print()
    else:
        net = Network(args.listen_port, args.backend_port, "bench.test.")
        sys.stdout.write(RENDERERS[args.target](rules, net))


if __name__ == "__main__":
    main()
