#!/usr/bin/env python3
"""Encode/decode self-check of cross-built wsflowd binaries under qemu-user.

    python3 scripts/cross_selfcheck.py --native target/cross/selfcheck/x86_64/wsflowd \\
        mips_24kc=qemu-mips-static:dist/mips_24kc/wsflowd:target/cross/selfcheck/mips_24kc/wsflowd ...

For each architecture, two builds (run through its qemu, or directly when no
qemu is given): the shipped binary, which has no `collect` (OpenWrt builds
leave the collector out), and a DECODER, the same sources built for the same
target with the default features. --native must have `collect` too.

1. `wsflowd --version` must print the same line as the native binary.
2. `wsflowd --check-config` must accept openwrt/files/wsflowd.config.
3. Decoding: the DECODER's `collect --read CAPTURE --json` must print exactly what
   the native binary prints for the same capture: a pcap of datagrams the
   native agent sent (counter samples with every host structure: strings,
   MAC addresses, 32- and 64-bit counters, floats).
4. Encoding: the binary runs as an agent for a few seconds, sending to a
   UDP socket here; the native `collect` must decode its datagrams, with
   the same sample and record types as the native agent's.

The agents run without interfaces (host counters only), so neither root nor
packet sockets are needed: qemu-user lacks some packet socket options.
Exit status 0 when every check passes.
"""

import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import shutil
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENT_SECONDS = 5.0


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def write_pcap(path, datagrams):
    """Ethernet/IPv4/UDP frames to port 6343, one per datagram."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for n, (payload, sport) in enumerate(datagrams):
            udp = struct.pack("!HHHH", sport, 6343, 8 + len(payload), 0) + payload
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0, 64, 17, 0,
                             socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1"))
            csum = sum(struct.unpack("!10H", ip))
            csum = (csum & 0xFFFF) + (csum >> 16)
            csum = (csum & 0xFFFF) + (csum >> 16)
            ip = ip[:10] + struct.pack("!H", ~csum & 0xFFFF) + ip[12:]
            frame = b"\0" * 12 + b"\x08\x00" + ip + udp
            f.write(struct.pack("<IIII", 1700000000 + n, 0, len(frame), len(frame)))
            f.write(frame)


def capture_agent(cmd, workdir, tag):
    """Runs the agent `cmd` (a list) for a few seconds; returns the datagrams
    it sent and its log."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = os.path.join(workdir, tag + ".uci")
    with open(config, "w") as f:
        f.write("config agent 'agent'\n\toption polling_interval '1'\n"
                "\toption agent_address '192.0.2.1'\n\n"
                "config collector\n\toption address '127.0.0.1'\n\toption port '%d'\n" % port)
    log = open(os.path.join(workdir, tag + ".log"), "w+")
    agent = subprocess.Popen(cmd + ["-f", "-c", config], stdout=log, stderr=log)
    sock.settimeout(0.2)
    datagrams = []
    deadline = time.monotonic() + AGENT_SECONDS
    while time.monotonic() < deadline:
        try:
            data, peer = sock.recvfrom(65535)
            datagrams.append((data, peer[1]))
        except socket.timeout:
            pass
    agent.send_signal(signal.SIGTERM)
    try:
        agent.wait(timeout=10)
    except subprocess.TimeoutExpired:
        agent.kill()
    log.seek(0)
    return datagrams, log.read()


def decode(cmd, pcap):
    r = run(cmd + ["collect", "--read", pcap, "--json"])
    if r.returncode != 0:
        return None, r.stderr
    return r.stdout, r.stderr


def shape(json_lines):
    """The sample and record types of each sample, in order."""
    out = []
    for line in json_lines.splitlines():
        s = json.loads(line)
        out.append((s.get("type"), tuple(r.get("type") for r in s.get("records", []))))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--native", required=True, help="a wsflowd that runs on this machine")
    ap.add_argument("targets", nargs="+", help="ARCH=QEMU:BINARY:DECODER (QEMU may be empty)")
    args = ap.parse_args()
    native = [os.path.abspath(args.native)]
    work = tempfile.mkdtemp(prefix="wsflowd-selfcheck-")
    try:
        return check(args, native, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check(args, native, work):
    """Steps 1-4 for every target; the exit status."""
    failures = []
    version = run(native + ["--version"]).stdout.strip()
    datagrams, log = capture_agent(native, work, "native")
    if not datagrams:
        print("native agent sent nothing:\n" + log)
        return 1
    reference_pcap = os.path.join(work, "native.pcap")
    write_pcap(reference_pcap, datagrams)
    reference, _ = decode(native, reference_pcap)
    reference_shape = set(shape(reference))
    print("reference: %d datagrams, %d samples from %s" % (
        len(datagrams), len(reference.splitlines()), version))

    for spec in args.targets:
        arch, rest = spec.split("=", 1)
        qemu, binary, decoder = rest.split(":", 2)
        cmd = ([qemu] if qemu else []) + [os.path.abspath(binary)]
        decoder_cmd = ([qemu] if qemu else []) + [os.path.abspath(decoder)]
        problems = []

        got = run(cmd + ["--version"]).stdout.strip()
        if got != version:
            problems.append("--version printed %r, expected %r" % (got, version))

        r = run(cmd + ["--check-config", "-c", os.path.join(REPO, "openwrt", "files", "wsflowd.config")])
        if r.returncode != 0:
            problems.append("--check-config refused openwrt/files/wsflowd.config: " + r.stderr.strip())

        out, err = decode(decoder_cmd, reference_pcap)
        if out != reference:
            problems.append("collect --read differs from the native decoding" + (": " + err if out is None else ""))

        sent, log = capture_agent(cmd, work, arch)
        if not sent:
            problems.append("its agent sent no datagram; log:\n" + log)
        else:
            pcap = os.path.join(work, arch + ".pcap")
            write_pcap(pcap, sent)
            out, err = decode(native, pcap)
            if out is None:
                problems.append("the native collect cannot decode its datagrams: " + err)
            elif not out or not set(shape(out)) <= reference_shape:
                problems.append("its samples differ in type from the native agent's: %s" % shape(out))

        if problems:
            failures.append(arch)
            print("%s: FAILED\n  %s" % (arch, "\n  ".join(problems)))
        else:
            print("%s: ok (--version, --check-config, %d samples decoded identically, "
                  "%d datagrams of its agent decoded)"
                  % (arch, len(reference.splitlines()), len(sent)))
    if failures:
        print("self-check failed for: " + " ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
