# b. Association counts follow stations joining and leaving. One AP (wsf-a
# on wlan0), three stations that join one after the other, one leaving and
# coming back (wpa_cli disconnect / reconnect), two leaving. The agent
# polls every second; iw and hostapd_cli are read every second too.
radios 4
agent_conf $RUN/agent.conf 6343 \
	"config agent 'agent'" \
	"\toption polling_interval '1'" \
	"\toption sampling_rate '16'" \
	"\tlist interface '$WLAN0'"
capture_sflow
ap_conf $RUN/r0.conf "$WLAN0" wsf-a 1
ap_start hostapd $RUN/r0.conf
ip addr add 10.0.1.1/24 dev "$WLAN0"
agent_start agent $RUN/agent.conf
watch_stations "$WLAN0"
sleep 3

station sta1 1 wsf-a 10.0.1.2/24
associated sta1
sleep 3
station sta2 2 wsf-a 10.0.1.3/24
associated sta2
sleep 3
station sta3 3 wsf-a 10.0.1.4/24
associated sta3
sleep 3
wpa sta2 disconnect
wait_for 10 disconnected sta2 || fail "sta2 did not leave"
event left name=sta2
sleep 3
wpa sta2 reconnect
associated sta2
sleep 3
wpa sta1 disconnect
wpa sta3 disconnect
event left name=sta1
event left name=sta3
sleep 4
final_facts "$WLAN0"
agent_stop agent
