# Test stand-in for lang/rust/rust-package.mk of the packages feed (not the
# feed's file), put at lang/rust/ of the stub feed tree: records that it was
# included and for which packages RustBinPackage was called, and sets what
# the real one sets that a package Makefile may build on: RUST_ARCH_DEPENDS
# (rust-values.mk), CARGO_PKG_ARGS (reset to --locked when RUST_PKG_LOCKED
# is 1, its default: a package's own arguments must come after the
# include), RustBinPackage's default install (/usr/bin/*) when the package
# has none.
STUB_RUST_PACKAGE_MK:=$(lastword $(MAKEFILE_LIST))
RUST_ARCH_DEPENDS:=@(aarch64||arm||i386||loongarch64||mips||mips64||mips64el||mipsel||powerpc||powerpc64||riscv64||x86_64)
RUST_PKG_LOCKED ?= 1
CARGO_PKG_ARGS=
ifeq ($(strip $(RUST_PKG_LOCKED)),1)
  CARGO_PKG_ARGS+= --locked
endif
STUB_RUST_BIN_PACKAGES:=

define RustBinPackage
  STUB_RUST_BIN_PACKAGES+=$(1)
  ifndef Package/$(1)/install
    define Package/$(1)/install
	$$(INSTALL_DIR) $$(1)/usr/bin/
	$$(INSTALL_BIN) $$(PKG_INSTALL_DIR)/bin/* $$(1)/usr/bin/
    endef
  endif
endef
