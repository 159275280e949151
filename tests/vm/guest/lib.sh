# Functions the scenarios of the Wi-Fi test rig use inside the VM (busybox
# sh). Sourced by run.sh with SCENARIO set; a scenario script (one file in
# ../scenarios/) builds its world with these, runs traffic, and returns.
#
# Everything a scenario records goes to $OUT (/tmp/out/SCENARIO; run.sh
# copies it to the host's 9p share when the scenario has ended, so that
# concurrent appends stay atomic and slow 9p writes do not pace the
# scenario):
#   events.log    "<unix time> <event> key=value..." lines: what was done
#                 and when (traffic with its counts, joins, faults)
#   facts.log     "=== <unix time> <name>" then a command's output: what
#                 iw, hostapd_cli and the kernel reported at that moment
#   stations.log  the same, every second, for each watched AP interface
#                 (iw station dump, hostapd_cli all_sta)
#   sflow.pcap    every sFlow datagram the agents sent (tcpdump on lo)
#   *.log         agent, hostapd and wpa_supplicant logs; dmesg.txt
# The host test reads these after the VM has stopped. Times come from
# `ts %.s` (microseconds, the clock of tcpdump's timestamps).
#
# busybox sh runs its own applets before anything in PATH, so the Debian
# tools whose names busybox also has are called through these functions.

ip() { /usr/sbin/ip "$@"; }
setpriv() { /usr/bin/setpriv "$@"; }

OUT=/tmp/out/$SCENARIO
RUN=/run/wsf
HWSIM_KO=/lib/modules/kernel/drivers/net/wireless/mac80211_hwsim.ko
AGENT=/usr/sbin/wsflowd
mkdir -p "$OUT" "$RUN/pids"

now() { echo | ts '%.s' | cut -d' ' -f1; }

# An event line: `event NAME key=value...`.
event() { echo "$(now) $*" >>"$OUT/events.log"; }

# A fact: `fact NAME command...` records the command's output under NAME.
fact() {
	local name=$1 tracing=
	shift
	# The scenario's `sh -x` trace of a function would land in the fact.
	case $- in *x*)
		tracing=1
		set +x
		;;
	esac
	{
		echo "=== $(now) $name"
		"$@" 2>&1
	} >>"$OUT/facts.log"
	[ -n "$tracing" ] && set -x
	return 0
}

# Ends the scenario as failed (the guest could not build the world it
# needed: that is a failure of the rig, reported as such by the host).
fail() {
	event guest_failure "$*"
	echo "guest failure: $*" >&2
	exit 1
}

# Waits up to $1 seconds for the command to succeed (tried every 0.1 s).
wait_for() {
	local limit=$(($1 * 10)) i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge $limit ] && return 1
		sleep 0.1
	done
	return 0
}

# Whether process PID has exited.
gone() { ! kill -0 "$1" 2>/dev/null; }

# Remembers a background process for the cleanup: `remember NAME PID`.
remember() { echo "$2" >"$RUN/pids/$1"; }
pid_of() { cat "$RUN/pids/$1" 2>/dev/null; }

# --------------------------------------------------------------------------
# Radios

# Loads mac80211_hwsim with N radios and sets RADIO0..RADIO<N-1> to their
# phy names and WLAN0..WLAN<N-1> to their first interfaces.
radios() {
	local i=0 n dev
	rmmod mac80211_hwsim 2>/dev/null
	insmod $HWSIM_KO radios="$1" || fail "insmod mac80211_hwsim radios=$1"
	wait_for 5 test "$(ls /sys/class/ieee80211 | wc -l)" -ge "$1" || fail "radios did not appear"
	for n in $(ls /sys/class/ieee80211 | sed 's/^phy//' | sort -n); do
		dev=$(ls /sys/class/ieee80211/phy$n/device/net/ | head -n 1)
		eval "RADIO$i=phy$n WLAN$i=$dev"
		event radio index=$i phy=phy$n dev=$dev
		i=$((i + 1))
	done
	fact radios iw dev
}

# The MAC address of an interface (in the root namespace, or in namespace
# $2); its ifindex.
mac_of() {
	if [ -n "$2" ]; then ip netns exec "$2" cat "/sys/class/net/$1/address"; else cat "/sys/class/net/$1/address"; fi
}
ifindex_of() { cat "/sys/class/net/$1/ifindex"; }

# --------------------------------------------------------------------------
# Access points (stock hostapd, control sockets in /var/run/hostapd)

# Writes a hostapd configuration: `ap_conf FILE IFNAME SSID CHANNEL [extra
# hostapd lines...]`. WPA2-PSK, CCMP, 802.11g.
ap_conf() {
	local file=$1 ifname=$2 ssid=$3 chan=$4 line
	shift 4
	{
		echo "interface=$ifname"
		echo "driver=nl80211"
		echo "ctrl_interface=/var/run/hostapd"
		echo "ssid=$ssid"
		echo "hw_mode=g"
		echo "channel=$chan"
		echo "wpa=2"
		echo "wpa_key_mgmt=WPA-PSK"
		echo "rsn_pairwise=CCMP"
		echo "wpa_passphrase=wsflowd-test"
		for line in "$@"; do echo "$line"; done
	} >"$file"
}

# Adds a BSS to a hostapd configuration: `ap_conf_bss FILE IFNAME SSID
# [extra lines...]`.
ap_conf_bss() {
	local file=$1 ifname=$2 ssid=$3 line
	shift 3
	{
		echo "bss=$ifname"
		echo "ctrl_interface=/var/run/hostapd"
		echo "ssid=$ssid"
		echo "wpa=2"
		echo "wpa_key_mgmt=WPA-PSK"
		echo "rsn_pairwise=CCMP"
		echo "wpa_passphrase=wsflowd-test"
		for line in "$@"; do echo "$line"; done
	} >>"$file"
}

ap_enabled() { hostapd_cli -i "$1" status | grep -q '^state=ENABLED'; }

# The interfaces (interface= and bss=) of hostapd configuration files.
ap_interfaces() { sed -n 's/^\(interface\|bss\)=//p' "$@"; }

# Starts hostapd: `ap_start NAME CONF...` (several files: several radios in
# one process), waits until every interface of the configurations is
# ENABLED and records what `iw dev info` and `hostapd_cli status` say.
ap_start() {
	local name=$1 ifname try=1
	shift
	# A hostapd killed with SIGKILL leaves its PID file behind: read after
	# this start, it would name the dead one, and ap_stop would then stop
	# nothing (seen in CI: the live hostapd kept the re-created interface's
	# frame registrations, and the next one failed with "Match already
	# configured").
	rm -f "$RUN/$name.pid"
	# A hostapd started right after another one's end can find the radio
	# not released yet: tried three times (each try is an event).
	until hostapd -B -t -P "$RUN/$name.pid" -f "$OUT/$name.log" -g "/var/run/hostapd-global-$name" "$@"; do
		event ap_start_failed name=$name try=$try
		[ $try -ge 3 ] && fail "hostapd $name did not start"
		try=$((try + 1))
		sleep 2
	done
	# -B returns before the daemon has written its PID file.
	wait_for 5 test -s "$RUN/$name.pid" || fail "hostapd $name wrote no PID file"
	remember "$name" "$(cat "$RUN/$name.pid")"
	for ifname in $(ap_interfaces "$@"); do
		wait_for 20 ap_enabled "$ifname" || fail "$ifname not ENABLED"
		ap_facts "$ifname"
	done
	event ap_started name="$name" interfaces="$(ap_interfaces "$@" | tr '\n' ',')"
}

# Records an AP interface's identity: iw dev info, hostapd status.
ap_facts() {
	fact "dev_info $1" iw dev "$1" info
	fact "hostapd_status $1" hostapd_cli -i "$1" status
}

# `hostapd_global NAME COMMAND...`: a command on the global control
# interface of hostapd NAME (ADD, REMOVE).
hostapd_global() {
	local name=$1
	shift
	hostapd_cli -p /var/run -i "hostapd-global-$name" "$@"
}

# Whether process PID has exited: no longer in /proc, or a zombie (its
# files, sockets included, are closed).
dead() {
	[ ! -e "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# Stops hostapd NAME (SIGTERM; `ap_stop NAME KILL` for SIGKILL) and waits
# until the process is really gone: a hostapd still alive holds its nl80211
# frame registrations, and a new one then fails ("Match already
# configured"). Records how long that took and the state it was in.
ap_stop() {
	local pid t0 state
	pid=$(pid_of "$1")
	t0=$(now)
	[ -n "$pid" ] && kill -"${2:-TERM}" "$pid" 2>/dev/null
	if ! wait_for 5 dead "$pid"; then
		state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
		kill -KILL "$pid" 2>/dev/null
		wait_for 20 dead "$pid" || event ap_stuck name=$1 pid=$pid state=$state
	fi
	rm -f "$RUN/pids/$1"
	event ap_stopped name=$1 signal=${2:-TERM} since=$t0 state_after_5s=${state:-gone}
}

# --------------------------------------------------------------------------
# Stations: each radio in its own network namespace, wpa_supplicant

# `station NAME RADIO_INDEX SSID ADDRESS/PREFIX`: moves the radio into
# namespace NAME, starts wpa_supplicant for SSID (WPA2-PSK) and sets the
# address. Sets STA_<NAME>_DEV and STA_<NAME>_MAC.
station() {
	local name=$1 idx=$2 ssid=$3 addr=$4 phy dev mac
	eval "phy=\$RADIO$idx dev=\$WLAN$idx"
	ip netns add "$name" || fail "netns $name"
	ip netns exec "$name" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$name" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip netns exec "$name" ip link set lo up
	iw phy "$phy" set netns name "$name" || fail "iw phy $phy set netns name $name"
	mkdir -p "$RUN/wpa-$name"
	cat >"$RUN/wpa-$name.conf" <<EOF
ctrl_interface=$RUN/wpa-$name
network={
	ssid="$ssid"
	psk="wsflowd-test"
	key_mgmt=WPA-PSK
	proto=RSN
	pairwise=CCMP
	scan_ssid=1
}
EOF
	ip netns exec "$name" ip addr add "$addr" dev "$dev"
	ip netns exec "$name" ip link set "$dev" up
	ip netns exec "$name" wpa_supplicant -B -t -i "$dev" -c "$RUN/wpa-$name.conf" \
		-P "$RUN/wpa-$name.pid" -f "$OUT/wpa_supplicant-$name.log" ||
		fail "wpa_supplicant $name did not start"
	wait_for 5 test -s "$RUN/wpa-$name.pid" || fail "wpa_supplicant $name wrote no PID file"
	remember "wpa-$name" "$(cat "$RUN/wpa-$name.pid")"
	mac=$(mac_of "$dev" "$name")
	eval "STA_${name}_DEV=$dev STA_${name}_MAC=$mac STA_${name}_PHY=$phy STA_${name}_SSID=$ssid"
	event station_added name=$name phy=$phy dev=$dev mac=$mac ssid=$ssid addr=$addr
}

# `sta NAME FIELD`: DEV, MAC, PHY or SSID of station NAME.
sta() { eval "echo \"\$STA_${1}_$2\""; }

# `wpa NAME command...`: wpa_cli on station NAME's interface.
wpa() {
	local name=$1 dev
	shift
	eval "dev=\$STA_${name}_DEV"
	ip netns exec "$name" wpa_cli -p "$RUN/wpa-$name" -i "$dev" "$@"
}

# Whether station NAME is associated (wpa_state=COMPLETED).
completed() { wpa "$1" status | grep -q '^wpa_state=COMPLETED'; }
disconnected() { ! completed "$1"; }

# The AP interface (hostapd control socket) of SSID.
ap_of_ssid() {
	local s
	for s in /var/run/hostapd/*; do
		[ -S "$s" ] || continue
		if hostapd_cli -i "${s##*/}" get_config | grep -qx "ssid=$1"; then
			echo "${s##*/}"
			return 0
		fi
	done
	return 1
}

# Whether station NAME is associated and authorized on the AP's side: the
# station may report COMPLETED while hostapd dropped the end of its 4-way
# handshake (seen under TCG: a retransmitted association request restarts
# it), in which case hostapd disconnects it a few seconds later.
authorized() {
	local mac ssid ifname
	completed "$1" || return 1
	eval "mac=\$STA_${1}_MAC ssid=\$STA_${1}_SSID"
	ifname=$(ap_of_ssid "$ssid") || return 1
	hostapd_cli -i "$ifname" sta "$mac" | grep -q '^flags=.*\[AUTHORIZED\]'
}

# Waits (up to $2 seconds, default 30) until station NAME is associated
# and authorized.
associated() {
	local mac
	wait_for "${2:-30}" authorized "$1" || fail "station $1 did not associate"
	eval "mac=\$STA_${1}_MAC"
	event associated name="$1" mac="$mac"
}

# --------------------------------------------------------------------------
# Traffic with known counts

# `pings NAME DESTINATION COUNT INTERVAL [SIZE]`: ping from station (or
# namespace) NAME; records what was sent and answered.
pings() {
	local name=$1 dst=$2 count=$3 interval=$4 size=${5:-56} mac res
	eval "mac=\$STA_${name}_MAC"
	event traffic_start name=$name kind=ping dst=$dst count=$count size=$size
	res=$(ip netns exec "$name" ping -q -c "$count" -i "$interval" -s "$size" -W 2 "$dst" 2>&1 |
		sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) packets received.*/\1 \2/p')
	set -- $res
	event traffic name=$name kind=ping mac=$mac dst=$dst size=$size count=$count sent=${1:-0} received=${2:-0}
}

# `arp_probes NAME TARGET COUNT`: group-addressed frames from station NAME:
# ARP requests (broadcast) for an address nobody has, one a second... as
# busybox arping sends them (-b: broadcast only, -w: give up after COUNT).
arp_probes() {
	local name=$1 target=$2 count=$3 dev mac res
	eval "dev=\$STA_${name}_DEV mac=\$STA_${name}_MAC"
	event traffic_start name=$name kind=arp dst=$target count=$count
	res=$(ip netns exec "$name" arping -b -c "$count" -w $((count + 2)) -I "$dev" "$target" 2>&1 |
		sed -n 's/^Sent \([0-9]*\) probe.*/\1/p')
	event traffic name=$name kind=arp mac=$mac dst=$target count=$count sent=${res:-0}
}

# --------------------------------------------------------------------------
# Observation: sFlow capture, station tables, monitor captures

# Captures every sFlow datagram sent on lo (ports 6343-6349) into
# $OUT/sflow.pcap until the scenario ends.
capture_sflow() {
	tcpdump -i lo -U -Z root -n -s 0 -w "$OUT/sflow.pcap" udp portrange 6343-6349 \
		2>"$OUT/tcpdump-sflow.log" &
	remember tcpdump-sflow $!
	wait_for 10 grep -q "listening on" "$OUT/tcpdump-sflow.log" || fail "tcpdump on lo did not start"
}

# `capture IFACE FILE`: a tcpdump of IFACE into $OUT/FILE (radiotap on a
# monitor interface).
capture() {
	tcpdump -i "$1" -U -Z root -n -s 0 -w "$OUT/$2" 2>"$OUT/tcpdump-$1.log" &
	remember "tcpdump-$1" $!
	wait_for 10 grep -q "listening on" "$OUT/tcpdump-$1.log" || fail "tcpdump on $1 did not start"
}

# Stops every tcpdump of the scenario, after giving them the time to get
# the last frames out of their ring.
stop_captures() {
	local f any=
	for f in "$RUN"/pids/tcpdump*; do
		[ -f "$f" ] && any=1
	done
	[ -n "$any" ] || return 0
	sleep 1.5
	for f in "$RUN"/pids/tcpdump*; do
		[ -f "$f" ] || continue
		kill -INT "$(cat "$f")" 2>/dev/null
		wait_for 5 dead "$(cat "$f")"
		rm -f "$f"
	done
}

# `watch_stations IFACE...`: every second, what iw and hostapd report about
# the stations of these AP interfaces, into stations.log.
watch_stations() {
	(
		set +x
		while :; do
			for ifname in "$@"; do
				{
					echo "=== $(now) stations $ifname"
					iw dev "$ifname" station dump 2>&1
					echo "=== $(now) all_sta $ifname"
					# hostapd_cli waits 10 s for an answer: not while
					# hostapd is being stopped.
					timeout 2 hostapd_cli -i "$ifname" all_sta 2>&1
				} >>"$OUT/stations.log"
			done
			sleep 1
		done
	) &
	remember watch-stations $!
}

# Stops watch_stations.
unwatch_stations() {
	kill "$(pid_of watch-stations)" 2>/dev/null
	rm -f "$RUN/pids/watch-stations"
}

# --------------------------------------------------------------------------
# The agent

# `agent_conf FILE PORT LINES...`: an agent configuration sending to
# 127.0.0.1:PORT, then the given lines (printf %b: "\t" is a tab).
agent_conf() {
	local file=$1 port=$2 line
	shift 2
	{
		echo "config collector"
		echo "	option address '127.0.0.1'"
		echo "	option port '$port'"
		echo
		for line in "$@"; do printf '%b\n' "$line"; done
	} >"$file"
	fact "agent_conf $file" cat "$file"
}

# `agent_start NAME CONF [SETPRIV OPTIONS...]`: runs the agent in the
# foreground (log in $OUT/NAME.log) as root, or through util-linux's
# setpriv with the given options, and waits for its first log line.
agent_start() {
	local name=$1 conf=$2 pid
	shift 2
	if [ $# -gt 0 ]; then
		/usr/bin/setpriv "$@" $AGENT -f -l debug -c "$conf" 2>"$OUT/$name.log" &
	else
		$AGENT -f -l debug -c "$conf" 2>"$OUT/$name.log" &
	fi
	pid=$!
	remember "$name" $pid
	event agent_started name="$name" pid="$pid" conf="$conf" privileges="$(echo "$*" | tr ' ' ',')"
	wait_for 10 test -s "$OUT/$name.log" || fail "agent $name wrote nothing"
}

# CPU time (utime + stime, in clock ticks of 10 ms) of agent NAME.
agent_ticks() {
	local pid
	pid=$(pid_of "$1")
	[ -r "/proc/$pid/stat" ] || { echo -1; return; }
	# Field 2 is "(comm)", without spaces for wsflowd.
	awk '{ print $14 + $15 }' "/proc/$pid/stat"
}

# Records whether agent NAME is alive and its CPU time: `agent_check NAME
# [LABEL]`.
agent_check() {
	local pid
	pid=$(pid_of "$1")
	if kill -0 "$pid" 2>/dev/null; then
		event agent_alive name="$1" pid="$pid" ticks="$(agent_ticks "$1")" label="${2:-}"
	else
		event agent_dead name=$1 pid=$pid label=${2:-}
	fi
}

# Stops agent NAME with SIGTERM (it logs its per-interface figures) and
# records its exit status (when this shell started it) and CPU time.
agent_stop() {
	local pid ticks rc
	pid=$(pid_of "$1")
	[ -z "$pid" ] && return
	ticks=$(agent_ticks "$1")
	if gone "$pid"; then
		event agent_stopped name=$1 pid=$pid rc=gone ticks=$ticks
	else
		if [ "$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null)" = "$$" ]; then
			kill -TERM "$pid" 2>/dev/null
			wait "$pid"
			rc=$?
		else
			kill -TERM "$pid" 2>/dev/null
			wait_for 10 gone "$pid" || kill -KILL "$pid"
			rc=unknown
		fi
		event agent_stopped name=$1 pid=$pid rc=$rc ticks=$ticks
	fi
	rm -f "$RUN/pids/$1"
}

# Records, for AP interfaces, what the kernel and hostapd say at the end.
final_facts() {
	local ifname
	for ifname in "$@"; do
		fact "stations $ifname" iw dev "$ifname" station dump
		fact "all_sta $ifname" hostapd_cli -i "$ifname" all_sta
		fact "survey $ifname" iw dev "$ifname" survey dump
		fact "statistics $ifname" sh -c "cd /sys/class/net/$ifname/statistics && grep . *"
	done
}

# --------------------------------------------------------------------------
# Cleanup between scenarios (run.sh calls it, whatever happened)

cleanup_world() {
	local f pid ns try
	# Agents first, so that they log their exit figures.
	for f in "$RUN"/pids/agent*; do
		[ -f "$f" ] && agent_stop "$(basename "$f")"
	done
	# tcpdump reads a TPACKET_V3 ring whose blocks are handed over at most
	# a second after their first frame, and leaves what it has not got at
	# SIGINT: the agents' last datagrams must be in.
	stop_captures
	for f in "$RUN"/pids/*; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		case "$(basename "$f")" in
		tcpdump*) kill -INT "$pid" 2>/dev/null ;;
		*) kill -TERM "$pid" 2>/dev/null ;;
		esac
	done
	for f in "$RUN"/pids/*; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		wait_for 5 dead "$pid" || kill -KILL "$pid" 2>/dev/null
		wait_for 10 dead "$pid" || event cleanup_stuck process="$(basename "$f")" pid="$pid"
		rm -f "$f"
	done
	# Whatever escaped the PID files must not outlive its scenario: a
	# hostapd left running holds the next scenario's radios.
	for f in /proc/[0-9]*/comm; do
		case "$(cat "$f" 2>/dev/null)" in
		hostapd | wpa_supplicant)
			pid=${f#/proc/}
			pid=${pid%/comm}
			event cleanup_orphan process="$(cat "$f" 2>/dev/null)" pid="$pid"
			kill -KILL "$pid" 2>/dev/null
			;;
		esac
	done
	for ns in $(ip netns list | cut -d' ' -f1); do
		ip netns del "$ns"
	done
	ip link del br-lan 2>/dev/null
	try=0
	while [ -e /sys/module/mac80211_hwsim ]; do
		rmmod mac80211_hwsim 2>/dev/null && break
		try=$((try + 1))
		[ $try -ge 20 ] && { event cleanup_stuck module=mac80211_hwsim; break; }
		sleep 0.5
	done
	rm -rf "$RUN" /var/run/hostapd /var/run/hostapd-global-*
	mkdir -p "$RUN/pids"
}
