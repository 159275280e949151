# g. Station sources: one AP (wsf-a on wlan0) followed by three agents at
# once, each knowing its stations another way: the kernel alone
# (station_source nl80211), stock hostapd's control socket alone
# (station_source hostapd), and every source (the default). All sample
# wlan0 at 1-in-1 and poll every second, so that the same frames and the
# same moments can be compared: association counts and radio records must
# agree with each other and with iw. The hostapd-only agent's exit log gives
# how long each control-socket message took to handle.
radios 3
id=0
for name in all nl80211 hostapd; do
	source=""
	[ $name != all ] && source="\tlist station_source '$name'"
	agent_conf "$RUN/agent-$name.conf" $((6343 + id)) \
		"config agent 'agent'" \
		"\toption sub_agent_id '$id'" \
		"\toption polling_interval '1'" \
		"\toption sampling_rate '1'" \
		"\tlist interface '$WLAN0'" \
		"$source"
	id=$((id + 1))
done
capture_sflow
ap_conf $RUN/r0.conf "$WLAN0" wsf-a 1
ap_start hostapd $RUN/r0.conf
ip addr add 10.0.1.1/24 dev "$WLAN0"
for name in all nl80211 hostapd; do
	agent_start "agent_$name" "$RUN/agent-$name.conf"
done
watch_stations "$WLAN0"
sleep 2

station sta1 1 wsf-a 10.0.1.2/24
associated sta1
pings sta1 10.0.1.1 30 0.1
station sta2 2 wsf-a 10.0.1.3/24
associated sta2
pings sta2 10.0.1.1 30 0.1
sleep 2
wpa sta1 disconnect
wait_for 10 disconnected sta1 || fail "sta1 did not leave"
event left name=sta1
sleep 3
pings sta2 10.0.1.1 20 0.1
final_facts "$WLAN0"
for name in all nl80211 hostapd; do
	agent_stop "agent_$name"
done
