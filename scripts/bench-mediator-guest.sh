#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The mediator against the two other ways a DPDK application reaches the
# same kernel netdev, run inside the test VM by scripts/bench-mediator.sh.
#
# A veth whose peer sits in namespace medbench; the peer is a reflector:
# tc on its ingress sends every frame back out of it (mirred egress
# redirect), after rewriting the destination MAC to the lower's where the
# backend needs it (pedit).  The same dpdk-testpmd command line (virtio-user,
# one queue pair of 256, io forwarding, forwarding on CPU 1) reaches the
# veth through three backends:
#   mediator    vdpa_mediator on the veth, vhost_vdpa, path=/dev/vhost-vdpa-N
#   vhost-net   path=/dev/vhost-net: a tap, joined to the veth with tc
#               redirects both ways (as container runtimes do)
#   translator  a second testpmd, forwarding on CPU 0, with a net_vhost
#               port (vhost-user server, path=its socket) and a
#               net_af_packet port on the veth, io forwarding between them
# A closed loop: "start tx_first N" puts N * 32 frames in flight, and they
# circulate between testpmd and the reflector.  A window is BENCH_SECS of
# that (plus the second or two testpmd's first answer takes to be seen on
# a busy guest: the clock and CPU time are read before each question); pps = frames testpmd received (RX-packets of "show port stats"
# before and after) per second; cpu = guest CPU time busy meanwhile, in
# CPUs, from /proc/stat: the whole VM, so the mediator's vdpa-sw-* thread,
# vhost-net's vhost-* thread, softirqs and the translator's polling core
# all count.  cpu_per_mframe = CPU seconds per million frames.
#
# Then the kernel netdev path, pktgen at the first frame size to the peer
# (the reflector off): the bare veth, and the virtio_vdpa netdev of the
# mediator's device on it; pps = frames the peer received.
#
# Every round runs each backend once, in the order of $BACKENDS, then the
# two netdevs; each figure is the median over BENCH_RUNS rounds.  A backend
# whose parts are missing is skipped with a line saying why.
#
# Environment: BENCH_RUNS (3) rounds, BENCH_SECS (3), BENCH_SIZES ("64
# 1500") frame sizes counting the FCS (testpmd sends SIZE - 4 bytes),
# BENCH_TXFIRST (4) bursts of 32 frames in flight, BENCH_BACKENDS (all
# three) the backends to run.
# Output: progress on stderr, then "BENCH-JSON {...}" with every sample and
# the medians.  Exit status 0 when every measurement that was not skipped
# worked.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
# wait_for, no_ipv6, netdev_of; TOOLS for vhost_vdpa_lib.sh.
source "$TOP/selftests/lib.sh"
# vv_node, vv_hugepages.
source "$TOP/selftests/vhost_vdpa_lib.sh"
# say, stats, busy, window, pg_*, tp_*.
source "$TOP/scripts/bench-lib.sh"
RUNS=${BENCH_RUNS:-3}
SECS=${BENCH_SECS:-3}
SIZES=${BENCH_SIZES:-64 1500}
TXFIRST=${BENCH_TXFIRST:-4}
WARMUP=1
BACKENDS=${BENCH_BACKENDS:-mediator vhost-net translator}
NETDEVS="veth mediator-netdev"
NS=medbench
LOWER=mb0
PEER=mb1
PEER_IP=10.79.1.2
DEV=mb
XLAT_PREFIX=vvxlat
tmp=$(mktemp -d)
sock=$tmp/vhost-user.sock
tp_pid=
xl_pid=
failed=0
skipped=

# Runs from the EXIT trap.
# shellcheck disable=SC2317
cleanup() {
	exec 7>&- 2>/dev/null
	[ -n "$tp_pid" ] && kill -9 "$tp_pid" 2>/dev/null && wait "$tp_pid"
	xl_stop
	[ -e "/sys/bus/vdpa/devices/$DEV" ] && vdpa dev del "$DEV"
	ip link del "$LOWER" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	modprobe -r pktgen vdpa_mediator vhost_vdpa virtio_vdpa 2>/dev/null
	echo 0 >/proc/sys/vm/nr_hugepages
	rm -rf "$tmp"
}
trap cleanup EXIT

in_ns() {
	ip netns exec "$NS" "$@"
}

# skip BACKEND REASON: leave BACKEND out of every round.
skip() {
	say "SKIP $1: $2"
	skipped="$skipped$1	$2
"
	BACKENDS=$(echo " $BACKENDS " | sed "s/ $1 / /; s/^ *//; s/ *$//")
}

# peer_rx: frames the peer has received (window() reads it).
peer_rx() {
	in_ns cat "/sys/class/net/$PEER/statistics/rx_packets"
}

# --- the veth and the reflector -------------------------------------------

veth_up() {
	ip netns add "$NS" &&
	ip link add "$LOWER" type veth peer name "$PEER" netns "$NS" &&
	no_ipv6 "$LOWER" &&
	in_ns sysctl -qw "net.ipv6.conf.$PEER.disable_ipv6=1" &&
	ip link set "$LOWER" up &&
	ip -n "$NS" addr add "$PEER_IP/24" dev "$PEER" &&
	ip -n "$NS" link set "$PEER" up
}

# reflect [MAC]: the peer sends every frame it receives back, its
# destination rewritten to MAC when one is given.
reflect() {
	local -a pedit=()

	[ $# -gt 0 ] && pedit=(action pedit ex munge eth dst set "$1" pipe)
	tc -n "$NS" qdisc add dev "$PEER" clsact &&
	tc -n "$NS" filter add dev "$PEER" ingress matchall "${pedit[@]}" \
		action mirred egress redirect dev "$PEER"
}

unreflect() {
	tc -n "$NS" qdisc del dev "$PEER" clsact 2>/dev/null
	return 0
}

# --- the benchmark testpmd ------------------------------------------------

# port_counter NAME: a counter (RX-packets, TX-packets) of the last
# "show port stats 0".
port_counter() {
	awk -v n="$1:" '{ for (i = 1; i < NF; i++) if ($i == n) v = $(i + 1) }
		END { print v + 0 }' "$tmp/tp.last"
}

# tp_mark: "ns busy rx tx": the clock and CPU time, then testpmd's RX and
# TX counters.  Clock and CPU time are read just before the command:
# testpmd, asleep on its input, reads the counters at once; its answer
# takes longer to be seen here on a busy guest.
tp_mark() {
	local t b

	t=$(date +%s%N)
	b=$(busy)
	tp_cmd "show port stats 0" || return 1
	echo "$t $b $(port_counter RX-packets) $(port_counter TX-packets)"
}

# tp_window BACKEND SIZE: start the loop, let it settle, then one window.
# Appends "pps cpu cpu_per_mframe" to $tmp/BACKEND-SIZE.
tp_window() {
	local rx0 rx1 tx0 tx1 b0 b1 t0 t1 m line

	tp_cmd "start tx_first $TXFIRST" || return 1
	sleep "$WARMUP"
	m=$(tp_mark) || return 1
	read -r t0 b0 rx0 tx0 <<<"$m"
	sleep "$SECS"
	m=$(tp_mark) || return 1
	read -r t1 b1 rx1 tx1 <<<"$m"
	tp_cmd stop >/dev/null
	if [ "$rx1" -le "$rx0" ]; then
		say "$1, $2 B: no frame came back"
		return 1
	fi
	line=$(awk -v f=$((rx1 - rx0)) -v ns=$((t1 - t0)) -v j=$((b1 - b0)) \
		-v hz="$(getconf CLK_TCK)" 'BEGIN { s = ns / 1e9; c = j / hz
			printf "%.1f %.2f %.2f\n", f / s, c / s, c / f * 1e6 }')
	echo "$line" >>"$tmp/$1-$2"
	say "$1, $2 B: $line (pps, cpu, cpu s/Mframe; sent $((tx1 - tx0)))"
}

# tp_rounds BACKEND: one window per frame size with the testpmd started.
tp_rounds() {
	local size

	tp_cmd "set fwd io" >/dev/null || return 1
	for size in $SIZES; do
		tp_cmd "set txpkts $((size - 4))" >/dev/null &&
			tp_window "$1" "$size" || failed=1
	done
}

# tp_begin DEV: the same command line for every backend but the path.
# --single-file-segments: a vhost-user back end maps at most 8 regions.
tp_begin() {
	tp_start "$1" --single-file-segments
}

# tp_end: quit testpmd; killed if it has not exited within a minute.
tp_end() {
	[ -n "$tp_pid" ] || return 0
	echo quit >&7 2>/dev/null
	exec 7>&-
	vv_wait_gone "$tp_pid" 60 >/dev/null
	[ $? = 124 ] && say "testpmd did not quit: killed"
	tp_pid=
}

# --- (a) the mediator ---------------------------------------------------

# med_drops: the device's nonzero drop counters (queues 0 and 1), or
# "none".  Valid while a driver has features negotiated.
med_drops() {
	local q

	for q in 0 1; do
		vdpa dev vstats show "$DEV" qidx "$q" 2>/dev/null
	done | awk '{ for (i = 1; i < NF; i++)
			if ($i ~ /^drop_/ && $(i + 1) > 0) d[$i] += $(i + 1) }
		END { for (n in d) { printf "%s%s %d", s, n, d[n]; s = ", " }
		      if (!s) print "none"; else print "" }'
}

round_mediator() {
	local node rc=0

	vdpa dev add name "$DEV" mgmtdev "$LOWER" || return 1
	node=$(vv_node "$DEV") || { say "mediator: no vhost-vdpa node"; rc=1; }
	[ "$rc" = 0 ] && { reflect "$lower_mac" || rc=1; }
	if [ "$rc" = 0 ] && tp_begin "$node"; then
		tp_rounds mediator || rc=1
		say "mediator drops so far: $(med_drops)"
	else
		rc=1
	fi
	tp_end
	unreflect
	vdpa dev del "$DEV"
	return "$rc"
}

# --- (b) vhost-net and a tap --------------------------------------------

# tap_of_testpmd: the tap virtio-user created (the only tun device here).
tap_of_testpmd() {
	local f

	for f in /sys/class/net/*/tun_flags; do
		[ -e "$f" ] && { basename "$(dirname "$f")"; return 0; }
	done
	return 1
}

# join TAP: frames in from the tap leave on the veth, frames in from the
# veth leave on the tap.
join() {
	no_ipv6 "$1"
	ip link set "$1" up &&
	tc qdisc add dev "$1" clsact &&
	tc filter add dev "$1" ingress matchall \
		action mirred egress redirect dev "$LOWER" &&
	tc qdisc add dev "$LOWER" clsact &&
	tc filter add dev "$LOWER" ingress matchall \
		action mirred egress redirect dev "$1"
}

round_vhost_net() {
	local tap rc=0

	tp_begin /dev/vhost-net || { tp_end; return 1; }
	if tap=$(tap_of_testpmd) && join "$tap" && reflect; then
		tp_rounds vhost-net || rc=1
	else
		say "vhost-net: no tap, or tc refused"
		rc=1
	fi
	tp_end
	unreflect
	tc qdisc del dev "$LOWER" clsact 2>/dev/null
	return "$rc"
}

# --- (c) the translator: testpmd, vhost-user <-> AF_PACKET ---------------

# xl_start: the translator, forwarding on CPU 0 (its main thread on CPU 1
# sleeps), started forwarding (-a) and waiting for a line on its stdin.
xl_start() {
	rm -f "$sock" "$tmp/xl.in"
	mkfifo "$tmp/xl.in"
	stdbuf -oL dpdk-testpmd -l 0-1 --main-lcore 1 --no-pci --iova-mode=va \
		--file-prefix="$XLAT_PREFIX" \
		--vdev="net_vhost0,iface=$sock,queues=1" \
		--vdev="net_af_packet0,iface=$LOWER,qpairs=1" \
		-- --nb-cores=1 --forward-mode=io --total-num-mbufs=8192 \
		--disable-link-check -a <"$tmp/xl.in" >"$tmp/xl.out" 2>&1 &
	xl_pid=$!
	exec 8>"$tmp/xl.in"
	wait_for 120 xl_ready_or_gone
	if ! kill -0 "$xl_pid" 2>/dev/null || [ ! -S "$sock" ]; then
		say "translator did not start:"
		tail -n 20 "$tmp/xl.out" | sed 's/^/bench:   /' >&2
		xl_stop
		return 1
	fi
}

# xl_ready_or_gone: the translator forwards and listens, or has exited.
# (Called through wait_for.)
# shellcheck disable=SC2317
xl_ready_or_gone() {
	{ grep -q "Press enter to exit" "$tmp/xl.out" && [ -S "$sock" ]; } ||
		! kill -0 "$xl_pid"
}

# Also from the EXIT trap.
# shellcheck disable=SC2317
xl_stop() {
	[ -n "$xl_pid" ] || return 0
	echo >&8 2>/dev/null
	exec 8>&-
	vv_wait_gone "$xl_pid" 60 >/dev/null
	[ $? = 124 ] && say "translator did not quit: killed"
	xl_pid=
}

round_translator() {
	local rc=0

	xl_start || return 1
	if reflect && tp_begin "$sock"; then
		tp_rounds translator || rc=1
	else
		rc=1
	fi
	tp_end
	unreflect
	xl_stop
	return "$rc"
}

# --- the kernel netdev path ---------------------------------------------

# netdev_window NAME NETDEV: pktgen from NETDEV to the peer.
netdev_window() {
	pg_setup "$2" "$NETDEV_SIZE" "$PEER_IP" "$peer_mac" &&
		window "$1" "$NETDEV_SIZE" pg_start pg_stop
	echo "rem_device_all" >/proc/net/pktgen/kpktgend_0
}

round_netdevs() {
	local nd rc=0

	netdev_window veth "$LOWER" || rc=1
	if [ -z "$have_mediator" ]; then
		return "$rc"
	fi
	vdpa dev add name "$DEV" mgmtdev "$LOWER" || return 1
	echo virtio_vdpa >"/sys/bus/vdpa/devices/$DEV/driver_override"
	echo "$DEV" >/sys/bus/vdpa/drivers/vhost_vdpa/unbind
	echo "$DEV" >/sys/bus/vdpa/drivers_probe
	if wait_for 10 netdev_of "$DEV"; then
		nd=$(netdev_of "$DEV")
		no_ipv6 "$nd"
		ip link set "$nd" up
		sleep 1
		netdev_window mediator-netdev "$nd" || rc=1
	else
		say "mediator: no netdev through virtio_vdpa"
		rc=1
	fi
	vdpa dev del "$DEV"
	return "$rc"
}

# --- results --------------------------------------------------------------

# median FILE COLUMN: the median of one column, two decimals.
median() {
	cut -d' ' -f"$2" "$1" >"$1.col"
	stats "$1.col" 2 | cut -d' ' -f1
}

json() {
	local b s f kind pm pmin pmax first=1

	printf '{"kernel":"%s","guest_nproc":%s,"seconds_per_run":%s,"runs":%s,"txfirst":%s,"ok":%s,"results":[' \
		"$(uname -r)" "$(nproc)" "$SECS" "$RUNS" "$TXFIRST" \
		"$([ "$failed" = 0 ] && echo true || echo false)"
	for b in mediator vhost-net translator veth mediator-netdev; do
		for s in $SIZES; do
			f=$tmp/$b-$s
			[ -s "$f" ] || continue
			[ $first ] || printf ','
			first=
			kind=testpmd
			case $b in
			veth | mediator-netdev)
				# window() wrote "pps cpu": add CPU s/Mframe.
				kind=pktgen
				awk '{ printf "%s %s %.2f\n", $1, $2,
				       ($1 > 0 ? $2 / $1 * 1e6 : 0) }' "$f" >"$f.3"
				mv "$f.3" "$f"
				;;
			esac
			cut -d' ' -f1 "$f" >"$f.pps"
			# (no /dev/fd in the VM for a process substitution)
			read -r pm pmin pmax <<<"$(stats "$f.pps")"
			printf '{"backend":"%s","kind":"%s","frame_bytes":%s,"pps":{"median":%s,"min":%s,"max":%s},"cpu":{"median":%s},"cpu_per_mframe":{"median":%s}' \
				"$b" "$kind" "$s" "$pm" "$pmin" "$pmax" \
				"$(median "$f" 2)" "$(median "$f" 3)"
			printf ',"samples":[%s]}' "$(sed 's/ /,/g; s/.*/[&]/' "$f" | paste -sd,)"
		done
	done
	printf '],"samples_are":"[pps, CPUs busy, CPU s per million frames]"'
	printf ',"backends":{'
	printf '"mediator":"vdpa_mediator on the veth, vhost_vdpa, virtio-user path=/dev/vhost-vdpa-N; the reflector rewrites the destination MAC to the veth'"'"'s",'
	printf '"vhost-net":"virtio-user path=/dev/vhost-net; its tap joined to the veth by tc mirred redirects both ways",'
	printf '"translator":"virtio-user path=vhost-user socket of a second testpmd (net_vhost <-> net_af_packet on the veth, io forwarding, polling on its own CPU)",'
	printf '"veth":"pktgen on the veth, to the peer",'
	printf '"mediator-netdev":"pktgen on the virtio_vdpa netdev of the mediator on the veth, to the peer"}'
	printf ',"testpmd":"dpdk-testpmd -l 0-1 --no-pci --iova-mode=va --single-file-segments, virtio-user queues=1 queue_size=256, set fwd io, set txpkts SIZE-4, start tx_first %s"' "$TXFIRST"
	printf ',"skipped":['
	first=1
	while IFS='	' read -r b s; do
		[ -n "$b" ] || continue
		[ $first ] || printf ','
		first=
		printf '{"backend":"%s","reason":"%s"}' "$b" "${s//\"/\'}"
	done <<<"$skipped"
	printf ']}\n'
}

# --- main -------------------------------------------------------------------

sizes_ok 64 1518 || exit 2
NETDEV_SIZE=${SIZES%% *}
# A write to a testpmd that died fails instead of killing this script.
trap '' PIPE
cd "$TOP" || exit 1
make -s modules_install >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; exit 1; }
say "modules installed ($SECONDS s)"
ulimit -l unlimited
modprobe -a veth sch_ingress cls_matchall act_mirred act_pedit pktgen ||
	{ say "veth, tc or pktgen modules missing"; exit 1; }
veth_up || { say "cannot set up the veth"; exit 1; }
lower_mac=$(cat "/sys/class/net/$LOWER/address")
peer_mac=$(in_ns cat "/sys/class/net/$PEER/address")
command -v dpdk-testpmd >/dev/null ||
	{ say "dpdk-testpmd missing (scripts/deps.sh)"; exit 1; }
vv_hugepages || { say "cannot reserve huge pages for testpmd"; exit 1; }

have_mediator=
# vhost_vdpa first: a new device binds to it.
if ! { modprobe vhost_vdpa && modprobe vdpa_mediator "lower=$LOWER" &&
       modprobe -a virtio_vdpa virtio_net; } 2>"$tmp/modprobe.err"; then
	skip mediator "$(tail -n 1 "$tmp/modprobe.err")"
else
	have_mediator=1
fi
if ! modprobe -a tun vhost_net || [ ! -c /dev/vhost-net ]; then
	skip vhost-net "no /dev/vhost-net (tun, vhost_net modules)"
fi
# DPDK loads its PMDs from its plugin directory (a glob: find over the
# 9p root takes minutes under TCG).
for pmd in vhost af_packet; do
	if ! compgen -G "/usr/lib/*/dpdk/pmds-*/librte_net_$pmd.so*" >/dev/null &&
	   ! compgen -G "/usr/local/lib/*/dpdk/pmds-*/librte_net_$pmd.so*" >/dev/null; then
		skip translator "DPDK's net_$pmd PMD is not installed (librte-net-${pmd//_/-}23)"
		break
	fi
done
# One CPU polls for the benchmark testpmd (CPU 1), one for the translator.
[ "$(nproc)" -ge 2 ] || { say "2 CPUs needed"; exit 1; }

say "$RUNS rounds of: $BACKENDS ($TXFIRST x 32 frames in flight, ${SECS} s windows, frames of $SIZES B), then pktgen on $NETDEVS ($NETDEV_SIZE B); reflector $PEER ($peer_mac), lower $LOWER ($lower_mac)"
for ((r = 1; r <= RUNS; r++)); do
	say "round $r ($SECONDS s since the start)"
	for b in $BACKENDS; do
		case $b in
		mediator) round_mediator ;;
		vhost-net) round_vhost_net ;;
		translator) round_translator ;;
		esac || { say "$b failed in round $r"; failed=1; }
	done
	round_netdevs || { say "netdev path failed in round $r"; failed=1; }
done
say "done in $SECONDS s"
echo "BENCH-JSON $(json)"
exit $failed
