# g. Two stations of one BSS talking to each other through the AP
# (ap_isolate=0: mac80211 relays their frames), with the AP interface not
# bridged, then bridged (hostapd's bridge=br-lan). Every sample's input and
# output is recorded for issue 15. wlan0 is sampled 1-in-1.
radios 3
agent_conf $RUN/agent.conf 6343 \
	"config agent 'agent'" \
	"\toption polling_interval '0'" \
	"\toption sampling_rate '1'" \
	"\tlist interface '$WLAN0'"
capture_sflow
ap_conf $RUN/plain.conf "$WLAN0" wsf-a 1 ap_isolate=0
ap_conf $RUN/bridged.conf "$WLAN0" wsf-a 1 ap_isolate=0 bridge=br-lan
agent_start agent $RUN/agent.conf

event phase name=unbridged
ap_start hostapd $RUN/plain.conf
ip addr add 10.0.1.1/24 dev "$WLAN0"
station sta1 1 wsf-a 10.0.1.2/24
station sta2 2 wsf-a 10.0.1.3/24
associated sta1
associated sta2
fact "ifindex $WLAN0" cat "/sys/class/net/$WLAN0/ifindex"
pings sta1 10.0.1.3 50 0.02
sleep 2

event phase name=bridged
ap_stop hostapd
ip addr flush dev "$WLAN0"
ip link add br-lan type bridge || fail "bridge"
ip link set br-lan up
ip addr add 10.0.1.1/24 dev br-lan
ap_start hostapd $RUN/bridged.conf
fact "bridge links" ip link show master br-lan
fact "ifindex br-lan" cat /sys/class/net/br-lan/ifindex
associated sta1
associated sta2
pings sta1 10.0.1.3 50 0.02
pings sta1 10.0.1.1 50 0.02
sleep 2
agent_stop agent
