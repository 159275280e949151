# e. Faults while a station sends: hostapd killed and restarted, a BSS
# removed and re-added (hostapd's global control interface), a station's
# radio moved away mid-traffic, the AP interface deleted and re-created.
# The agent must keep running, follow each change (no stale station) and
# stay idle when nothing happens (its CPU time is read before and after an
# idle period).
radios 4
agent_conf $RUN/agent.conf 6343 \
	"config agent 'agent'" \
	"\toption polling_interval '1'" \
	"\toption sampling_rate '8'" \
	"\tlist interface '$WLAN0'" \
	"\tlist interface 'wlan0b'"
capture_sflow
ap_conf $RUN/r0.conf "$WLAN0" wsf-a 1
ap_conf_bss $RUN/r0.conf wlan0b wsf-b
# wlan0b alone, for hostapd's ADD.
ap_conf $RUN/b.conf wlan0b wsf-b 1
ap_start hostapd $RUN/r0.conf
ip addr add 10.0.1.1/24 dev "$WLAN0"
ip addr add 10.0.2.1/24 dev wlan0b
agent_start agent $RUN/agent.conf
watch_stations "$WLAN0" wlan0b
station sta1 1 wsf-a 10.0.1.2/24
station sta2 2 wsf-b 10.0.2.2/24
station sta3 3 wsf-a 10.0.1.3/24
associated sta1
associated sta2
associated sta3
# Traffic through all the faults (answered or not).
ip netns exec sta1 ping -q -i 0.05 -c 1200 10.0.1.1 >/dev/null 2>&1 &
remember ping-sta1 $!
sleep 2
agent_check agent start

event fault kind=hostapd_killed
ap_stop hostapd KILL
sleep 2
ap_start hostapd $RUN/r0.conf
ip addr add 10.0.1.1/24 dev "$WLAN0" 2>/dev/null
ip addr add 10.0.2.1/24 dev wlan0b 2>/dev/null
associated sta1
associated sta2
associated sta3
sleep 3
agent_check agent after_hostapd_restart

event fault kind=bss_removed ifname=wlan0b
hostapd_global hostapd raw REMOVE wlan0b
sleep 3
event fault kind=bss_added ifname=wlan0b
hostapd_global hostapd raw ADD "bss_config=$RADIO0:$RUN/b.conf"
wait_for 20 ap_enabled wlan0b || fail "wlan0b not ENABLED again"
ap_facts wlan0b
ip addr add 10.0.2.1/24 dev wlan0b
associated sta2
sleep 3
agent_check agent after_bss_readded

event fault kind=station_radio_moved name=sta3
ip netns exec sta3 iw phy "$(sta sta3 PHY)" set netns 1
sleep 3
agent_check agent after_station_moved

event fault kind=ap_interface_recreated ifname=$WLAN0
ap_stop hostapd
iw dev wlan0b del 2>/dev/null
iw dev "$WLAN0" del || fail "iw dev $WLAN0 del"
sleep 1
iw phy "$RADIO0" interface add "$WLAN0" type managed || fail "re-create $WLAN0"
ap_start hostapd $RUN/r0.conf
ip addr add 10.0.1.1/24 dev "$WLAN0"
ip addr add 10.0.2.1/24 dev wlan0b
associated sta1
associated sta2
sleep 4
agent_check agent after_ap_recreated

# Idle: no traffic, nothing changes.
kill "$(pid_of ping-sta1)" 2>/dev/null
sleep 1
agent_check agent idle_start
sleep 6
agent_check agent idle_end
final_facts "$WLAN0" wlan0b
agent_stop agent
