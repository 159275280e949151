# a. AP sampling. Radio 0: two BSSes (wsf-a on wlan0, wsf-b on wlan0b),
# channel 1; radio 1: wsf-c on channel 6. Three stations, each radio in its
# own namespace, ping their AP with known counts. wlan0b is sampled 1-in-1
# (every frame: the station's ARP broadcasts must be counted once,
# hostapd's Layer-2 Update frame shows up), the others 1-in-4.
radios 5
agent_conf $RUN/agent.conf 6343 \
	"config agent 'agent'" \
	"\toption polling_interval '2'" \
	"\toption sampling_rate '4'" \
	"\toption header_bytes '128'" \
	"\tlist interface '$WLAN0'" \
	"\tlist interface 'wlan0b'" \
	"\tlist interface '$WLAN1'" \
	"config interface" \
	"\toption device 'wlan0b'" \
	"\toption sampling_rate '1'"
capture_sflow
agent_start agent $RUN/agent.conf

ap_conf $RUN/r0.conf "$WLAN0" wsf-a 1
ap_conf_bss $RUN/r0.conf wlan0b wsf-b
ap_conf $RUN/r1.conf "$WLAN1" wsf-c 6
ap_start hostapd $RUN/r0.conf $RUN/r1.conf
ip addr add 10.0.1.1/24 dev "$WLAN0"
ip addr add 10.0.2.1/24 dev wlan0b
ip addr add 10.0.3.1/24 dev "$WLAN1"
# What the kernel's packet taps deliver on wlan0b (sampled 1-in-1).
capture wlan0b wlan0b.pcap
watch_stations "$WLAN0" wlan0b "$WLAN1"

station sta1 2 wsf-a 10.0.1.2/24
station sta2 3 wsf-b 10.0.2.2/24
station sta3 4 wsf-c 10.0.3.2/24
associated sta1
associated sta2
associated sta3

pings sta1 10.0.1.1 400 0.01 &
p1=$!
pings sta2 10.0.2.1 100 0.02 &
p2=$!
pings sta3 10.0.3.1 200 0.01 &
p3=$!
arp_probes sta2 10.0.2.99 6 &
p4=$!
wait $p1 $p2 $p3 $p4
# Two polling intervals after the traffic: the counters are final.
sleep 5
final_facts "$WLAN0" wlan0b "$WLAN1"
agent_stop agent
