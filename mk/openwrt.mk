# OpenWrt cross builds and packages (being written).
CROSS_APT_PACKAGES := rustc-web cargo-web rust-web-src libstd-rust-web-dev qemu-user-static
PYTHON ?= python3
.PHONY: cross-deps
cross-deps:
	@missing=""; for p in $(CROSS_APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@$(PYTHON) -c 'import ziglang' 2>/dev/null || $(PYTHON) -m pip install --quiet ziglang
	@command -v cargo-zigbuild >/dev/null || $(CARGO) install --locked cargo-zigbuild
