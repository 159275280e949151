//! The OpenWrt integration: the init script and the maintainer scripts pass
//! shellcheck, and the .ipk/.apk packages hold the right files, modes,
//! control fields, conffiles and scripts.
//!
//! The packages checked are those of `make package` in `dist/` when there
//! are any; otherwise one package of each format is built here, with
//! `scripts/openwrt_pkg.py`, around the wsflowd binary of this test run, so
//! that no cross toolchain is needed. Packages are read with the script's
//! own readers (`--inspect`), which share nothing with its writers.
//!
//! shellcheck and python3 are needed; without them the tests skip with a
//! message, or fail when `WSFLOWD_REQUIRE_TOOLS=1`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use common::TempDir;

fn repo() -> PathBuf {
    common::source_dir()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn python(args: &[&str]) -> std::process::Output {
    let out = Command::new("python3")
        .arg(repo().join("scripts/openwrt_pkg.py"))
        .args(args)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "openwrt_pkg.py {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn shell_scripts_pass_shellcheck() {
    let test = "shell_scripts_pass_shellcheck";
    if !common::tool_or_skip("shellcheck", test) || !common::tool_or_skip("python3", test) {
        return;
    }
    let tmp = TempDir::new("scripts");
    let dir = tmp.path();
    python(&["--scripts", dir.to_str().unwrap()]);
    let mut scripts = vec![
        repo().join("openwrt/files/wsflowd.init"),
        repo().join("openwrt/files/wsflowd.uci-defaults"),
    ];
    let mut generated: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    generated.sort();
    let names: Vec<String> = generated
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "apk-post-install",
            "apk-post-upgrade",
            "apk-pre-deinstall",
            "ipk-postinst",
            "ipk-postinst-pkg",
            "ipk-prerm"
        ]
    );
    scripts.extend(generated);
    for script in &scripts {
        // SC1091: OpenWrt's /lib/functions.sh is not in this tree.
        common::assert_shellcheck_passes(script, &["--shell=sh", "--exclude=SC1091"], None);
    }
}

/// What openwrt/Makefile and Cargo.toml say the packages must hold.
struct Expected {
    version: String,
    release: String,
    userid: String,
    /// Path (no leading '/') -> (mode, content of the repository file, or
    /// None for the binary).
    files: BTreeMap<String, (u32, Option<Vec<u8>>)>,
}

fn expected() -> Expected {
    let makefile = read("openwrt/Makefile");
    let var = |name: &str| -> String {
        makefile
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{name}:=")))
            .unwrap_or_else(|| panic!("openwrt/Makefile: no {name}"))
            .trim()
            .to_owned()
    };
    let cargo = read("Cargo.toml");
    let cargo_version = cargo
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap();
    assert_eq!(
        var("PKG_VERSION"),
        cargo_version,
        "openwrt/Makefile and Cargo.toml versions"
    );
    assert_eq!(var("PKG_LICENSE"), "MIT");
    // As the packages feed's Rust packages have it (net/wsflowd there).
    for line in [
        "include $(TOPDIR)/rules.mk",
        "include $(INCLUDE_DIR)/package.mk",
        "include ../../lang/rust/rust-package.mk",
        "$(eval $(call RustBinPackage,wsflowd))",
        "$(eval $(call BuildPackage,wsflowd))",
    ] {
        assert!(
            makefile.lines().any(|l| l == line),
            "openwrt/Makefile lacks {line}"
        );
    }
    assert!(makefile.contains("DEPENDS:=$(RUST_ARCH_DEPENDS)"));
    // Its files come from its own directory, and it says nothing of this
    // repository's tooling.
    for absent in [
        "PKG_BUILD_DIR)/files",
        "WSFLOWD_SRC",
        "openwrt_pkg",
        "make package",
    ] {
        assert!(!makefile.contains(absent), "openwrt/Makefile: {absent}");
    }
    let file = |p: &str| Some(std::fs::read(repo().join("openwrt/files").join(p)).unwrap());
    let files = BTreeMap::from([
        ("usr/sbin/wsflowd".to_owned(), (0o755, None)),
        (
            "etc/init.d/wsflowd".to_owned(),
            (0o755, file("wsflowd.init")),
        ),
        // World-readable: the daemon reads it as the user wsflowd.
        (
            "etc/config/wsflowd".to_owned(),
            (0o644, file("wsflowd.config")),
        ),
        (
            "etc/uci-defaults/90_wsflowd".to_owned(),
            (0o755, file("wsflowd.uci-defaults")),
        ),
        (
            "etc/capabilities/wsflowd.json".to_owned(),
            (0o644, file("wsflowd.capabilities.json")),
        ),
        // For kernels without CAP_BPF (before 5.8).
        (
            "etc/capabilities/wsflowd-nobpf.json".to_owned(),
            (0o644, file("wsflowd-nobpf.capabilities.json")),
        ),
        // ubusd ignores an ACL file not owned by root or writable by others.
        (
            "usr/share/acl.d/wsflowd.json".to_owned(),
            (0o644, file("wsflowd.acl.json")),
        ),
    ]);
    Expected {
        version: var("PKG_VERSION"),
        release: var("PKG_RELEASE"),
        userid: var("USERID"),
        files,
    }
}

/// ELF class, data (endianness) and machine of a binary for an OpenWrt
/// architecture.
fn elf_of(arch: &str) -> (u8, u8, u16) {
    match arch {
        "mips_24kc" => (1, 2, 8),
        "mipsel_24kc" => (1, 1, 8),
        "arm_cortex-a7_neon-vfpv4" => (1, 1, 40),
        "aarch64_cortex-a53" => (2, 1, 183),
        "x86_64" => (2, 1, 62),
        other => panic!("unknown architecture {other}"),
    }
}

fn check_elf(binary: &[u8], arch: &str) {
    assert_eq!(&binary[..4], b"\x7fELF", "not an ELF binary");
    let (class, data, machine) = elf_of(arch);
    assert_eq!(
        (binary[4], binary[5]),
        (class, data),
        "ELF class/endianness for {arch}"
    );
    let m = if data == 1 {
        u16::from_le_bytes([binary[18], binary[19]])
    } else {
        u16::from_be_bytes([binary[18], binary[19]])
    };
    assert_eq!(m, machine, "ELF machine for {arch}");
}

fn check_capabilities_and_acl(files: &BTreeMap<String, Vec<u8>>) {
    for (file, want) in [
        ("wsflowd.json", &["CAP_NET_RAW", "CAP_BPF"][..]),
        ("wsflowd-nobpf.json", &["CAP_NET_RAW"][..]),
    ] {
        let caps: Value =
            serde_json::from_slice(&files[&format!("etc/capabilities/{file}")]).unwrap();
        assert_eq!(caps.as_object().unwrap().len(), 5, "{file}");
        for set in [
            "bounding",
            "effective",
            "ambient",
            "permitted",
            "inheritable",
        ] {
            let names: Vec<&str> = caps[set]
                .as_array()
                .unwrap_or_else(|| panic!("{file}: capability set {set}"))
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(names, want, "{file}: capability set {set}");
        }
    }
    let acl: Value = serde_json::from_slice(&files["usr/share/acl.d/wsflowd.json"]).unwrap();
    assert_eq!(acl["user"], "wsflowd");
    assert_eq!(
        acl["access"]["hostapd.*"]["methods"],
        serde_json::json!(["get_clients", "get_status"])
    );
    // ubusd hides an object from a lookup when none of its methods is
    // granted: one harmless method of `hostapd` lets the agent find it and
    // subscribe to its bss.add/bss.remove notifications.
    assert_eq!(
        acl["access"]["hostapd"]["methods"],
        serde_json::json!(["config_get_macaddr_list"])
    );
    assert_eq!(
        acl["subscribe"],
        serde_json::json!(["hostapd", "hostapd.*"])
    );
    assert_eq!(acl["publish"], serde_json::json!(["wsflowd"]));
    // ubusd checks the pattern a client registers literally: the agent
    // registers `ubus.object.*` (ubus.object.add and .remove).
    assert_eq!(acl["listen"], serde_json::json!(["ubus.object.*"]));
}

fn inspect(package: &Path) -> Value {
    let out = python(&["--inspect", package.to_str().unwrap()]);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sha256_of(data: &[u8]) -> String {
    // The readers report SHA-256 sums; compare through python3 as well.
    let out = Command::new("python3")
        .args([
            "-c",
            "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(data)?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn check_ipk(path: &Path, arch: &str, exp: &Expected, binary: Option<&[u8]>) {
    let p = inspect(path);
    let name = path.file_name().unwrap().to_str().unwrap();
    assert_eq!(
        name,
        format!("wsflowd_{}-{}_{arch}.ipk", exp.version, exp.release)
    );

    let outer: Vec<&str> = p["outer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        outer,
        ["./debian-binary", "./data.tar.gz", "./control.tar.gz"],
        "{name}: outer tar"
    );
    assert_eq!(p["debian-binary"], "2.0\n");

    let control = p["control"].as_array().unwrap();
    let text = |n: &str| -> String {
        control
            .iter()
            .find(|e| e["name"] == n)
            .unwrap_or_else(|| panic!("{name}: no {n} in control.tar.gz"))["text"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let fields: Vec<(String, String)> = text("./control")
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(|l| {
            let (k, v) = l
                .split_once(": ")
                .unwrap_or_else(|| panic!("{name}: control line {l:?}"));
            (k.to_owned(), v.trim().to_owned())
        })
        .collect();
    let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "Package",
            "Version",
            "Depends",
            "Source",
            "SourceName",
            "License",
            "LicenseFiles",
            "Section",
            "Require-User",
            "SourceDateEpoch",
            "URL",
            "Maintainer",
            "Architecture",
            "Installed-Size",
            "Description"
        ],
        "{name}: control fields and their order"
    );
    let field = |k: &str| fields.iter().find(|(f, _)| f == k).unwrap().1.clone();
    assert_eq!(field("Package"), "wsflowd");
    assert_eq!(field("Version"), format!("{}-{}", exp.version, exp.release));
    assert_eq!(field("Depends"), "libc, procd-ujail");
    assert_eq!(field("SourceName"), "wsflowd");
    assert_eq!(field("License"), "MIT");
    assert_eq!(field("Section"), "net");
    assert_eq!(field("Require-User"), exp.userid);
    assert_eq!(field("Architecture"), arch);
    assert!(field("Maintainer").contains('<'), "{name}: Maintainer");
    assert_eq!(
        field("Installed-Size").parse::<u64>().unwrap(),
        p["data-tar-length"].as_u64().unwrap(),
        "{name}: Installed-Size is the length of data.tar"
    );
    let epoch: u64 = field("SourceDateEpoch").parse().unwrap();
    assert!(
        text("./control").contains("\nDescription:  wsflowd samples"),
        "{name}: description"
    );
    assert_eq!(text("./conffiles"), "/etc/config/wsflowd\n");
    assert!(text("./postinst").contains("default_postinst \"$0\" \"$@\""));
    assert!(text("./postinst").contains("IPKG_NO_SCRIPT"));
    assert!(text("./prerm").contains("default_prerm \"$0\" \"$@\""));
    assert!(text("./postinst-pkg").contains("killall -HUP ubusd"));
    for e in control {
        let expected_mode = match e["name"].as_str().unwrap() {
            "./" | "./postinst" | "./prerm" | "./postinst-pkg" => 0o755,
            _ => 0o644,
        };
        assert_eq!(e["mode"], expected_mode, "{name}: mode of {}", e["name"]);
    }

    // data.tar.gz: sorted, 0:0, every mtime the epoch, exactly the files.
    let data = p["data"].as_array().unwrap();
    let names: Vec<String> = data
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| {
        n.trim_end_matches('/')
            .split('/')
            .map(str::to_owned)
            .collect::<Vec<_>>()
    });
    assert_eq!(names, sorted, "{name}: data.tar entries sorted by name");
    let mut files = BTreeMap::new();
    for tar in [control, data, p["outer"].as_array().unwrap()] {
        for e in tar {
            assert_eq!(
                (e["uid"].as_u64(), e["gid"].as_u64()),
                (Some(0), Some(0)),
                "{name}: owner of {}",
                e["name"]
            );
            assert_eq!(
                e["mtime"].as_u64(),
                Some(epoch),
                "{name}: mtime of {}",
                e["name"]
            );
            assert_eq!(e["magic"], "ustar  \u{0}", "{name}: GNU tar format");
        }
    }
    for e in data {
        let n = e["name"].as_str().unwrap();
        if n.ends_with('/') {
            assert_eq!(e["type"], "5");
            assert_eq!(e["mode"], 0o755, "{name}: mode of {n}");
            continue;
        }
        files.insert(n.trim_start_matches("./").to_owned(), e.clone());
    }
    let got: Vec<&String> = files.keys().collect();
    let want: Vec<&String> = exp.files.keys().collect();
    assert_eq!(got, want, "{name}: files");
    let mut contents = BTreeMap::new();
    for (path, (mode, content)) in &exp.files {
        let e = &files[path];
        assert_eq!(
            e["mode"].as_u64(),
            Some(u64::from(*mode)),
            "{name}: mode of {path}"
        );
        if let Some(content) = content {
            assert_eq!(
                e["sha256"].as_str().unwrap(),
                sha256_of(content),
                "{name}: {path} differs from the repository (stale dist/? run make package)"
            );
            contents.insert(path.clone(), content.clone());
        } else if let Some(binary) = binary {
            assert_eq!(
                e["sha256"].as_str().unwrap(),
                sha256_of(binary),
                "{name}: the binary"
            );
        }
    }
    check_capabilities_and_acl(&contents);
}

fn check_apk(path: &Path, arch: &str, exp: &Expected, binary: Option<&[u8]>) {
    let p = inspect(path);
    let name = path.file_name().unwrap().to_str().unwrap();
    assert_eq!(
        name,
        format!("wsflowd-{}-r{}.apk", exp.version, exp.release)
    );
    let info = &p["info"];
    assert_eq!(info["name"], "wsflowd");
    assert_eq!(info["version"], format!("{}-r{}", exp.version, exp.release));
    assert_eq!(info["arch"], arch);
    assert_eq!(info["license"], "MIT");
    assert_eq!(info["depends"], serde_json::json!(["libc", "procd-ujail"]));
    assert_eq!(
        p["id-valid"], true,
        "{name}: the package id is the SHA-256 of its ADB"
    );

    let scripts = &p["scripts"];
    let post_install = scripts["post-install"].as_str().unwrap();
    assert!(post_install.contains("add_group_and_user\ndefault_postinst\n"));
    assert!(post_install.contains("killall -HUP ubusd"));
    assert!(scripts["post-upgrade"]
        .as_str()
        .unwrap()
        .starts_with("#!/bin/sh\nexport PKG_UPGRADE=1\n"));
    assert!(scripts["pre-deinstall"]
        .as_str()
        .unwrap()
        .contains("default_prerm"));

    let mut files = BTreeMap::new();
    let mut installed = 0;
    for d in p["paths"].as_array().unwrap() {
        assert_eq!(d["mode"], 0o755, "{name}: mode of directory {}", d["name"]);
        assert_eq!(
            (d["user"].as_str(), d["group"].as_str()),
            (Some("root"), Some("root"))
        );
        for f in d["files"].as_array().unwrap() {
            let dir = d["name"].as_str().unwrap();
            let path = if dir.is_empty() {
                f["name"].as_str().unwrap().to_owned()
            } else {
                format!("{dir}/{}", f["name"].as_str().unwrap())
            };
            assert_eq!(
                f["hash"], f["data-sha256"],
                "{name}: data of {path} matches its hash"
            );
            assert_eq!(
                (f["user"].as_str(), f["group"].as_str()),
                (Some("root"), Some("root"))
            );
            installed += f["size"].as_u64().unwrap();
            files.insert(path, f.clone());
        }
    }
    assert_eq!(info["installed-size"].as_u64(), Some(installed));
    let mut want: Vec<String> = exp.files.keys().cloned().collect();
    for extra in ["list", "rusers", "conffiles", "conffiles_static"] {
        want.push(format!("lib/apk/packages/wsflowd.{extra}"));
    }
    want.sort();
    let got: Vec<String> = files.keys().cloned().collect();
    assert_eq!(got, want, "{name}: files");
    let mut contents = BTreeMap::new();
    for (path, (mode, content)) in &exp.files {
        assert_eq!(
            files[path]["mode"].as_u64(),
            Some(u64::from(*mode)),
            "{name}: mode of {path}"
        );
        if let Some(content) = content {
            assert_eq!(
                files[path]["hash"].as_str().unwrap(),
                sha256_of(content),
                "{name}: {path} differs from the repository (stale dist/? run make package)"
            );
            contents.insert(path.clone(), content.clone());
        } else if let Some(binary) = binary {
            assert_eq!(
                files[path]["hash"].as_str().unwrap(),
                sha256_of(binary),
                "{name}: the binary"
            );
        }
    }
    check_capabilities_and_acl(&contents);
    let text = &p["text"];
    assert_eq!(
        text["lib/apk/packages/wsflowd.conffiles"],
        "/etc/config/wsflowd\n"
    );
    assert_eq!(
        text["lib/apk/packages/wsflowd.rusers"],
        format!("{}\n", exp.userid)
    );
    let config_sum = sha256_of(&exp.files["etc/config/wsflowd"].1.clone().unwrap());
    assert_eq!(
        text["lib/apk/packages/wsflowd.conffiles_static"],
        format!("/etc/config/wsflowd {config_sum}\n")
    );
    let list: Vec<&str> = text["lib/apk/packages/wsflowd.list"]
        .as_str()
        .unwrap()
        .lines()
        .collect();
    let mut listed: Vec<String> = files
        .keys()
        .filter(|p| {
            !p.ends_with(".list") && !p.ends_with(".conffiles") && !p.ends_with(".conffiles_static")
        })
        .map(|p| format!("/{p}"))
        .collect();
    listed.sort();
    assert_eq!(list, listed, "{name}: the .list file");
}

/// The packages in dist/<arch>/ from `make package`, or none.
fn dist_packages() -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    let Ok(dirs) = std::fs::read_dir(repo().join("dist")) else {
        return found;
    };
    for dir in dirs.flatten() {
        let arch = dir.file_name().to_string_lossy().into_owned();
        let Ok(entries) = std::fs::read_dir(dir.path()) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if matches!(p.extension().and_then(|x| x.to_str()), Some("ipk" | "apk")) {
                found.push((arch.clone(), p));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn packages_hold_the_right_files_fields_and_scripts() {
    let test = "packages_hold_the_right_files_fields_and_scripts";
    if !common::tool_or_skip("python3", test) {
        return;
    }
    let exp = expected();
    let mut packages = dist_packages();
    let mut native = None;
    let tmp = TempDir::new("packages");
    let work = tmp.path();
    if packages.is_empty() {
        // No `make package` output: package this test run's binary, twice,
        // which must give the same bytes.
        let binary = PathBuf::from(env!("CARGO_BIN_EXE_wsflowd"));
        let arch = if cfg!(target_arch = "x86_64") {
            "x86_64"
        } else if cfg!(target_arch = "aarch64") {
            "aarch64_cortex-a53"
        } else {
            eprintln!("{test}: skipped (no OpenWrt architecture name for this machine)");
            return;
        };
        for round in ["a", "b"] {
            let out = work.join(round);
            let status = Command::new("python3")
                .arg(repo().join("scripts/openwrt_pkg.py"))
                .args([
                    "--binary",
                    binary.to_str().unwrap(),
                    "--arch",
                    arch,
                    "--outdir",
                ])
                .arg(&out)
                .env("SOURCE_DATE_EPOCH", "1700000000")
                .status()
                .unwrap();
            assert!(status.success());
        }
        for ext in ["ipk", "apk"] {
            let name = |d: &str| {
                std::fs::read_dir(work.join(d))
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .find(|p| p.extension().and_then(|x| x.to_str()) == Some(ext))
                    .unwrap()
            };
            let (a, b) = (name("a"), name("b"));
            assert_eq!(
                std::fs::read(&a).unwrap(),
                std::fs::read(&b).unwrap(),
                "{ext} is reproducible"
            );
            packages.push((arch.to_owned(), a));
        }
        native = Some(std::fs::read(&binary).unwrap());
    } else {
        eprintln!("{test}: checking {} packages in dist/", packages.len());
    }
    for (arch, path) in &packages {
        let binary = match &native {
            Some(b) => Some(b.clone()),
            None => std::fs::read(path.parent().unwrap().join("wsflowd")).ok(),
        };
        if let Some(b) = &binary {
            check_elf(b, arch);
        }
        if path.extension().unwrap() == "ipk" {
            check_ipk(path, arch, &exp, binary.as_deref());
        } else {
            check_apk(path, arch, &exp, binary.as_deref());
        }
    }
}

/// The files under `dir`, relative, with their modes (directories left out).
fn tree(dir: &Path) -> BTreeMap<String, u32> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_str().unwrap().to_owned();
                out.insert(rel, meta.permissions().mode() & 0o7777);
            }
        }
    }
    out
}

fn make(args: &[&str], dir: &Path) -> String {
    let out = Command::new("make")
        .arg("--no-print-directory")
        .arg("-s")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("run make");
    assert!(
        out.status.success(),
        "make {args:?} in {}: {}{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `make -C DIR stub-record` in the stub tree: what the Makefile gave the
/// stubs.
fn recorded(dir: &Path, top: &Path, vars: &str) -> BTreeMap<String, String> {
    let text = make(
        &[
            &format!("TOPDIR={}", top.display()),
            &format!("STUB_RECORD={vars}"),
            "stub-record",
        ],
        dir,
    );
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.to_owned(),
                v.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect()
}

/// `make feed` lays out the package as net/wsflowd of the packages feed and
/// the LuCI application as applications/luci-app-wsflowd of the LuCI feed.
/// In a stub tree (tests/openwrt/stub: rules.mk, package.mk, and
/// rust-package.mk and luci.mk where the feeds have them, each recording
/// what it is given), the Makefiles' relative includes resolve, cargo gets
/// --no-default-features after rust-package.mk's own arguments, the package
/// is named after its directory, and the install sections install exactly
/// the files of the packages, with their modes, from the package's own
/// files/.
#[test]
fn feed_layout_expands_in_a_stub_tree() {
    let test = "feed_layout_expands_in_a_stub_tree";
    if !common::tool_or_skip("make", test) {
        return;
    }
    let tmp = TempDir::new("feed");
    let feeds = tmp.path().join("feeds");
    make(&["feed", &format!("FEED_OUT={}", feeds.display())], &repo());
    let package = feeds.join("packages/net/wsflowd");
    let app = feeds.join("luci/applications/luci-app-wsflowd");

    // The package directory: its Makefile and files/, each file used.
    let files = tree(&repo().join("openwrt/files"));
    let mut want: BTreeSet<String> = files.keys().map(|f| format!("files/{f}")).collect();
    want.insert("Makefile".into());
    let got: BTreeSet<String> = tree(&package).into_keys().collect();
    assert_eq!(got, want, "packages/net/wsflowd");
    let makefile = std::fs::read_to_string(package.join("Makefile")).unwrap();
    let referenced: BTreeSet<String> = makefile
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("./files/"))
        .map(str::to_owned)
        .collect();
    let present: BTreeSet<String> = files.keys().cloned().collect();
    assert_eq!(referenced, present, "files/ and the install section");
    assert_eq!(
        tree(&app),
        tree(&repo().join("luci-app-wsflowd")),
        "applications/luci-app-wsflowd"
    );

    // The stub tree.
    let stub = repo().join("tests/openwrt/stub");
    let top = tmp.path().join("top");
    std::fs::create_dir_all(top.join("include")).unwrap();
    std::fs::create_dir_all(feeds.join("packages/lang/rust")).unwrap();
    for (from, to) in [
        ("rules.mk", top.join("rules.mk")),
        ("include/package.mk", top.join("include/package.mk")),
        (
            "rust-package.mk",
            feeds.join("packages/lang/rust/rust-package.mk"),
        ),
        ("luci.mk", feeds.join("luci/luci.mk")),
    ] {
        std::fs::copy(stub.join(from), to).unwrap();
    }

    let vars = recorded(
        &package,
        &top,
        "PKG_NAME PKG_VERSION PKG_RELEASE CARGO_PKG_ARGS STUB_RUST_PACKAGE_MK STUB_RUST_BIN_PACKAGES",
    );
    let exp = expected();
    assert_eq!(vars["PKG_NAME"], "wsflowd");
    assert_eq!(vars["PKG_VERSION"], exp.version);
    assert_eq!(vars["PKG_RELEASE"], exp.release);
    assert_eq!(
        vars["STUB_RUST_PACKAGE_MK"],
        "../../lang/rust/rust-package.mk"
    );
    assert_eq!(vars["CARGO_PKG_ARGS"], "--locked --no-default-features");
    assert_eq!(vars["STUB_RUST_BIN_PACKAGES"], "wsflowd");
    assert_eq!(vars["STUB_PACKAGES"], "wsflowd");

    let root = tmp.path().join("root");
    let pkg_install = tmp.path().join("pkg-install");
    std::fs::create_dir_all(pkg_install.join("bin")).unwrap();
    std::fs::write(pkg_install.join("bin/wsflowd"), b"\x7fELF").unwrap();
    make(
        &[
            &format!("TOPDIR={}", top.display()),
            &format!("DESTDIR={}", root.display()),
            &format!("PKG_INSTALL_DIR={}", pkg_install.display()),
            "stub-install",
        ],
        &package,
    );
    let installed = tree(&root);
    let want: BTreeMap<String, u32> = exp
        .files
        .iter()
        .map(|(p, (m, _))| (p.clone(), *m))
        .collect();
    assert_eq!(installed, want, "installed files and modes");
    for (path, (_, content)) in &exp.files {
        if let Some(content) = content {
            assert_eq!(&std::fs::read(root.join(path)).unwrap(), content, "{path}");
        }
    }

    let vars = recorded(&app, &top, "LUCI_NAME PKG_NAME LUCI_DEPENDS STUB_LUCI_MK");
    assert_eq!(vars["STUB_LUCI_MK"], "../../luci.mk");
    assert_eq!(vars["LUCI_NAME"], "luci-app-wsflowd");
    assert_eq!(vars["STUB_PACKAGES"], "luci-app-wsflowd");
    assert!(
        vars["LUCI_DEPENDS"].split(' ').any(|d| d == "+wsflowd"),
        "{vars:?}"
    );
    let root = tmp.path().join("luci-root");
    make(
        &[
            &format!("TOPDIR={}", top.display()),
            &format!("DESTDIR={}", root.display()),
            "stub-install",
        ],
        &app,
    );
    let installed: Vec<String> = tree(&root).into_keys().collect();
    assert_eq!(
        installed,
        [
            "usr/share/luci/menu.d/luci-app-wsflowd.json",
            "usr/share/rpcd/acl.d/luci-app-wsflowd.json",
            "www/luci-static/resources/view/wsflowd/settings.js",
            "www/luci-static/resources/view/wsflowd/status.js",
        ]
    );
}
