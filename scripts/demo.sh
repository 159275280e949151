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

# A web server on the AP for TCP traffic, if Python is there.
if command -v python3 >/dev/null; then
  (cd "$WORK" && exec ip netns exec "$AP" python3 -m http.server --bind 192.0.2.1 8080) > /dev/null 2>&1 &
  pids+=($!)
  sleep 0.5
  ip netns exec "$STA" bash -c "end=\$((SECONDS + $SECONDS_OF_TRAFFIC)); while [ \$SECONDS -lt \$end ]; do
    exec 3<>/dev/tcp/192.0.2.1/8080 && printf 'GET /samples.txt HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3 > /dev/null; exec 3<&-; sleep 0.05; done" 2>/dev/null &
  pids+=($!)
fi
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
echo "== decoded samples (first 12 and last 4 of $(wc -l < "$WORK/samples.txt"); lines cut at 320 characters) =="
head -n 12 "$WORK/samples.txt" | cut -c1-320
echo "..."
tail -n 4 "$WORK/samples.txt" | cut -c1-320
echo
flows=$(grep -c ' flow_sample ' "$WORK/samples.txt" || true)
counters=$(grep -c ' counters_sample ' "$WORK/samples.txt" || true)
# The IP protocol of each sampled frame, from the header bytes (Ethernet
# type at bytes 12-13, IPv4 protocol at byte 23).
protocols=$(grep -o ' header=[0-9a-f]*' "$WORK/samples.txt" | awk '{
  h = substr($1, 8); type = substr(h, 25, 4); proto = substr(h, 47, 2)
  if (type == "0806") n["ARP"]++
  else if (type != "0800") n["other"]++
  else if (proto == "01") n["ICMP"]++
  else if (proto == "06") n["TCP"]++
  else if (proto == "11") n["UDP"]++
  else n["other IP"]++
} END { for (k in n) printf "%s %d, ", k, n[k] }')
echo "== summary: $flows flow samples (${protocols%, }), $counters counter samples received =="
