# shellcheck shell=sh
# shellcheck disable=SC3043  # local: dash and busybox ash have it
# Test stand-in for OpenWrt's /lib/functions/procd.sh (package/system/procd):
# each `ubus call service ...` that procd.sh would make is appended to
# $SHIM_OUT as one line, "ubus service METHOD JSON", with the message built
# as procd.sh builds it with jshn: the same members, nesting, order and
# types (json_add_string gives a string, json_add_int a number,
# json_add_boolean true/false). Only the functions wsflowd's init script
# and these tests use are here; anything else is an error.
#
# procd.sh's structure, followed here:
# - procd_open_service: {"name", "script", "instances": {...}}; each
#   instance an object named by procd_open_instance; procd_close_instance
#   fills an empty respawn with 3600 5 5 (as strings: the uci system
#   defaults, unset in these tests).
# - procd_close_service: "triggers" (service_triggers runs inside one
#   array, opened once however procd_add_*_trigger nest), "validate"
#   (procd_open_validate leaves the triggers array and opens this one),
#   "data" (rc.common defines service_data, so it is always there).
# - triggers: procd_add_reload_trigger gives, per configuration,
#   ["config.change", ["if", ["eq", "package", NAME],
#   ["run_script", "/etc/init.d/SCRIPT", "reload"]], 1000] (1000 is
#   PROCD_RELOAD_DELAY); procd_add_reload_interface_trigger the same with
#   "interface.*" and ["eq", "interface", NAME]; procd_add_raw_trigger
#   [EVENT, [["run_script", ARGS...]], TIMEOUT].
# - validation: uci_load_validate with an empty section runs validate_data,
#   whose output procd.sh evals: {"package", "type", "data": {OPTION:
#   DATATYPE}}. The datatype goes through a double-quoted eval there, so
#   one holding '"', '$', '`' or '\' would come out changed: refused here.
# - procd_send_signal NAME '*' SIGNAL: {"name", "signal": number}; with
#   another instance than '*', also "instance".
# - procd_running: "ubus call service list {"name"}", answered from
#   $SHIM_RUNNING (1: running).
#
# Checked by hand against procd.sh of openwrt/openwrt master (2026) run
# with jshn from openwrt/libubox: see openwrt/README.md.

# Also from command substitutions: the line in $SHIM_OUT fails the test.
_shim_fail() {
	echo "procd.sh shim: $*" >&2
	printf 'shim-error %s\n' "$*" >>"$SHIM_OUT"
	exit 99
}

_SHIM_NL='
'
_SHIM_TAB='	'

# A JSON string; the tests pass no control characters.
_shim_str() {
	case "$1" in
	*"$_SHIM_NL"* | *"$_SHIM_TAB"*) _shim_fail "control character in $1" ;;
	esac
	printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

# Appends ITEM to the comma-separated list in the variable named $1.
_shim_add() {
	eval "$1=\"\${$1:+\${$1},}\$2\""
}

_shim_array() {
	local out="" a
	for a in "$@"; do
		_shim_add out "$(_shim_str "$a")"
	done
	printf '[%s]' "$out"
}

_shim_ubus() {
	printf 'ubus service %s %s\n' "$1" "$2" >>"$SHIM_OUT"
}

procd_lock() {
	:
}

procd_open_service() {
	_SHIM_SERVICE="$1"
	_SHIM_HEAD="\"name\":$(_shim_str "$1")"
	[ -n "$2" ] && _SHIM_HEAD="$_SHIM_HEAD,\"script\":$(_shim_str "$2")"
	_SHIM_INSTANCES=
	_SHIM_INSTANCE_SEQ=0
	_SHIM_TRIGGERS=
	_SHIM_VALIDATE=
	_SHIM_TRIGGER_OPEN=0
	_SHIM_IN_VALIDATE=
}

procd_close_service() {
	local msg
	procd_open_trigger
	service_triggers
	procd_close_trigger
	msg="{$_SHIM_HEAD,\"instances\":{$_SHIM_INSTANCES},\"triggers\":[$_SHIM_TRIGGERS]"
	[ -n "$_SHIM_VALIDATED" ] && msg="$msg,\"validate\":[$_SHIM_VALIDATE]"
	msg="$msg,\"data\":{}}"
	_shim_ubus "${1:-set}" "$msg"
	_SHIM_VALIDATED=
}

procd_open_instance() {
	_SHIM_INSTANCE_SEQ=$((_SHIM_INSTANCE_SEQ + 1))
	_SHIM_INSTANCE_NAME="${1:-instance$_SHIM_INSTANCE_SEQ}"
	_SHIM_INSTANCE=
	_SHIM_RESPAWN=
}

procd_set_param() {
	local type="$1" value
	shift
	case "$type" in
	command | netdev | file | watch)
		value="$(_shim_array "$@")"
		;;
	respawn)
		_SHIM_RESPAWN="$(_shim_array "$@")"
		[ $# -gt 0 ] || _SHIM_RESPAWN=empty
		return
		;;
	reload_signal)
		value="$(kill -l "$1")" || _shim_fail "signal $1"
		;;
	pidfile | user | group | seccomp | capabilities | facility)
		value="$(_shim_str "$1")"
		;;
	stdout | stderr | no_new_privs)
		case "$1" in
		1) value=true ;;
		0) value=false ;;
		*) _shim_fail "boolean $type $1" ;;
		esac
		;;
	*) _shim_fail "procd_set_param $type" ;;
	esac
	_shim_add _SHIM_INSTANCE "$(_shim_str "$type"):$value"
}

procd_add_jail() {
	local jail a
	jail="\"name\":$(_shim_str "$1")"
	shift
	for a in "$@"; do
		case "$a" in
		log | ubus | udebug | procfs | sysfs | ronly | requirejail | netns | userns | cgroupsns)
			jail="$jail,\"$a\":true"
			;;
		esac
	done
	_shim_add _SHIM_INSTANCE "\"jail\":{$jail,\"mount\":{}}"
}

procd_close_instance() {
	local respawn="$_SHIM_RESPAWN"
	[ "$respawn" = empty ] && respawn="$(_shim_array 3600 5 5)"
	# procd.sh adds respawn where procd_set_param put it; its defaults are
	# appended to the array in place. Members of an object: order free.
	[ -n "$respawn" ] && _shim_add _SHIM_INSTANCE "\"respawn\":$respawn"
	_shim_add _SHIM_INSTANCES "$(_shim_str "$_SHIM_INSTANCE_NAME"):{$_SHIM_INSTANCE}"
}

procd_open_trigger() {
	_SHIM_TRIGGER_OPEN=$((_SHIM_TRIGGER_OPEN + 1))
}

procd_close_trigger() {
	_SHIM_TRIGGER_OPEN=$((_SHIM_TRIGGER_OPEN - 1))
}

_shim_trigger() {
	[ -z "$_SHIM_IN_VALIDATE" ] || _shim_fail "trigger inside procd_open_validate"
	_shim_add _SHIM_TRIGGERS "$1"
}

_shim_script_name() {
	local script
	# shellcheck disable=SC2154  # set by rc.common
	script="$(readlink "$initscript")"
	basename "${script:-$initscript}"
}

# [EVENT, ["if", ["eq", VAR, VALUE], ["run_script", ARGS...]], 1000]
_shim_if_trigger() {
	local event="$1" var="$2" value="$3"
	shift 3
	_shim_trigger "[$(_shim_str "$event"),[\"if\",[\"eq\",$(_shim_str "$var"),$(_shim_str "$value")],$(_shim_array run_script "$@")],1000]"
}

procd_add_reload_trigger() {
	local name file
	name="$(_shim_script_name)"
	for file in "$@"; do
		_shim_if_trigger config.change package "$file" "/etc/init.d/$name" reload
	done
}

procd_add_config_trigger() {
	local event="$1" file="$2"
	shift 2
	_shim_if_trigger "$event" package "$file" "$@"
}

procd_add_reload_interface_trigger() {
	_shim_if_trigger 'interface.*' interface "$1" "/etc/init.d/$(_shim_script_name)" reload
}

procd_add_interface_trigger() {
	local event="$1" iface="$2"
	shift 2
	_shim_if_trigger "$event" interface "$iface" "$@"
}

procd_add_raw_trigger() {
	local event="$1" timeout="$2"
	shift 2
	_shim_trigger "[$(_shim_str "$event"),[$(_shim_array run_script "$@")],$timeout]"
}

procd_open_validate() {
	_SHIM_IN_VALIDATE=1
	_SHIM_VALIDATED=1
}

procd_close_validate() {
	_SHIM_IN_VALIDATE=
}

# validate_data's registration output: the option and its datatype, split
# at the first and second ':' (validate_data's parse_tuple; a '\' would
# escape a ':' there: refused here).
uci_load_validate() {
	local package="$1" type="$2" name="$3" tuple opt rest expr data=""
	shift 4
	[ -z "$name" ] || _shim_fail "uci_load_validate for section $name: only registration is shimmed"
	[ -n "$_SHIM_IN_VALIDATE" ] || _shim_fail "uci_load_validate outside procd_open_validate"
	for tuple in "$@"; do
		case "$tuple" in
		*[\\\"\$\`]*) _shim_fail "validate_data would mangle $tuple" ;;
		*:*) ;;
		*) continue ;;
		esac
		opt="${tuple%%:*}"
		rest="${tuple#*:}"
		expr="${rest%%:*}"
		_shim_add data "$(_shim_str "$opt"):$(_shim_str "$expr")"
	done
	_shim_add _SHIM_VALIDATE "{\"package\":$(_shim_str "$package"),\"type\":$(_shim_str "$type"),\"data\":{$data}}"
	return 0
}

procd_running() {
	_shim_ubus list "{\"name\":$(_shim_str "$1")}"
	[ "$SHIM_RUNNING" = 1 ]
}

procd_send_signal() {
	local service="$1" instance="$2" signal="$3" msg
	case "$signal" in
	[A-Z]*) signal="$(kill -l "$signal" 2>/dev/null)" || return 1 ;;
	esac
	msg="\"name\":$(_shim_str "$service")"
	[ -n "$instance" ] && [ "$instance" != "*" ] && msg="$msg,\"instance\":$(_shim_str "$instance")"
	[ -n "$signal" ] && msg="$msg,\"signal\":$signal"
	_shim_ubus signal "{$msg}"
}

procd_kill() {
	local msg=""
	[ -n "$1" ] && msg="\"name\":$(_shim_str "$1")"
	[ -n "$2" ] && _shim_add msg "\"instance\":$(_shim_str "$2")"
	_shim_ubus delete "{$msg}"
}
