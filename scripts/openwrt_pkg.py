#!/usr/bin/env python3
"""Builds wsflowd's OpenWrt packages (.ipk and .apk) from a built binary.

    python3 scripts/openwrt_pkg.py --binary dist/mips_24kc/wsflowd \\
        --arch mips_24kc --outdir dist/mips_24kc

Everything about the package comes from openwrt/Makefile, the recipe the
OpenWrt SDK uses (it sits in the packages feed as net/wsflowd, see
`make feed`): name, version and release, license, maintainer, section,
URL, dependencies, USERID, description, conffiles, the package-specific
postinst, and the install section (which file goes where, with which mode:
the binary from $(PKG_INSTALL_DIR)/bin, the other files from ./files/ next
to the Makefile). The Makefile is a feed maintainer's file and says nothing
of this script: what it may hold is what Recipe reads below (plain `VAR:=`
lines, `define`s, install lines of one $(INSTALL_*) each), and
tests/packaging.rs fails when the two stop agreeing. The output follows
OpenWrt's own tools:

- .ipk (opkg, OpenWrt <= 24.10), as scripts/ipkg-build makes it: a gzip'd
  tar of ./debian-binary, ./data.tar.gz and ./control.tar.gz; GNU tar
  format, numeric owner 0:0, entries sorted by name, every mtime set to
  SOURCE_DATE_EPOCH, gzip without name or time. The control fields are those
  of include/package-pack.mk, in its order. Maintainer scripts as
  package-pack.mk writes them: postinst and prerm call default_postinst and
  default_prerm from /lib/functions.sh (which create the user named by
  Require-User, run the uci-defaults, enable and start the service; stop and
  disable it), postinst-pkg holds the package's own postinst.
- .apk (apk-tools v3, OpenWrt >= 25), byte for byte what
  `apk mkpkg` writes with the arguments package-pack.mk gives it: "ADBd" and
  a raw deflate stream (level 9) of the ADB header, the package ADB block
  (info, paths, scripts) and one DATA block per non-empty file. The payload
  has lib/apk/packages/<name>.list, .rusers, .conffiles and
  .conffiles_static as OpenWrt adds them. Unsigned (feeds sign their index):
  install with `apk add --allow-untrusted`.

Deterministic: the same inputs and SOURCE_DATE_EPOCH give the same bytes
(the compressed streams come from Python's zlib). Only the standard library
is used.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import struct
import sys
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# OpenWrt architecture names of the targets `make cross` builds.
ARCHES = ("mips_24kc", "mipsel_24kc", "arm_cortex-a7_neon-vfpv4", "aarch64_cortex-a53", "x86_64")

MODES = {"INSTALL_BIN": 0o755, "INSTALL_DATA": 0o644, "INSTALL_CONF": 0o600}


# --------------------------------------------------------------------------
# openwrt/Makefile


class Recipe:
    """What openwrt/Makefile says about the package."""

    def __init__(self, path):
        self.path = path
        text = open(path, encoding="utf-8").read()
        self.vars = {}
        self.defines = {}
        lines = text.split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            m = re.match(r"define\s+(\S+)\s*$", line)
            if m:
                body = []
                i += 1
                while lines[i].strip() != "endef":
                    body.append(lines[i])
                    i += 1
                self.defines[m.group(1)] = body
            else:
                m = re.match(r"([A-Z_]+)\s*:=\s*(.*?)\s*$", line)
                if m:
                    self.vars[m.group(1)] = m.group(2)
            i += 1
        self.name = self.vars["PKG_NAME"]
        self.version = self.vars["PKG_VERSION"]
        self.release = self.vars["PKG_RELEASE"]
        pkg = {}
        for line in self.defines["Package/" + self.name]:
            m = re.match(r"\s*([A-Z]+)\s*:=\s*(.*?)\s*$", line)
            if m:
                pkg[m.group(1)] = m.group(2)
        self.package = pkg
        self.section = pkg["SECTION"]
        self.url = pkg.get("URL", "")
        self.userid = pkg.get("USERID", "")
        # $(RUST_ARCH_DEPENDS) and @CONDITIONS select targets; +pkg are
        # package dependencies. OpenWrt adds libc to every package.
        deps = ["libc"]
        for word in pkg.get("DEPENDS", "").split():
            if word.startswith("+"):
                deps.append(word[1:])
        self.depends = deps
        self.description = [l for l in self.define("description") if l.strip()]
        self.conffiles = sorted(l.strip() for l in self.define("conffiles") if l.strip())
        self.postinst = self.script("postinst")
        self.prerm = self.script("prerm")

    def define(self, what):
        return self.defines.get("Package/%s/%s" % (self.name, what), [])

    def script(self, what):
        """A script define as make expands it: $$ is a $."""
        body = self.define(what)
        return "\n".join(body).replace("$$", "$") + "\n" if body else None

    def ipk_version(self):
        return "%s-%s" % (self.version, self.release)

    def apk_version(self):
        return "%s-r%s" % (self.version, self.release)

    def install(self, binary):
        """The install section as {path: (mode, bytes or None for a directory)}."""
        tree = {}
        for line in self.define("install"):
            words = line.split()
            if not words:
                continue
            m = re.match(r"\$\((INSTALL_[A-Z]+)\)$", words[0])
            if not m:
                raise SystemExit("%s: cannot read install line: %s" % (self.path, line))
            kind = m.group(1)
            if kind == "INSTALL_DIR":
                for d in words[1:]:
                    add_dir(tree, dest_path(d))
                continue
            if kind not in MODES or len(words) != 3:
                raise SystemExit("%s: cannot read install line: %s" % (self.path, line))
            src, dest = words[1], dest_path(words[2])
            if dest.endswith("/"):
                dest += os.path.basename(src)
            if src == "$(PKG_INSTALL_DIR)/bin/" + self.name:
                src_file = binary
            elif src.startswith("./files/"):
                # package.mk runs the install section in the package's
                # directory.
                src_file = os.path.join(os.path.dirname(self.path), src[2:])
            else:
                raise SystemExit("%s: unknown source in install line: %s" % (self.path, line))
            add_dir(tree, os.path.dirname(dest))
            tree[dest] = (MODES[kind], open(src_file, "rb").read())
        return tree


def dest_path(word):
    if not word.startswith("$(1)/"):
        raise SystemExit("install destination outside $(1): %s" % word)
    return word[len("$(1)/"):].rstrip("/") + ("/" if word.endswith("/") else "")


def add_dir(tree, path):
    path = path.strip("/")
    while path:
        tree.setdefault(path, (0o755, None))
        path = os.path.dirname(path)


def cargo_version():
    text = open(os.path.join(REPO, "Cargo.toml"), encoding="utf-8").read()
    m = re.search(r'^\[package\][^\[]*?^version\s*=\s*"([^"]+)"', text, re.M | re.S)
    return m.group(1)


# apk-tools' version syntax (apk_version_validate), which mkpkg enforces and
# apk itself does not always check.
APK_VERSION = re.compile(
    r"^[0-9]+(\.[0-9]+)*[a-z]?"
    r"(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*"
    r"(~[0-9a-f]+)?(-r[0-9]+)?$"
)


# --------------------------------------------------------------------------
# Maintainer scripts, as include/package-pack.mk writes them (with quotes
# added around the expansions, which changes nothing for these paths).

LOAD_FUNCTIONS = (
    '[ -s "${IPKG_INSTROOT}/lib/functions.sh" ] || exit 0\n'
    '. "${IPKG_INSTROOT}/lib/functions.sh"\n'
)
NO_SCRIPT = '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n'


def ipk_scripts(recipe):
    scripts = {
        "postinst": "#!/bin/sh\n" + NO_SCRIPT + LOAD_FUNCTIONS + 'default_postinst "$0" "$@"\n',
        "prerm": "#!/bin/sh\n" + LOAD_FUNCTIONS + 'default_prerm "$0" "$@"\n',
    }
    if recipe.postinst:
        scripts["postinst-pkg"] = recipe.postinst
    if recipe.prerm:
        scripts["prerm-pkg"] = recipe.prerm
    return scripts


def without_shebang(script):
    return "".join(l for l in script.splitlines(True) if not re.match(r"\s*#!", l))


def apk_scripts(recipe):
    exports = 'export root="${IPKG_INSTROOT}"\nexport pkgname="%s"\n' % recipe.name
    post_install = (
        "#!/bin/sh\n" + NO_SCRIPT + LOAD_FUNCTIONS + exports
        + "add_group_and_user\ndefault_postinst\n"
        + (without_shebang(recipe.postinst) if recipe.postinst else "")
    )
    post_upgrade = "#!/bin/sh\nexport PKG_UPGRADE=1\n" + without_shebang(post_install)
    pre_deinstall = (
        "#!/bin/sh\n" + LOAD_FUNCTIONS + exports + "default_prerm\n"
        + (without_shebang(recipe.prerm) if recipe.prerm else "")
    )
    return {
        "post-install": post_install,
        "post-upgrade": post_upgrade,
        "pre-deinstall": pre_deinstall,
    }


# --------------------------------------------------------------------------
# tar and gzip, as GNU tar --format=gnu --numeric-owner --sort=name and
# gzip -n write them.


def tar_header(name, mode, size, mtime, typeflag):
    raw = name.encode()
    if len(raw) > 100:
        raise SystemExit("path too long for a plain tar header: " + name)
    h = bytearray(512)
    h[0 : len(raw)] = raw
    h[100:108] = b"%07o\0" % mode
    h[108:116] = b"%07o\0" % 0
    h[116:124] = b"%07o\0" % 0
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"%011o\0" % mtime
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[257:265] = b"ustar  \0"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def tar_archive(entries, mtime):
    """entries: [(name, mode, bytes or None for a directory)], in order."""
    out = io.BytesIO()
    for name, mode, data in entries:
        if data is None:
            out.write(tar_header(name, mode, 0, mtime, b"5"))
        else:
            out.write(tar_header(name, mode, len(data), mtime, b"0"))
            out.write(data)
            out.write(b"\0" * (-len(data) % 512))
    out.write(b"\0" * 1024)
    size = out.tell()
    out.write(b"\0" * (-size % 10240))  # GNU tar's default 20-block records
    return out.getvalue()


def tar_tree(tree, mtime):
    """A directory tree as `tar -C dir . --sort=name` lists it: "./" first,
    then depth-first, the entries of each directory sorted by name."""
    children = {}
    for path in tree:
        children.setdefault(os.path.dirname(path), []).append(path)
    entries = [("./", 0o755, None)]

    def walk(d):
        for path in sorted(children.get(d, []), key=lambda p: os.path.basename(p).encode()):
            mode, data = tree[path]
            entries.append(("./" + path + ("/" if data is None else ""), mode, data))
            if data is None:
                walk(path)

    walk("")
    return tar_archive(entries, mtime)


def gzip_n(data):
    """gzip -n: no name, mtime 0, OS Unix."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15, 8)
    body = c.compress(data) + c.flush()
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
    return header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


# --------------------------------------------------------------------------
# .ipk


def control_text(recipe, arch, epoch, installed_size):
    fields = [
        ("Package", recipe.name),
        ("Version", recipe.ipk_version()),
        ("Depends", ", ".join(recipe.depends)),
        # The package's directory in the tree, as package-pack.mk writes
        # it: where `make feed` puts it in the packages feed.
        ("Source", "feeds/packages/net/%s" % recipe.name),
        ("SourceName", recipe.name),
        ("License", recipe.vars.get("PKG_LICENSE", "")),
        ("LicenseFiles", recipe.vars.get("PKG_LICENSE_FILES", "")),
        ("Section", recipe.section),
        ("Require-User", recipe.userid),
        ("SourceDateEpoch", str(epoch)),
        ("URL", recipe.url),
        ("Maintainer", recipe.vars.get("PKG_MAINTAINER", "")),
        ("Architecture", arch),
        ("Installed-Size", str(installed_size)),
    ]
    text = "".join("%s: %s\n" % (k, v) for k, v in fields if v)
    # printf "Description: "; echo "$DESCRIPTION" | sed -e 's,^[[:space:]]*, ,g'
    desc = [re.sub(r"^\s*", " ", l) for l in recipe.description]
    return text + "Description: " + "\n".join(desc) + "\n"


def build_ipk(recipe, tree, arch, epoch):
    data_tar = tar_tree(tree, epoch)
    control = {"control": (0o644, control_text(recipe, arch, epoch, len(data_tar)).encode())}
    if recipe.conffiles:
        control["conffiles"] = (0o644, "".join(c + "\n" for c in recipe.conffiles).encode())
    for name, script in ipk_scripts(recipe).items():
        control[name] = (0o755, script.encode())
    control_tar = tar_tree(control, epoch)
    outer = tar_archive(
        [
            ("./debian-binary", 0o644, b"2.0\n"),
            ("./data.tar.gz", 0o644, gzip_n(data_tar)),
            ("./control.tar.gz", 0o644, gzip_n(control_tar)),
        ],
        epoch,
    )
    name = "%s_%s_%s.ipk" % (recipe.name, recipe.ipk_version(), arch)
    return name, gzip_n(outer)


# --------------------------------------------------------------------------
# .apk: the ADB writer of apk-tools (src/adb.c), in the order app_mkpkg.c
# writes the values, with its deduplication of identical values.

T_INT, T_INT32, T_INT64 = 0x10000000, 0x20000000, 0x30000000
T_BLOB8, T_BLOB16, T_BLOB32 = 0x80000000, 0x90000000, 0xA0000000
T_OBJECT = 0xE0000000
SCHEMA_PACKAGE = 0x676B6370  # "pckg"

PI_FIELDS = {  # schema_pkginfo
    "name": 1, "version": 2, "hashes": 3, "description": 4, "arch": 5,
    "license": 6, "origin": 7, "maintainer": 8, "url": 9,
    "installed-size": 12, "depends": 15,
}
SCRIPT_FIELDS = {  # schema_scripts
    "trigger": 1, "pre-install": 2, "post-install": 3, "pre-deinstall": 4,
    "post-deinstall": 5, "pre-upgrade": 6, "post-upgrade": 7,
}


class Adb:
    def __init__(self):
        self.buf = bytearray(8)  # struct adb_hdr; root set at the end
        self.cache = {}

    def raw(self, data, align):
        self.buf += b"\0" * (-len(self.buf) % align)
        offs = len(self.buf)
        self.buf += data
        return offs

    def data(self, data, align):
        offs = self.cache.get(data)
        if offs is not None and offs % align == 0:
            return offs
        offs = self.raw(data, align)
        self.cache[data] = offs
        return offs

    def blob(self, data, cached=True):
        n = len(data)
        if n == 0:
            return 0
        if n > 0xFFFF:
            t, head = T_BLOB32, struct.pack("<I", n)
        elif n > 0xFF:
            t, head = T_BLOB16, struct.pack("<H", n)
        else:
            t, head = T_BLOB8, struct.pack("<B", n)
        write = self.data if cached else self.raw
        return t | write(head + data, len(head))

    def int(self, v):
        if v >= 1 << 32:
            return T_INT64 | self.data(struct.pack("<Q", v), 4)
        if v >= 1 << 28:
            return T_INT32 | self.data(struct.pack("<I", v), 4)
        return T_INT | v

    def obj(self, slots):
        """slots: {index: value}; trailing empty slots are dropped."""
        n = max([i for i, v in slots.items() if v] + [0]) + 1
        if n == 1:
            return 0
        vals = [n] + [slots.get(i, 0) for i in range(1, n)]
        return T_OBJECT | self.data(struct.pack("<%dI" % n, *vals), 4)


def adb_block(kind, payload):
    head = struct.pack("<I", (kind << 30) + 4 + len(payload))
    return head + payload + b"\0" * (-(4 + len(payload)) % 8)


def build_apk(recipe, tree, arch, epoch):
    name = recipe.name
    version = recipe.apk_version()
    if not APK_VERSION.match(version):
        raise SystemExit("not an apk version: " + version)
    tree = dict(tree)
    pkgdir = "lib/apk/packages"
    add_dir(tree, pkgdir)
    if recipe.userid:
        tree["%s/%s.rusers" % (pkgdir, name)] = (0o644, (recipe.userid + "\n").encode())
    files = sorted("/" + p for p, (_, d) in tree.items() if d is not None)
    tree["%s/%s.list" % (pkgdir, name)] = (0o644, "".join(f + "\n" for f in files).encode())
    if recipe.conffiles:
        tree["%s/%s.conffiles" % (pkgdir, name)] = (
            0o644, "".join(c + "\n" for c in recipe.conffiles).encode())
        static = ""
        for c in recipe.conffiles:
            content = tree[c.lstrip("/")][1]
            static += "%s %s\n" % (c, hashlib.sha256(content).hexdigest())
        tree["%s/%s.conffiles_static" % (pkgdir, name)] = (0o644, static.encode())

    db = Adb()
    info = {
        "name": name,
        "version": version,
        "description": " ".join(l.strip() for l in recipe.description),
        "arch": arch,
        "license": recipe.vars.get("PKG_LICENSE", ""),
        "origin": "feeds/packages/net/%s" % name,
        "maintainer": recipe.vars.get("PKG_MAINTAINER", ""),
        "url": recipe.url,
    }
    pkgi = {}
    for field, index in sorted(PI_FIELDS.items(), key=lambda kv: kv[1]):
        if field in info:
            pkgi[index] = db.blob(info[field].encode())
        elif field == "depends":
            # Written in the order given, then sorted by name
            # (schema_dependency_array's pre_commit, adb_wa_sort_unique).
            given = list(dict.fromkeys(recipe.depends))
            deps = sorted(((d, db.obj({1: db.blob(d.encode())})) for d in given),
                          key=lambda dv: dv[0].encode())
            pkgi[index] = db.obj({i: v for i, (_, v) in enumerate(deps, 1)})

    # Directories: the root, then every directory in strcmp order; the files
    # of each in strcmp order, each written before its directory.
    dirs = [""] + sorted((p for p, (_, d) in tree.items() if d is None), key=lambda p: p.encode())
    paths = []
    installed = 0
    owner = db.blob(b"root")
    for d in dirs:
        entries = []
        names = sorted(
            (p for p, (_, data) in tree.items() if data is not None and os.path.dirname(p) == d),
            key=lambda p: os.path.basename(p).encode(),
        )
        for p in names:
            mode, data = tree[p]
            fname = db.blob(os.path.basename(p).encode())
            fhash = db.blob(hashlib.sha256(data).digest())
            fmtime = db.int(epoch)
            fsize = db.int(len(data))
            acl = db.obj({1: db.int(mode), 2: db.blob(b"root"), 3: db.blob(b"root")})
            entries.append((p, db.obj({1: fname, 2: acl, 3: fsize, 4: fmtime, 5: fhash})))
            installed += len(data)
        dname = db.blob(d.encode())
        dacl = db.obj({1: db.int(tree[d][0] if d else 0o755), 2: owner, 3: owner})
        dfiles = db.obj({i: v for i, (_, v) in enumerate(entries, 1)})
        paths.append((d, entries, db.obj({1: dname, 2: dacl, 3: dfiles})))
    pkgi[PI_FIELDS["installed-size"]] = db.int(max(installed, 1))
    hashes = db.blob(b"\0" * 20, cached=False)
    pkgi[PI_FIELDS["hashes"]] = hashes

    pkg = {1: db.obj(pkgi), 2: db.obj({i: v for i, (_, _, v) in enumerate(paths, 1)})}
    scripts = apk_scripts(recipe)
    pkg[3] = db.obj({SCRIPT_FIELDS[k]: db.blob(v.encode()) for k, v in sorted(
        scripts.items(), key=lambda kv: SCRIPT_FIELDS[kv[0]])})
    root = db.obj(pkg)
    struct.pack_into("<I", db.buf, 4, root)
    # The package's unique id: SHA-256 of the ADB with the id zeroed, cut to
    # the 20 bytes reserved for it.
    digest = hashlib.sha256(bytes(db.buf)).digest()
    offs = (hashes & 0x0FFFFFFF) + 1
    db.buf[offs : offs + 20] = digest[:20]

    stream = io.BytesIO()
    stream.write(b"ADB." + struct.pack("<I", SCHEMA_PACKAGE))
    stream.write(adb_block(0, bytes(db.buf)))
    for pi, (d, entries, _) in enumerate(paths, 1):
        for fi, (p, _) in enumerate(entries, 1):
            data = tree[p][1]
            if data:
                stream.write(adb_block(2, struct.pack("<II", pi, fi) + data))
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 8)
    body = c.compress(stream.getvalue()) + c.flush()
    return "%s-%s.apk" % (name, version), b"ADBd" + body



# --------------------------------------------------------------------------
# Readers, for tests/packaging.rs: --inspect prints a package as JSON. They
# share nothing with the writers above but the format constants.


def gunzip(data):
    if data[:3] != b"\x1f\x8b\x08":
        raise ValueError("not gzip data")
    return gzip.decompress(data)


def read_tar(data):
    """[(name, mode, uid, gid, size, mtime, typeflag, magic, bytes)]."""
    entries = []
    pos = 0
    while pos + 512 <= len(data):
        h = data[pos : pos + 512]
        if h == b"\0" * 512:
            break
        stored = int(h[148:156].split(b"\0")[0].strip() or b"0", 8)
        if stored != sum(h[:148]) + 256 + sum(h[156:]):
            raise ValueError("bad tar header checksum at %d" % pos)
        num = lambda a, b: int(h[a:b].split(b"\0")[0].strip() or b"0", 8)
        name = h[0:100].split(b"\0")[0].decode()
        size = num(124, 136)
        body = data[pos + 512 : pos + 512 + size]
        entries.append({
            "name": name, "mode": num(100, 108), "uid": num(108, 116), "gid": num(116, 124),
            "size": size, "mtime": num(136, 148), "type": h[156:157].decode(),
            "magic": h[257:265].decode("latin-1"),
            "uname": h[265:297].split(b"\0")[0].decode(), "gname": h[297:329].split(b"\0")[0].decode(),
            "data": body,
        })
        pos += 512 + size + (-size % 512)
    return entries, len(data)


def inspect_ipk(data):
    outer, _ = read_tar(gunzip(data))
    out = {"format": "ipk", "outer": [], "data": [], "control": []}
    inner = {}
    for e in outer:
        out["outer"].append({k: v for k, v in e.items() if k != "data"})
        inner[e["name"]] = e["data"]
    out["debian-binary"] = inner.get("./debian-binary", b"").decode()
    for part in ("data", "control"):
        raw = gunzip(inner["./%s.tar.gz" % part])
        entries, length = read_tar(raw)
        out[part + "-tar-length"] = length
        for e in entries:
            d = e.pop("data")
            e["sha256"] = hashlib.sha256(d).hexdigest()
            if part == "control" or e["name"] in ("./etc/config/wsflowd",):
                e["text"] = d.decode()
            out[part].append(e)
    return out


class AdbReader:
    def __init__(self, buf):
        self.buf = buf

    def val(self, v):
        t, off = v & 0xF0000000, v & 0x0FFFFFFF
        if v == 0:
            return None
        if t == T_INT:
            return off
        if t == T_INT32:
            return struct.unpack_from("<I", self.buf, off)[0]
        if t == T_INT64:
            return struct.unpack_from("<Q", self.buf, off)[0]
        if t in (T_BLOB8, T_BLOB16, T_BLOB32):
            fmt, n = {T_BLOB8: ("<B", 1), T_BLOB16: ("<H", 2), T_BLOB32: ("<I", 4)}[t]
            ln = struct.unpack_from(fmt, self.buf, off)[0]
            return bytes(self.buf[off + n : off + n + ln])
        if t in (0xD0000000, T_OBJECT):
            count = struct.unpack_from("<I", self.buf, off)[0]
            return list(struct.unpack_from("<%dI" % count, self.buf, off))[1:]
        raise ValueError("unknown ADB value type %#x" % v)

    def obj(self, v, names):
        slots = self.val(v) or []
        return {names.get(i, str(i)): s for i, s in enumerate(slots, 1) if s}


def inspect_apk(data):
    if data[:4] != b"ADBd":
        raise ValueError("not a deflate-compressed ADB file")
    raw = zlib.decompress(data[4:], -15)
    if raw[:4] != b"ADB." or struct.unpack_from("<I", raw, 4)[0] != SCHEMA_PACKAGE:
        raise ValueError("not an apk package ADB")
    blocks = []
    pos = 8
    while pos < len(raw):
        (head,) = struct.unpack_from("<I", raw, pos)
        kind, size = head >> 30, head & 0x3FFFFFFF
        blocks.append((kind, raw[pos + 4 : pos + size]))
        pos += size + (-size % 8)
    if pos != len(raw) or not blocks or blocks[0][0] != 0:
        raise ValueError("bad ADB block structure")
    adb = bytearray(blocks[0][1])
    r = AdbReader(adb)
    (root,) = struct.unpack_from("<I", adb, 4)
    pkg = r.obj(root, {1: "info", 2: "paths", 3: "scripts"})
    pi_names = {v: k for k, v in PI_FIELDS.items()}
    info = {}
    for k, v in r.obj(pkg["info"], pi_names).items():
        if k == "depends":
            info[k] = [r.val(r.obj(d, {1: "name"})["name"]).decode() for d in r.val(v)]
        elif k == "hashes":
            info[k] = r.val(v).hex()
            hoff = (v & 0x0FFFFFFF) + 1
        else:
            x = r.val(v)
            info[k] = x.decode() if isinstance(x, bytes) else x
    zeroed = bytearray(adb)
    zeroed[hoff : hoff + 20] = b"\0" * 20
    out = {"format": "apk", "info": info,
           "id-valid": hashlib.sha256(bytes(zeroed)).digest()[:20].hex() == info["hashes"]}
    scripts = {k: r.val(v).decode() for k, v in r.obj(
        pkg.get("scripts", 0), {v: k for k, v in SCRIPT_FIELDS.items()}).items()}
    out["scripts"] = scripts
    paths = []
    files_by_index = {}
    for pi, pv in enumerate(r.val(pkg["paths"]), 1):
        d = r.obj(pv, {1: "name", 2: "acl", 3: "files"})
        name = (r.val(d["name"]) or b"").decode() if "name" in d else ""
        acl = {k: (r.val(v).decode() if k in ("user", "group") else r.val(v))
               for k, v in r.obj(d["acl"], {1: "mode", 2: "user", 3: "group"}).items()}
        entry = {"name": name, "mode": acl.get("mode"), "user": acl.get("user"),
                 "group": acl.get("group"), "files": []}
        for fi, fv in enumerate(r.val(d["files"]) if "files" in d else [], 1):
            f = r.obj(fv, {1: "name", 2: "acl", 3: "size", 4: "mtime", 5: "hash"})
            facl = {k: (r.val(v).decode() if k in ("user", "group") else r.val(v))
                    for k, v in r.obj(f["acl"], {1: "mode", 2: "user", 3: "group"}).items()}
            fe = {"name": r.val(f["name"]).decode(), "mode": facl.get("mode"),
                  "user": facl.get("user"), "group": facl.get("group"),
                  "size": r.val(f["size"]) if "size" in f else 0,
                  "mtime": r.val(f.get("mtime", 0)), "hash": r.val(f["hash"]).hex()}
            entry["files"].append(fe)
            files_by_index[(pi, fi)] = fe
        paths.append(entry)
    out["paths"] = paths
    contents = {}
    for kind, body in blocks[1:]:
        if kind != 2:
            raise ValueError("unexpected block type %d (signed?)" % kind)
        pi, fi = struct.unpack_from("<II", body, 0)
        fe = files_by_index[(pi, fi)]
        payload = body[8:]
        fe["data-sha256"] = hashlib.sha256(payload).hexdigest()
        path = (paths[pi - 1]["name"] + "/" + fe["name"]).lstrip("/")
        contents[path] = payload
    for fe in files_by_index.values():
        fe.setdefault("data-sha256", hashlib.sha256(b"").hexdigest())
    out["text"] = {p: c.decode() for p, c in contents.items()
                   if p.startswith("lib/apk/packages/") or p == "etc/config/wsflowd"}
    return out


def inspect(path):
    data = open(path, "rb").read()
    return inspect_apk(data) if path.endswith(".apk") else inspect_ipk(data)

# --------------------------------------------------------------------------


def source_date_epoch():
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value:
        return int(value)
    raise SystemExit("SOURCE_DATE_EPOCH is not set (make package sets it from the last commit)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", help="the wsflowd binary to package")
    ap.add_argument("--arch", help="OpenWrt architecture, e.g. mips_24kc")
    ap.add_argument("--outdir")
    ap.add_argument("--format", default="ipk,apk", help="ipk, apk or ipk,apk")
    ap.add_argument("--makefile", default=os.path.join(REPO, "openwrt", "Makefile"))
    ap.add_argument("--scripts", metavar="DIR",
                    help="only write the maintainer scripts of both formats into DIR")
    ap.add_argument("--inspect", metavar="PACKAGE",
                    help="only print the contents of a .ipk or .apk as JSON")
    args = ap.parse_args()

    if args.inspect:
        json.dump(inspect(args.inspect), sys.stdout, indent=1, default=lambda b: b.hex())
        print()
        return 0
    recipe = Recipe(args.makefile)
    if args.scripts:
        os.makedirs(args.scripts, exist_ok=True)
        for prefix, scripts in (("ipk-", ipk_scripts(recipe)), ("apk-", apk_scripts(recipe))):
            for name, text in scripts.items():
                with open(os.path.join(args.scripts, prefix + name), "w") as f:
                    f.write(text)
        return 0
    if not (args.binary and args.arch and args.outdir):
        ap.error("--binary, --arch and --outdir are required")
    if recipe.version != cargo_version():
        raise SystemExit("openwrt/Makefile has PKG_VERSION %s, Cargo.toml %s"
                         % (recipe.version, cargo_version()))
    epoch = source_date_epoch()
    tree = recipe.install(args.binary)
    os.makedirs(args.outdir, exist_ok=True)
    for fmt in args.format.split(","):
        if fmt == "ipk":
            name, data = build_ipk(recipe, tree, args.arch, epoch)
        elif fmt == "apk":
            name, data = build_apk(recipe, tree, args.arch, epoch)
        else:
            raise SystemExit("unknown format " + fmt)
        path = os.path.join(args.outdir, name)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
        print("%s %d bytes" % (path, len(data)))


if __name__ == "__main__":
    sys.exit(main())
