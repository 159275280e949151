# Test stand-in for OpenWrt's rules.mk (not OpenWrt's file): what the
# package Makefiles of the feed layout use of it, with rules.mk's values.
# tests/packaging.rs runs `make feed`'s layout against it.
INCLUDE_DIR:=$(TOPDIR)/include
CP:=cp -fpR
INSTALL_BIN:=install -m0755
INSTALL_DIR:=install -d -m0755
INSTALL_DATA:=install -m0644
INSTALL_CONF:=install -m0600
