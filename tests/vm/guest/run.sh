# Runs the scenarios that the host test listed in /mnt/share/run.list
# ("NAME SECONDS" lines), one after the other, each in its own shell with a
# time limit, then cleans up (agents stopped with SIGTERM, daemons killed,
# namespaces deleted, mac80211_hwsim unloaded) so that the next one starts
# from nothing. Started by the image's /init; its output is the console.

SHARE=/mnt/share
GUEST=$SHARE/guest
marker() { echo "WSFLOWD-VM: $* uptime=$(cut -d' ' -f1 /proc/uptime)"; }

cp "$SHARE/wsflowd" /usr/sbin/wsflowd && chmod 755 /usr/sbin/wsflowd ||
	{ marker "fatal: no agent binary in the share"; exit 1; }
# No IPv6 anywhere: router solicitations and MLD reports would add frames
# to the counts the scenarios check.
sysctl -qw net.ipv6.conf.all.disable_ipv6=1
sysctl -qw net.ipv6.conf.default.disable_ipv6=1
mkdir -p "$SHARE/out"
dmesg -c >"$SHARE/out/boot-dmesg.txt"

while read -r name limit; do
	[ -n "$name" ] || continue
	out=/tmp/out/$name
	mkdir -p "$out"
	marker "scenario $name start"
	SCENARIO=$name timeout -k 5 "${limit:-120}" \
		sh -x -c ". $GUEST/lib.sh; . $GUEST/scenarios/$name.sh" >"$out/script.log" 2>&1
	rc=$?
	(
		# shellcheck disable=SC2034 # read by lib.sh
		SCENARIO=$name
		. "$GUEST/lib.sh"
		event scenario_end rc=$rc
		cleanup_world
	) >>"$out/script.log" 2>&1
	dmesg -c >"$out/dmesg.txt"
	echo "$rc" >"$out/exit"
	mkdir -p "$SHARE/out/$name"
	cp -r "$out/." "$SHARE/out/$name/"
	marker "scenario $name end rc=$rc"
done <"$SHARE/run.list"
