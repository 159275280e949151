# wsflowd: build, test and demo on a Debian/Ubuntu development machine.
#
#   make demo    sample real traffic in two network namespaces and print the
#                decoded samples (root)
#   make test    install what the tests need, then run them all (root for
#                the namespace tests)
#   make vm-test the Wi-Fi test rig: the OpenWrt x86_64 build of the agent on
#                mac80211_hwsim radios in a VM, with stock hostapd and
#                wpa_supplicant (root; installs qemu-system-x86)
#   make bench   encoding benchmark (ns and allocations per sample)
#   make bench-capture  capture benchmark against pmacctd (root; figures)
#   make fuzz    run the fuzz targets for a while (needs cargo-fuzz)

CARGO ?= cargo
FUZZ_SECONDS ?= 60
# Debian packages the tests and the demo use: tshark (independent sFlow
# decoder), iproute2 (namespaces, veth), iputils-ping (demo traffic),
# shellcheck (init and maintainer scripts), python3 (package builder),
# prometheus (the server that scrapes `collect --prometheus`, and its
# promtool), pmacct (sfacctd, a collector of the standard records),
# strace (holds the kernel helper's netlink reads in a test), dnsmasq-base
# (the DNS server of the DNS-SD tests: the binary only, no service),
# busybox (its ash is OpenWrt's /bin/sh: the init script's tests run under
# it too).
# The tests start their own servers: the prometheus service that its
# package may start (where no policy-rc.d forbids it) is stopped.
APT_PACKAGES := tshark iproute2 iputils-ping shellcheck python3 prometheus pmacct strace dnsmasq-base busybox
# The pure-Rust ubus broker the hostapd tests run against.
UBUSD_VERSION := 0.5.0

.PHONY: all build release deps test check lint unit-tests demo bench fuzz fuzz-seeds clean

# Cross builds for OpenWrt targets and the .ipk/.apk packages.
include mk/openwrt.mk
# luci-app-wsflowd: JSON/JS checks and the browser test's tools.
include mk/luci.mk
# The Wi-Fi test rig: a VM image from Debian packages, scenarios in it.
include mk/vm.mk

all: build

build:
	$(CARGO) build

release:
	$(CARGO) build --release

# Installs the system packages the tests need, unless already there.
deps: luci-deps
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing || exit 1; \
	  case " $$missing " in *" prometheus "*) \
	    invoke-rc.d prometheus stop >/dev/null 2>&1 || true;; esac; \
	fi
	@if [ ! -x "$${CARGO_HOME:-$$HOME/.cargo}/bin/ubusd" ]; then \
	  $(CARGO) install ubusd --version $(UBUSD_VERSION) --locked; \
	fi

lint: luci-lint
	$(CARGO) fmt --all -- --check
	# Every unsafe block says why it is sound (a // SAFETY: comment).
	$(CARGO) clippy --all-targets -- -D warnings -D clippy::undocumented_unsafe_blocks
	# The fuzz targets must keep compiling (running them is `make fuzz`).
	$(CARGO) check --manifest-path fuzz/Cargo.toml --bins

# Root tests (namespaces, AF_PACKET) must run, not skip, when we are root;
# the tshark interoperability test must run too (deps installs tshark).
unit-tests:
	WSFLOWD_REQUIRE_TOOLS=1 WSFLOWD_REQUIRE_ROOT=$$( [ "$$(id -u)" = 0 ] && echo 1 || echo 0 ) \
	  $(CARGO) test --all-targets -- --test-threads=2
	# Benchmarks build and run briefly, so they cannot rot.
	WSFLOWD_BENCH_QUICK=1 $(CARGO) bench --bench encode
	WSFLOWD_BENCH_QUICK=1 $(CARGO) bench --bench collect

# Then the OpenWrt side: static musl builds for the five architectures, the
# test suite under qemu-mips (big-endian), a self-check of every binary under
# its qemu, and the .ipk/.apk packages (mk/openwrt.mk). Last, the x86_64
# binary on real (virtual) radios in a VM (mk/vm.mk).
test: deps lint unit-tests cross-deps cross-test vm-test

demo: deps release
	bash scripts/demo.sh target/release/wsflowd

bench:
	$(CARGO) bench --bench encode
	$(CARGO) bench --bench collect

# Capture benchmark (root): wsflowd and Debian's pmacctd sampling the same
# veth, a radiotap TAP, the sample rate sustained before drops; prints
# figures and goals (a miss does not fail it). Installs pmacct if missing
# (its services are not enabled). WSFLOWD_BENCH_QUICK=1: a short run.
.PHONY: bench-capture
bench-capture:
	@dpkg -s pmacct >/dev/null 2>&1 || { \
	  echo "installing: pmacct"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends pmacct; }
	$(CARGO) bench --bench capture

CAPTURES ?= ../shared/captures

# Seeds the fuzz corpora: real sFlow datagrams and 802.11 frames from the
# shared captures, and the example configuration files.
fuzz-seeds:
	python3 scripts/fuzz_seeds.py $(CAPTURES)

# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP enables them on stable.
fuzz: fuzz-seeds
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz
	cd fuzz && for t in $$(RUSTC_BOOTSTRAP=1 cargo fuzz list); do \
	  mkdir -p corpus/$$t; \
	  RUSTC_BOOTSTRAP=1 cargo fuzz run $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

clean:
	$(CARGO) clean
	rm -rf $(DIST)
