# c. Monitor mode. Radio 0: our AP (wsf-a on wlan0, channel 1) and two
# monitor interfaces on the same radio (mon0: foreign BSSes ignored, mon1:
# reported as discards). Radio 1: a neighbour AP (wsf-n, its own hostapd)
# on the same channel. Radio 2: a station of wsf-a pinging the AP. Radio 3:
# a sensor radio, monitor only (mon3, channel 1), no AP of ours. tcpdump
# captures mon0 and mon3 for the comparison with the samples.
radios 4
iw phy "$RADIO0" interface add mon0 type monitor || fail "mon0"
iw phy "$RADIO0" interface add mon1 type monitor || fail "mon1"
iw phy "$RADIO3" interface add mon3 type monitor || fail "mon3"
ip link set mon0 up
ip link set mon1 up
ip link set "$WLAN3" down
ip link set mon3 up
iw dev mon3 set freq 2412 || fail "mon3 channel"
agent_conf $RUN/agent.conf 6343 \
	"config agent 'agent'" \
	"\toption polling_interval '2'" \
	"\toption header_bytes '128'" \
	"\tlist interface '$WLAN0'" \
	"\tlist interface 'mon0'" \
	"\tlist interface 'mon1'" \
	"\tlist interface 'mon3'" \
	"config interface" \
	"\toption device '$WLAN0'" \
	"\toption sampling_rate '4'" \
	"config interface" \
	"\toption device 'mon0'" \
	"\toption sampling_rate '1'" \
	"config interface" \
	"\toption device 'mon1'" \
	"\toption sampling_rate '1'" \
	"\toption foreign_bss 'discard'" \
	"config interface" \
	"\toption device 'mon3'" \
	"\toption sampling_rate '1'"
capture_sflow
ap_conf $RUN/r0.conf "$WLAN0" wsf-a 1
ap_conf $RUN/rn.conf "$WLAN1" wsf-n 1
ap_start hostapd $RUN/r0.conf
ap_start neighbour $RUN/rn.conf
ip addr add 10.0.1.1/24 dev "$WLAN0"
fact "dev_info mon0" iw dev mon0 info
fact "dev_info mon1" iw dev mon1 info
fact "dev_info mon3" iw dev mon3 info
capture mon0 mon0.pcap
capture mon3 mon3.pcap
agent_start agent $RUN/agent.conf
watch_stations "$WLAN0"
station sta1 2 wsf-a 10.0.1.2/24
associated sta1
pings sta1 10.0.1.1 100 0.02
sleep 3
final_facts "$WLAN0"
agent_stop agent
stop_captures
# What tcpdump decodes from the radiotap headers, frame by frame.
tcpdump -r "$OUT/mon0.pcap" -nn -e -tt >"$OUT/mon0.txt" 2>&1
tcpdump -r "$OUT/mon3.pcap" -nn -e -tt >"$OUT/mon3.txt" 2>&1
