# d. ieee80211_counters and radio_utilization as the kernel really has them.
# Radio 0: an AP on a fixed channel (hwsim has no survey data for a channel
# it never scanned); radio 1: an AP whose hostapd picks its channel by
# automatic channel selection (a scan of every channel: survey data, noise,
# active and busy time). One station on each; traffic; the agent polls
# every 2 s. Debian's kernel has no mac80211 debugfs statistics.
radios 4
agent_conf $RUN/agent.conf 6343 \
	"config agent 'agent'" \
	"\toption polling_interval '2'" \
	"\toption sampling_rate '16'" \
	"\tlist interface '$WLAN0'" \
	"\tlist interface '$WLAN1'"
capture_sflow
ap_conf $RUN/r0.conf "$WLAN0" wsf-a 1
ap_conf $RUN/r1.conf "$WLAN1" wsf-acs 0
ap_start hostapd $RUN/r0.conf $RUN/r1.conf
ip addr add 10.0.1.1/24 dev "$WLAN0"
ip addr add 10.0.3.1/24 dev "$WLAN1"
fact debugfs_statistics sh -c "ls /sys/kernel/debug/ieee80211/*/ 2>&1; ls /sys/kernel/debug/ieee80211/*/statistics 2>&1"
for i in "$WLAN0" "$WLAN1"; do fact "survey $i" iw dev "$i" survey dump; done
agent_start agent $RUN/agent.conf
watch_stations "$WLAN0" "$WLAN1"
station sta1 2 wsf-a 10.0.1.2/24
station sta2 3 wsf-acs 10.0.3.2/24
associated sta1
associated sta2
pings sta1 10.0.1.1 200 0.01 &
p1=$!
pings sta2 10.0.3.1 200 0.01 &
p2=$!
wait $p1 $p2
sleep 5
final_facts "$WLAN0" "$WLAN1"
agent_stop agent
