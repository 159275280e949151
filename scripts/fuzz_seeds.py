#!/usr/bin/env python3
"""Seeds the fuzz corpora from the shared captures and the example configs.

- fuzz/corpus/sflow_datagram: UDP payloads to port 6343 of the sFlow captures
- fuzz/corpus/radiotap: every frame of the radiotap (127) and raw 802.11 (105)
  captures
- fuzz/corpus/uci: tests/config_files/*.uci
- fuzz/corpus/collect: the same datagrams as sflow_datagram
- fuzz/corpus/hostapd_control: what a real hostapd sent on its control
  socket (tests/fixtures/hostapd_control/): each reply file, each event line,
  and the replies of each recorded exchange joined at NUL (the target also
  reads its input as a sequence of datagrams cut at NUL)
- fuzz/corpus/dns: UDP payloads from port 53 of the captures (responses),
  and dnsmasq's answers to SRV and TXT queries of DNS-SD (recorded in a
  namespace, the same bytes src/dns/message.rs tests)

Usage: scripts/fuzz_seeds.py [CAPTURES_DIR]   (default ../shared/captures)
"""
import glob
import hashlib
import os
import shutil
import struct
import sys

captures = sys.argv[1] if len(sys.argv) > 1 else "../shared/captures"
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
corpus = os.path.join(root, "fuzz", "corpus")


def records(path):
    """(link type, frame bytes) of each record of a classic pcap file."""
    data = open(path, "rb").read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    link = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    at = 24
    while at + 16 <= len(data):
        incl = struct.unpack(e + "I", data[at + 8 : at + 12])[0]
        frame = data[at + 16 : at + 16 + incl]
        at += 16 + incl
        yield link, frame


def udp_to_6343(frame, port=6343, field=2):
    """The UDP payload of an Ethernet/IPv4 or IPv6 frame sent to port 6343
    (or from/to another port: field 0 is the source port, 2 the
    destination)."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack(">H", frame[12:14])[0]
    ip = frame[14:]
    if ethertype == 0x0800 and len(ip) >= 20 and ip[9] == 17:
        udp = ip[(ip[0] & 0x0F) * 4 :]
    elif ethertype == 0x86DD and len(ip) >= 40 and ip[6] == 17:
        udp = ip[40:]
    else:
        return None
    if len(udp) < 8 or struct.unpack(">H", udp[field : field + 2])[0] != port:
        return None
    return udp[8:]


def save(kind, data):
    d = os.path.join(corpus, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


for path in sorted(glob.glob(os.path.join(captures, "*", "*.pcap"))):
    for link, frame in records(path):
        if link == 1:
            payload = udp_to_6343(frame)
            if payload:
                save("sflow_datagram", payload)
                save("collect", payload)
            response = udp_to_6343(frame, 53, 0)
            if response:
                save("dns", response)
        elif link in (105, 127):
            save("radiotap", frame)

os.makedirs(os.path.join(corpus, "uci"), exist_ok=True)
for path in glob.glob(os.path.join(root, "tests", "config_files", "*.uci")):
    shutil.copy(path, os.path.join(corpus, "uci"))
hostapd = os.path.join(root, "tests", "fixtures", "hostapd_control")
# stall/ holds what the shell saw (pings, actions), not hostapd's output.
replies = [d for d in sorted(glob.glob(os.path.join(hostapd, "*", ""))) if "stall" not in d]
for d in replies:
    for path in sorted(glob.glob(os.path.join(d, "*.txt"))):
        save("hostapd_control", open(path, "rb").read())
for path in sorted(glob.glob(os.path.join(hostapd, "events-*.txt"))):
    for line in open(path, "rb").read().split(b"\n"):
        if line:
            save("hostapd_control", line)
for d in replies:
    # Selector bytes: 3 = STATUS, 4 = STA-FIRST, 5 = STA-NEXT in flight.
    replies = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(d, "*.txt")))]
    joined = b"\0".join(bytes([4 if b"flags=" in r else 3]) + r for r in replies)
    save("hostapd_control", joined)

# dnsmasq 2.90's answers to _sflow._udp.test.lan SRV and TXT (with EDNS).
for answer in (
    "8a5a85800001000200000002065f73666c6f77045f7564700474657374036c616e0000210001c00c002100010000005a00130001000a18c80263320474657374036c616e00c00c002100010000005a00130000000018c70263310474657374036c616e00c057000100010000005a00040a35000a00002904d0000000000000",
    "06e385800001000100000001065f73666c6f77045f7564700474657374036c616e0000100001c00c001000010000005a002109747874766572733d310b73616d706c696e673d35300a706f6c6c696e673d313000002904d0000000000000",
):
    save("dns", bytes.fromhex(answer))
for kind in ("sflow_datagram", "collect", "radiotap", "uci", "hostapd_control", "dns"):
    d = os.path.join(corpus, kind)
    print(f"{kind}: {len(os.listdir(d)) if os.path.isdir(d) else 0} seeds")
