#!/usr/bin/env python3
"""Writes a C++ file holding a file's bytes as `dnspc_xdp_lib_bitcode`."""
import sys

data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "w") as out:
    out.write("// Generated from the BPF library's bitcode at build time; never committed.\n")
    out.write('extern "C" const unsigned char dnspc_xdp_lib_bitcode[] = {\n')
    for i in range(0, len(data), 24):
        out.write(",".join(str(b) for b in data[i:i + 24]) + ",\n")
    out.write("};\n")
    out.write(f'extern "C" const unsigned long dnspc_xdp_lib_bitcode_size = {len(data)};\n')
