# Test stand-in for luci.mk at the root of the LuCI feed (not LuCI's file),
# put at the root of the stub feed tree: the package is named after its
# directory as there, and its install copies htdocs/ to /www and root/ to /
# as there; records that it was included.
STUB_LUCI_MK:=$(lastword $(MAKEFILE_LIST))
LUCI_NAME?=$(notdir ${CURDIR})
PKG_NAME?=$(LUCI_NAME)
PKG_RELEASE?=1

include $(INCLUDE_DIR)/package.mk

define Package/$(PKG_NAME)/install
	$(INSTALL_DIR) $(1)/www
	cp -pR ./htdocs/* $(1)/www/
	$(INSTALL_DIR) $(1)/
	cp -pR ./root/* $(1)/
endef

$(foreach pkg,$(PKG_NAME),$(eval $(call BuildPackage,$(pkg))))
