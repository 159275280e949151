#!/bin/sh
# Resident memory of an idle agent: one sampled interface (a veth in a
# temporary network namespace) and one collector on 127.0.0.1, measured
# after SECONDS_IDLE seconds. Needs root (namespaces) and setpriv.
#
#   sh scripts/measure_rss.sh dist/x86_64/wsflowd
#
# The agent runs twice: as root, and as an unprivileged user holding only
# CAP_NET_RAW and CAP_BPF (what the OpenWrt package grants through ujail),
# which also shows which sampling filter that user gets. Everything created
# is removed on exit.
set -eu

BIN=$(realpath "${1:?usage: measure_rss.sh WSFLOWD_BINARY}")
SECONDS_IDLE=${SECONDS_IDLE:-10}
NS=wsflowd-rss-$$
DIR=$(mktemp -d)
chmod 755 "$DIR"

cleanup() {
	for f in "$DIR"/*.pid; do
		if [ -f "$f" ]; then kill "$(cat "$f")" 2>/dev/null || true; fi
	done
	sleep 0.5
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add rss0 type veth peer name rss1
ip -n "$NS" addr add 198.51.100.1/24 dev rss0
ip -n "$NS" addr add 198.51.100.2/24 dev rss1
ip -n "$NS" link set rss0 up
ip -n "$NS" link set rss1 up

cat > "$DIR/wsflowd.uci" <<EOF
config agent 'agent'
	option polling_interval '5'
	list interface 'rss0'

config collector
	option address '127.0.0.1'
	option port '6343'
EOF
chmod 644 "$DIR/wsflowd.uci"

ip netns exec "$NS" "$BIN" collect --listen 127.0.0.1:6343 >"$DIR/collect.out" 2>&1 &
echo $! >"$DIR/collect.pid"

run() { # $1: label, then the command prefix
	label=$1
	shift
	ip netns exec "$NS" "$@" "$BIN" -f -c "$DIR/wsflowd.uci" >"$DIR/$label.log" 2>&1 &
	pid=$!
	echo $pid >"$DIR/$label.pid"
	sleep "$SECONDS_IDLE"
	# The agent itself: setpriv and ip exec it in place.
	rss=$(awk '/^VmRSS/ {print $2, $3}' "/proc/$pid/status")
	hwm=$(awk '/^VmHWM/ {print $2, $3}' "/proc/$pid/status")
	echo "$label: VmRSS $rss (peak $hwm), ps rss $(ps -o rss= -p "$pid") kB"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	grep -i -E 'filter|ebpf|classic|error' "$DIR/$label.log" | sed "s/^/  $label log: /" | head -5 || true
}

run root env
run "uid-65534+CAP_NET_RAW,CAP_BPF" setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all,+net_raw,+bpf --ambient-caps=-all,+net_raw,+bpf --bounding-set=-all,+net_raw,+bpf
echo "collector: $(grep -c . "$DIR/collect.out") lines received"
