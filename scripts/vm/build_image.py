#!/usr/bin/env python3
"""Builds the VM image of the Wi-Fi test rig (tests/vm.rs) from Debian
packages only.

    python3 scripts/vm/build_image.py [--cache target/vm]

Output, in the cache directory (default target/vm):

    image/vmlinuz          the kernel of the package linux-image-amd64
                           depends on, as Debian ships it
    image/initramfs.cpio   busybox-static, hostapd, wpasupplicant, iw,
                           iproute2 (`ip netns`), tcpdump, util-linux's
                           setpriv, libcap2-bin's capsh, the shared libraries
                           they load, the kernel modules of the rig
                           (mac80211_hwsim, 9p over virtio, bridge, the
                           WPA2 ciphers) and scripts/vm/init as /init
    image/manifest.json    the package versions and the cache key

Nothing is installed on the host: the packages are fetched with
`apt-get download` and unpacked with `dpkg-deb -x`. Cached, keyed by
version: the .debs (debs/), every unpacked package (unpacked/NAME_VERSION/)
and the image itself, rebuilt only when a package version, this script or
the init script changes; the versions themselves (resolved.json) while
the apt package lists are unchanged. The same inputs give the same bytes.
The agent and the scenarios are not in the image:
the test hands them to the guest through a virtio-9p share, so that
changing either does not rebuild anything here.

The shared libraries come from the packages' dependencies (every `lib*`
package, Section libs, in the closure of Depends/Pre-Depends); which files go into the
image is decided by reading each ELF file's DT_NEEDED entries, so only what
the binaries load is copied. Kernel module dependencies are read from each
module's `.modinfo` section (the package ships no modules.dep and the host
may have no depmod); the init script loads them in the order written to
/lib/modules/load-order.

Only the standard library is used.
"""

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import stat
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# Packages whose files the image needs (the kernel package is found through
# linux-image-amd64).
PACKAGES = [
    "busybox-static",
    "hostapd",
    "wpasupplicant",
    "iw",
    "iproute2",
    "tcpdump",
    "util-linux",   # setpriv: run the agent as a user with capabilities
    "libcap2-bin",  # capsh: print the capabilities a process really has
]

# Executables copied from the unpacked packages: (path in the package,
# path in the image). Debian's binaries go to /usr/{s,}bin, ahead of
# busybox's applets in PATH (busybox's `ip` has no `netns`).
EXECUTABLES = [
    ("usr/sbin/hostapd", "usr/sbin/hostapd"),
    ("usr/sbin/hostapd_cli", "usr/sbin/hostapd_cli"),
    ("sbin/wpa_supplicant", "usr/sbin/wpa_supplicant"),
    ("sbin/wpa_cli", "usr/sbin/wpa_cli"),
    ("sbin/iw", "usr/sbin/iw"),
    ("bin/ip", "usr/sbin/ip"),
    ("usr/bin/tcpdump", "usr/sbin/tcpdump"),
    ("usr/bin/setpriv", "usr/bin/setpriv"),
    ("sbin/capsh", "usr/sbin/capsh"),
]

# Kernel modules the rig loads (their dependencies are added). The crypto
# modules are those WPA2-CCMP and 802.11w ask for (crypto-ccm(aes),
# crypto-ctr(aes), crypto-cbcmac(aes), cmac, gcm): loaded up front because
# the image has no module aliases for the kernel's request_module.
MODULES = [
    "virtio_pci",
    "9pnet_virtio",
    "9p",
    "ctr",
    "ccm",
    "cmac",
    "gcm",
    "ghash-generic",
    "bridge",
    "veth",
    "mac80211_hwsim",
]

# Users of the image: the agent runs as `wsflowd` in the unprivileged
# scenarios; tcpdump knows `tcpdump` (it is run with -Z root anyway).
PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "tcpdump:x:104:108::/nonexistent:/bin/false\n"
    "wsflowd:x:1000:1000:wsflowd:/nonexistent:/bin/false\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = "root:x:0:\ntcpdump:x:108:\nwsflowd:x:1000:\nnogroup:x:65534:\n"


def log(msg):
    print(f"vm image: {msg}", file=sys.stderr, flush=True)


def run(args, **kw):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, text=True, **kw).stdout


# --------------------------------------------------------------------------
# apt: versions, dependencies, downloads


def apt_show(names):
    """Package -> {Version, Depends, Pre-Depends, Filename} for the candidate
    version of each name (virtual or unknown names are left out)."""
    out = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", *names],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ).stdout
    info = {}
    for para in out.split("\n\n"):
        fields = {}
        key = None
        for line in para.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if "Package" in fields and fields["Package"] not in info:
            info[fields["Package"]] = fields
    return info


def first_alternatives(depends):
    """Package names of a Depends field, the first of each alternative."""
    names = []
    for item in depends.split(","):
        item = item.strip()
        if not item:
            continue
        first = item.split("|")[0].strip()
        name = re.split(r"[\s(:]", first, maxsplit=1)[0]
        names.append(name)
    return names


def resolve(packages):
    """The packages and the shared-library packages (Section: libs) of
    their dependency closure, with their candidate versions."""
    info = apt_show(packages)
    if len(info) < len(packages):
        log("package lists incomplete: apt-get update")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        info = apt_show(packages)
    missing = [p for p in packages if p not in info]
    if missing:
        sys.exit(f"vm image: no such Debian package: {' '.join(missing)}")
    wanted = dict(info)
    frontier = list(info)
    while frontier:
        deps = set()
        for name in frontier:
            fields = wanted[name]
            for field in ("Depends", "Pre-Depends"):
                for dep in first_alternatives(fields.get(field, "")):
                    if dep not in wanted:
                        deps.add(dep)
        found = apt_show(sorted(deps)) if deps else {}
        # Only libraries: debconf, adduser and the like are not needed to
        # run the binaries (and would pull in perl).
        found = {n: f for n, f in found.items() if f.get("Section", "").endswith("libs")}
        wanted.update(found)
        frontier = list(found)
    return {name: fields["Version"] for name, fields in wanted.items()}


def kernel_package():
    info = apt_show(["linux-image-amd64"])
    if "linux-image-amd64" not in info:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        info = apt_show(["linux-image-amd64"])
    if "linux-image-amd64" not in info:
        sys.exit("vm image: apt knows no linux-image-amd64")
    deps = first_alternatives(info["linux-image-amd64"].get("Depends", ""))
    kernels = [d for d in deps if d.startswith("linux-image-")]
    if not kernels:
        sys.exit("vm image: linux-image-amd64 depends on no linux-image-* package")
    name = kernels[0]
    return name, apt_show([name])[name]["Version"]


def deb_path(cache, name, version):
    # apt-get download names files NAME_VERSION_ARCH.deb with ':' as %3a.
    quoted = version.replace(":", "%3a")
    debs = os.path.join(cache, "debs")
    for arch in ("amd64", "all"):
        path = os.path.join(debs, f"{name}_{quoted}_{arch}.deb")
        if os.path.exists(path):
            return path
    return None


def download(cache, versions):
    """Downloads the .debs not in the cache yet."""
    debs = os.path.join(cache, "debs")
    os.makedirs(debs, exist_ok=True)
    todo = [f"{n}={v}" for n, v in sorted(versions.items()) if not deb_path(cache, n, v)]
    if todo:
        log(f"apt-get download {len(todo)} packages")
        # As root apt drops to the user _apt, which cannot write here.
        subprocess.run(
            ["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", *todo],
            cwd=debs,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    for n, v in versions.items():
        if not deb_path(cache, n, v):
            sys.exit(f"vm image: {n} {v} was not downloaded")


def unpack(cache, name, version):
    """Unpacks a .deb once into unpacked/NAME_VERSION/; returns the path."""
    quoted = version.replace(":", "%3a")
    target = os.path.join(cache, "unpacked", f"{name}_{quoted}")
    if not os.path.isdir(target):
        tmp = target + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        subprocess.run(["dpkg-deb", "-x", deb_path(cache, name, version), tmp], check=True)
        os.rename(tmp, target)
    return target


# --------------------------------------------------------------------------
# ELF: DT_NEEDED of shared objects, .modinfo of kernel modules


class Elf:
    """Just enough of an ELF64 little-endian file: sections by name, and
    the dynamic section's NEEDED entries."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise ValueError(f"{path}: not a 64-bit little-endian ELF file")
        shoff, = struct.unpack_from("<Q", d, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3A)
        self.sections = []
        for i in range(shnum):
            name, typ, _flags, _addr, off, size, link = struct.unpack_from(
                "<IIQQQQI", d, shoff + i * shentsize
            )
            self.sections.append((name, typ, off, size, link))
        _, _, stroff, strsize, _ = self.sections[shstrndx]
        self.names = d[stroff : stroff + strsize]

    def section(self, wanted):
        for name, _typ, off, size, _link in self.sections:
            end = self.names.index(b"\0", name)
            if self.names[name:end].decode() == wanted:
                return self.data[off : off + size]
        return None

    def needed(self):
        SHT_DYNAMIC, DT_NEEDED = 6, 1
        out = []
        for _name, typ, off, size, link in self.sections:
            if typ != SHT_DYNAMIC:
                continue
            _, _, stroff, strsize, _ = self.sections[link]
            strtab = self.data[stroff : stroff + strsize]
            for i in range(0, size, 16):
                tag, val = struct.unpack_from("<qQ", self.data, off + i)
                if tag == 0:
                    break
                if tag == DT_NEEDED:
                    out.append(strtab[val : strtab.index(b"\0", val)].decode())
        return out


def modinfo(path):
    """The key=value pairs of a kernel module's .modinfo section."""
    raw = Elf(path).section(".modinfo") or b""
    info = {}
    for item in raw.split(b"\0"):
        if b"=" in item:
            k, _, v = item.decode(errors="replace").partition("=")
            info.setdefault(k, v)
    return info


def module_load_order(modules_dir, roots):
    """Paths (relative to modules_dir) of `roots` and their dependencies,
    each after the modules it depends on."""
    by_name = {}
    for dirpath, _dirs, files in os.walk(modules_dir):
        for f in files:
            if f.endswith(".ko"):
                # Module names use '_' where file names may use '-'.
                by_name[f[:-3].replace("-", "_")] = os.path.join(dirpath, f)
    order, seen = [], set()

    def visit(name, chain):
        name = name.replace("-", "_")
        if name in seen:
            return
        if name in chain:
            sys.exit(f"vm image: module dependency cycle: {' -> '.join(chain + [name])}")
        if name not in by_name:
            sys.exit(f"vm image: module {name} not found (built in? then drop it from MODULES)")
        deps = [d for d in modinfo(by_name[name]).get("depends", "").split(",") if d]
        for dep in deps:
            visit(dep, chain + [name])
        seen.add(name)
        order.append(os.path.relpath(by_name[name], modules_dir))

    for root in roots:
        visit(root, [])
    return order


# --------------------------------------------------------------------------
# The initramfs: a newc cpio archive


class Cpio:
    def __init__(self):
        self.out = io.BytesIO()
        self.ino = 1
        self.paths = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        name_b = name.encode() + b"\0"
        header = "070701" + "".join(
            f"{v:08x}"
            for v in (
                self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1],
                len(name_b), 0,
            )
        )
        self.ino += 1
        self.out.write(header.encode() + name_b)
        self.out.write(b"\0" * (-(110 + len(name_b)) % 4))
        self.out.write(data)
        self.out.write(b"\0" * (-len(data) % 4))

    def dir(self, path):
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p and p not in self.paths:
                self.paths.add(p)
                self._entry(p, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, path, data, mode=0o644):
        path = path.strip("/")
        if path in self.paths:
            return
        self.dir(os.path.dirname(path))
        self.paths.add(path)
        self._entry(path, stat.S_IFREG | mode, data)

    def symlink(self, path, target):
        path = path.strip("/")
        if path in self.paths:
            return
        self.dir(os.path.dirname(path))
        self.paths.add(path)
        self._entry(path, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, path, major, minor, mode=0o600):
        path = path.strip("/")
        self.dir(os.path.dirname(path))
        self.paths.add(path)
        self._entry(path, stat.S_IFCHR | mode, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        self.out.write(b"\0" * (-self.out.tell() % 512))
        return self.out.getvalue()


LIB_DIRS = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib64", "lib", "usr/lib"]


def find_library(roots, soname):
    for root in roots:
        for d in LIB_DIRS:
            p = os.path.join(root, d, soname)
            if os.path.exists(p):
                return os.path.realpath(p)
    return None


def build_initramfs(cache, roots, kernel_root, kernel_release):
    cpio = Cpio()
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "run",
              "var/run", "mnt/share", "etc", "root", "lib64", "lib/x86_64-linux-gnu"):
        cpio.dir(d)
    cpio.chardev("dev/console", 5, 1)
    cpio.chardev("dev/null", 1, 3, 0o666)

    def from_packages(rel):
        for root in roots:
            p = os.path.join(root, rel)
            if os.path.exists(p):
                return p
        sys.exit(f"vm image: {rel} is in none of the packages")

    # busybox and its applets (links in /bin; Debian's binaries in /usr
    # come first in PATH).
    busybox = from_packages("bin/busybox")
    with open(busybox, "rb") as f:
        cpio.file("bin/busybox", f.read(), 0o755)
    applets = run([busybox, "--list"]).split()
    for applet in applets:
        if applet not in ("busybox",):
            cpio.symlink(f"bin/{applet}", "busybox")

    # Debian executables and the shared libraries they load.
    pending = []
    for src, dst in EXECUTABLES:
        path = from_packages(src)
        with open(path, "rb") as f:
            cpio.file(dst, f.read(), 0o755)
        pending.append((dst, path))
    libs = {}
    while pending:
        who, path = pending.pop()
        for soname in Elf(path).needed():
            if soname in libs:
                continue
            real = find_library(roots, soname)
            if real is None:
                sys.exit(f"vm image: {who} needs {soname}, in none of the packages")
            libs[soname] = real
            pending.append((soname, real))
    for soname, real in sorted(libs.items()):
        with open(real, "rb") as f:
            cpio.file(f"lib/x86_64-linux-gnu/{soname}", f.read(), 0o755)
    loader = find_library(roots, "ld-linux-x86-64.so.2")
    with open(loader, "rb") as f:
        cpio.file("lib64/ld-linux-x86-64.so.2", f.read(), 0o755)

    # Kernel modules and their load order.
    modules_dir = os.path.join(kernel_root, "lib/modules", kernel_release)
    order = module_load_order(modules_dir, MODULES)
    for rel in order:
        with open(os.path.join(modules_dir, rel), "rb") as f:
            cpio.file(f"lib/modules/{rel}", f.read())
    cpio.file("lib/modules/load-order", ("\n".join(order) + "\n").encode())

    cpio.file("etc/passwd", PASSWD.encode())
    cpio.file("etc/group", GROUP.encode())
    cpio.file("etc/hostname", b"wsflowd-vm\n")
    with open(os.path.join(HERE, "init"), "rb") as f:
        cpio.file("init", f.read(), 0o755)
    return cpio.finish(), sorted(libs), order


def apt_lists_signature():
    """What the package lists are now (names, sizes, mtimes): the versions
    resolved from them stay valid while this does not change."""
    lists = "/var/lib/apt/lists"
    try:
        names = sorted(n for n in os.listdir(lists) if "Packages" in n or n.endswith("Release"))
    except OSError:
        return None
    sig = hashlib.sha256()
    for n in names:
        st = os.stat(os.path.join(lists, n))
        sig.update(f"{n} {st.st_size} {st.st_mtime_ns}\n".encode())
    return sig.hexdigest()


def resolve_cached(cache):
    """The kernel package and every package's version: resolved with
    apt-cache (a few seconds), or taken from the last resolution while the
    package lists and this script are unchanged."""
    with open(os.path.abspath(__file__), "rb") as f:
        script = hashlib.sha256(f.read()).hexdigest()
    signature = apt_lists_signature()
    path = os.path.join(cache, "resolved.json")
    try:
        with open(path) as f:
            saved = json.load(f)
        if signature and saved["lists"] == signature and saved["script"] == script:
            return saved["kernel"], saved["versions"]
    except (OSError, ValueError, KeyError):
        pass
    kname, kversion = kernel_package()
    versions = resolve(PACKAGES)
    versions[kname] = kversion
    signature = apt_lists_signature()  # apt-get update may have run
    with open(path, "w") as f:
        json.dump({"lists": signature, "script": script, "kernel": kname, "versions": versions}, f)
    return kname, versions


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=os.path.join(REPO, "target", "vm"))
    args = ap.parse_args()
    cache = os.path.abspath(args.cache)
    os.makedirs(cache, exist_ok=True)

    kname, versions = resolve_cached(cache)
    kversion = versions[kname]
    h = hashlib.sha256()
    for n, v in sorted(versions.items()):
        h.update(f"{n}={v}\n".encode())
    for f in (os.path.abspath(__file__), os.path.join(HERE, "init")):
        with open(f, "rb") as fh:
            h.update(fh.read())
    key = h.hexdigest()[:16]

    image = os.path.join(cache, "image")
    manifest_path = os.path.join(image, "manifest.json")
    try:
        with open(manifest_path) as f:
            if json.load(f).get("key") == key:
                log(f"up to date ({image}, key {key})")
                print(image)
                return
    except (OSError, ValueError):
        pass

    download(cache, versions)
    # The kernel: keep the whole unpacked package (vmlinuz, modules).
    kernel_root = unpack(cache, kname, kversion)
    releases = os.listdir(os.path.join(kernel_root, "lib/modules"))
    if len(releases) != 1:
        sys.exit(f"vm image: {kname} has {len(releases)} module trees")
    release = releases[0]
    roots = [unpack(cache, n, v) for n, v in sorted(versions.items()) if n != kname]
    initramfs, libs, modules = build_initramfs(cache, roots, kernel_root, release)

    tmp = image + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    shutil.copyfile(os.path.join(kernel_root, "boot", f"vmlinuz-{release}"),
                    os.path.join(tmp, "vmlinuz"))
    with open(os.path.join(tmp, "initramfs.cpio"), "wb") as f:
        f.write(initramfs)
    with open(os.path.join(tmp, "manifest.json"), "w") as f:
        json.dump(
            {"key": key, "kernel_release": release, "packages": versions,
             "libraries": libs, "modules": modules},
            f, indent=1, sort_keys=True,
        )
    shutil.rmtree(image, ignore_errors=True)
    os.rename(tmp, image)
    log(f"built {image}: kernel {release}, initramfs {len(initramfs) // 1024} KiB, "
        f"{len(versions)} packages, {len(libs)} libraries, {len(modules)} modules (key {key})")
    print(image)


if __name__ == "__main__":
    main()
