# The Wi-Fi test rig (tests/vm.rs), run from the top directory:
#
#   make vm-deps    install qemu-system-x86 (and tshark) unless there
#   make vm-image   build the VM image from Debian packages into
#                   target/vm/image (scripts/vm/build_image.py): kernel,
#                   busybox-static, hostapd, wpasupplicant, iw, iproute2,
#                   tcpdump, setpriv; cached in target/vm, keyed by version
#   make vm-test    build the image and the static x86_64 agent if needed,
#                   boot the VM once (KVM if it works, else TCG) and run the
#                   scenarios of tests/vm/scenarios/ against the agent
#
# VM_SCENARIOS=a,b runs a subset; VM_AGENT=path tests another static x86_64
# binary (default: the one `make cross-x86_64` ships); VM_STRICT=1 counts
# the known agent gaps as failures (see KNOWN_AGENT_GAPS in tests/vm.rs).

VM_DIR ?= target/vm
VM_APT_PACKAGES := qemu-system-x86 tshark
VM_AGENT ?= $(DIST)/x86_64/wsflowd
VM_SCENARIOS ?=
VM_STRICT ?= 0

.PHONY: vm-deps vm-image vm-test

vm-deps:
	@missing=""; for p in $(VM_APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi

vm-image: vm-deps
	$(PYTHON) scripts/vm/build_image.py --cache $(VM_DIR)

# The agent as shipped: the static musl x86_64 build (rebuilt if the
# sources changed; a no-op after `make cross`), unless VM_AGENT names
# another binary.
vm-test: vm-image
	@if [ "$(VM_AGENT)" = "$(DIST)/x86_64/wsflowd" ]; then \
	  $(MAKE) --no-print-directory cross-deps && \
	  $(MAKE) --no-print-directory cross-x86_64; fi
	WSFLOWD_VM_IMAGE=$(VM_DIR)/image WSFLOWD_VM_AGENT=$(VM_AGENT) \
	  WSFLOWD_VM_SHARE=$(VM_DIR)/run WSFLOWD_VM_REQUIRE=1 \
	  WSFLOWD_VM_SCENARIOS=$(VM_SCENARIOS) WSFLOWD_VM_STRICT=$(VM_STRICT) \
	  $(CARGO) test --test vm -- --test-threads=1 --nocapture
