# shellcheck shell=sh
# shellcheck disable=SC3043  # local: dash and busybox ash have it
# Test stand-in for OpenWrt's /lib/functions.sh (package/base-files): the
# functions wsflowd's init script uses, with the same results.
#
# - config_load PACKAGE reads $UCI_CONFIG_DIR/PACKAGE by sourcing it with
#   config/option/list defined as functions.sh defines them (functions.sh
#   gets the same lines from `uci export`, which normalises the quoting;
#   the tests' files are written in that normal form). The values land in
#   CONFIG_<section>_<option>, CONFIG_SECTIONS lists the sections and
#   anonymous sections are named cfgN, N counting from 1, as there.
# - config_get and config_foreach behave as there (including config_get's
#   refusal of names with characters other than [A-Za-z0-9_]).
# - user_exists reads $SHIM_ROOT/etc/passwd (functions.sh reads
#   ${IPKG_INSTROOT}/etc/passwd; IPKG_INSTROOT also turns config_load off
#   there, so the tests keep it unset).
#
# Checked by hand against functions.sh of openwrt/openwrt master (2026):
# the init script run under the real functions.sh, uci.sh and a uci binary
# built from openwrt/uci, in a chroot, gave the same ubus calls as under
# this file (see openwrt/README.md, "How the init script is tested").

CONFIG_SECTIONS=
CONFIG_NUM_SECTIONS=0
CONFIG_SECTION=

config() {
	local cfgtype="$1" name="$2"
	CONFIG_NUM_SECTIONS=$((CONFIG_NUM_SECTIONS + 1))
	name="${name:-cfg$CONFIG_NUM_SECTIONS}"
	CONFIG_SECTIONS="${CONFIG_SECTIONS:+$CONFIG_SECTIONS }$name"
	CONFIG_SECTION="$name"
	config_set "$name" TYPE "$cfgtype"
}

option() {
	local varname="$1"
	shift
	config_set "$CONFIG_SECTION" "$varname" "$*"
}

list() {
	local varname="$1" len
	shift
	config_get len "$CONFIG_SECTION" "${varname}_LENGTH" 0
	len=$((len + 1))
	config_set "$CONFIG_SECTION" "${varname}_ITEM$len" "$*"
	config_set "$CONFIG_SECTION" "${varname}_LENGTH" "$len"
	eval "CONFIG_${CONFIG_SECTION}_${varname}=\"\${CONFIG_${CONFIG_SECTION}_${varname}:+\${CONFIG_${CONFIG_SECTION}_${varname}} }\$*\""
}

package() {
	return 0
}

config_set() {
	eval "CONFIG_${1}_${2}=\$3"
}

config_load() {
	local section
	for section in $CONFIG_SECTIONS; do
		unset "CONFIG_${section}_TYPE"
	done
	CONFIG_SECTIONS=
	CONFIG_NUM_SECTIONS=0
	[ -f "$UCI_CONFIG_DIR/$1" ] || return 1
	# shellcheck disable=SC1090
	. "$UCI_CONFIG_DIR/$1"
}

config_get() {
	case "$2${3:-$1}" in
	*[!A-Za-z0-9_]*) : ;;
	*)
		case "$3" in
		"") eval echo "\"\${CONFIG_${1}_${2}:-\${4}}\"" ;;
		*) eval "${1}=\${CONFIG_${2}_${3}:-\${4}}" ;;
		esac
		;;
	esac
}

config_foreach() {
	local ___function="$1"
	[ "$#" -ge 1 ] && shift
	local ___type="$1"
	[ "$#" -ge 1 ] && shift
	local section cfgtype
	[ -z "$CONFIG_SECTIONS" ] && return 0
	for section in $CONFIG_SECTIONS; do
		config_get cfgtype "$section" TYPE
		[ -n "$___type" ] && [ "x$cfgtype" != "x$___type" ] && continue
		eval "$___function \"\$section\" \"\$@\""
	done
}

user_exists() {
	grep -qs "^${1}:" "$SHIM_ROOT/etc/passwd"
}
