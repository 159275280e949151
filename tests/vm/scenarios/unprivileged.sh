# f. The agent as an unprivileged user with capabilities only, as OpenWrt
# runs it (procd: user wsflowd, CAP_NET_RAW and CAP_BPF): one agent with
# CAP_NET_RAW alone, one with CAP_NET_RAW and CAP_BPF, both sampling the
# same AP interface while a station pings the AP. util-linux's setpriv sets
# the user and the ambient capabilities.
radios 2
for name in raw bpf; do
	port=6343
	[ $name = bpf ] && port=6344
	agent_conf "$RUN/agent-$name.conf" $port \
		"config agent 'agent'" \
		"\toption polling_interval '2'" \
		"\toption sampling_rate '4'" \
		"\tlist interface '$WLAN0'"
done
capture_sflow
ap_conf $RUN/r0.conf "$WLAN0" wsf-a 1
ap_start hostapd $RUN/r0.conf
ip addr add 10.0.1.1/24 dev "$WLAN0"
USER_OPTS="--reuid=1000 --regid=1000 --clear-groups"
# What a process started that way has, as libcap's capsh prints it.
fact caps_raw setpriv $USER_OPTS --inh-caps=-all,+net_raw --ambient-caps=-all,+net_raw \
	capsh --print
fact caps_bpf setpriv $USER_OPTS --inh-caps=-all,+net_raw,+bpf --ambient-caps=-all,+net_raw,+bpf \
	capsh --print
agent_start agent_raw "$RUN/agent-raw.conf" $USER_OPTS --inh-caps=-all,+net_raw --ambient-caps=-all,+net_raw
agent_start agent_bpf "$RUN/agent-bpf.conf" $USER_OPTS --inh-caps=-all,+net_raw,+bpf --ambient-caps=-all,+net_raw,+bpf
fact agent_raw_status sh -c "grep -E 'Uid|Cap' /proc/$(pid_of agent_raw)/status"
fact agent_bpf_status sh -c "grep -E 'Uid|Cap' /proc/$(pid_of agent_bpf)/status"
watch_stations "$WLAN0"
station sta1 1 wsf-a 10.0.1.2/24
associated sta1
pings sta1 10.0.1.1 400 0.01
sleep 4
final_facts "$WLAN0"
agent_check agent_raw end
agent_check agent_bpf end
agent_stop agent_raw
agent_stop agent_bpf
