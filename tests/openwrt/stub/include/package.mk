# Test stand-in for OpenWrt's include/package.mk (not OpenWrt's file).
# BuildPackage gives two goals instead of a build:
#   stub-record   prints NAME=VALUE for each variable named in STUB_RECORD,
#                 and the packages BuildPackage was called for
#   stub-install  runs Package/NAME/install of each with $(1) = $(DESTDIR),
#                 in the package's directory, expanded when BuildPackage is
#                 (as package-pack.mk expands it: conditionals inside it
#                 are read as make's)
STUB_PACKAGES:=

define BuildPackage
STUB_PACKAGES+=$(1)
stub-install: stub-install-$(1)
stub-install-$(1):
	$(call Package/$(1)/install,$(DESTDIR))
endef

.PHONY: stub-record stub-install
stub-record:
	@:$(foreach v,$(STUB_RECORD),$(info $(v)=$($(v))))$(info STUB_PACKAGES=$(STUB_PACKAGES))
