#!/usr/bin/env python3
"""Renders the benchmark's neutral rule list (rules.py) as a dnspc policy.

    render_dnspc.py N [--seed S] [-o FILE]     a policy of N non-matching rules

The rule names are r0, r1, ... in order; the policy ends with the catch-all
the language requires. rules.py's regexes match the whole name without its
trailing dot, so each becomes /^(...)\\.$/ over dnspc's text form.
"""
import argparse
import sys

import rules as neutral


def _condition(m):
    kind = m["kind"]
    if kind == "all":
        return "true"
    if kind == "suffix":
        return f'qname suffix "{m["suffix"]}"'
    if kind == "netmask":
        return f"src in {m['netmask']}"
    if kind == "regex":
        return f"qname ~ /^({m['regex']})\\.$/"
    if kind == "qtype_suffix":
        return f'qtype == {m["qtype"]} and qname suffix "{m["suffix"]}"'
    raise ValueError(f"unknown match kind {kind}")


def _action(a):
    if a["kind"] == "drop":
        return "drop"
    if a["kind"] == "spoof":
        return f"spoof A {a['a']}"
    raise ValueError(f"unknown action kind {a['kind']}")


def render_dnspc(rules, net, workers=1, control=None, options=()):
    """A dnspc policy: one listener, one backend pool, the rules, a catch-all;
    `options`: extra `option NAME VALUE` pairs."""
    out = [f"listen {net.host}:{net.listen_port};",
           f"option workers {workers};"]
    out += [f"option {name} {value};" for name, value in options]
    if control:
        out.append(f'control "{control}";')
    out.append("pool backend {")
    out.append(f'  server {net.host}:{net.backend_port} check "{net.check_name}";')
    out.append("}")
    for i, r in enumerate(rules):
        out.append(f"rule r{i}: {_condition(r['match'])} => {_action(r['action'])};")
    out.append("rule default: true => pool backend;")
    return "\n".join(out) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("n", type=int)
    p.add_argument("--seed", type=int, default=neutral.DEFAULT_SEED)
    p.add_argument("-o", "--output")
    args = p.parse_args(argv)
    net = neutral.Network(listen_port=5300, backend_port=5301, check_name="bench.test.")
    text = render_dnspc(neutral.generate_nonmatching(args.n, args.seed), net)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
