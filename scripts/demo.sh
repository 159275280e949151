#!/usr/bin/env bash
# The demo: an "access point" namespace and a "station" namespace joined by a
# veth pair. wsflowd samples the AP's port; `wsflowd collect` listens on the
# AP's loopback and prints every decoded sample while the station sends ping,
# UDP and TCP traffic. Everything is removed at the end.
#
# Usage: scripts/demo.sh [path/to/wsflowd]   (as root)
set -euo pipefail

BIN=$(realpath "${1:-target/release/wsflowd}")
SECONDS_OF_TRAFFIC=${DEMO_SECONDS:-6}
AP=wsflowd-demo-ap
STA=wsflowd-demo-sta
WORK=$(mktemp -d /tmp/wsflowd-demo.XXXXXX)

if [ "$(id -u)" != 0 ]; then
  echo "demo: needs root (network namespaces)" >&2
  exit 1
fi

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$AP" 2>/dev/null || true
  ip netns del "$STA" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

ip netns add "$AP"
ip netns add "$STA"
for ns in "$AP" "$STA"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip -n "$ns" link set lo up
done
ip link add ap0 netns "$AP" type veth peer name sta0 netns "$STA"
ip -n "$AP" addr add 192.0.2.1/24 dev ap0
ip -n "$STA" addr add 192.0.2.2/24 dev sta0
ip -n "$AP" link set ap0 up
ip -n "$STA" link set sta0 up

cat > "$WORK/wsflowd" <<'CONF'
config agent 'agent'
	option enabled '1'
	option polling_interval '5'
	option sampling_rate '10'
	option header_bytes '64'
	list interface 'ap0'

config collector
	option address '127.0.0.1'
	option port '6343'
CONF

echo "== wsflowd demo: sampling ap0 at 1-in-10, counters every 5 s =="
ip netns exec "$AP" "$BIN" collect --listen 127.0.0.1:6343 > "$WORK/samples.txt" 2>/dev/null &
pids+=($!)
sleep 0.3
ip netns exec "$AP" "$BIN" --foreground --config "$WORK/wsflowd" 2> "$WORK/agent.log" &
pids+=($!)
sleep 1

# A TCP service on the AP for the station to talk to.
ip netns exec "$AP" bash -c 'while true; do cat /dev/zero | head -c 20000 > /dev/tcp/127.0.0.1/1 2>/dev/null; sleep 10; done' &
pids+=($!)
echo "== station sends ping, UDP and TCP traffic for ${SECONDS_OF_TRAFFIC} s =="
ip netns exec "$STA" ping -q -i 0.002 -w "$SECONDS_OF_TRAFFIC" 192.0.2.1 > /dev/null &
ping_pid=$!
ip netns exec "$STA" bash -c "end=\$((SECONDS + $SECONDS_OF_TRAFFIC)); while [ \$SECONDS -lt \$end ]; do
  for i in \$(seq 200); do echo \"hello \$i\" > /dev/udp/192.0.2.1/5353; done; sleep 0.1; done" &
udp_pid=$!
wait "$ping_pid" "$udp_pid" || true
sleep 6   # let the last datagram and a counter poll arrive

kill "${pids[1]}" 2>/dev/null || true
sleep 0.5
echo
echo "== agent log =="
cat "$WORK/agent.log"
echo
echo "== decoded samples (first 15 and last 5 of $(wc -l < "$WORK/samples.txt")) =="
head -n 15 "$WORK/samples.txt"
echo "..."
tail -n 5 "$WORK/samples.txt"
echo
flows=$(grep -c ' flow_sample ' "$WORK/samples.txt" || true)
counters=$(grep -c ' counters_sample ' "$WORK/samples.txt" || true)
echo "== summary: $flows flow samples, $counters counter samples received =="
