#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The mediator over real network devices: a veth whose peer sits in another
# network namespace, then QEMU's emulated virtio-net NIC (dut0) whose hub
# peer (peer0) sits there.  Through virtio_vdpa: ping, jumbo frames over
# mergeable buffers, TCP both ways byte-checked with offloads on and off,
# multicast, two queue pairs, counters that add up.  Through vhost_vdpa:
# dpdk-testpmd forwards frames the peer sends back to it, intact, and a
# ring corrupted under traffic stops the device, never the kernel.  Faults:
# lower link down and MTU too small (link down), frames while the driver is
# down (every one delivered or counted), device deleted under traffic,
# lower unregistered, lower list rewritten, module unloaded with a device.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vhost_vdpa_lib.sh"
source "$(dirname "$0")/virtio_pci_lib.sh"

NS=medpeer
LOWER=med0
PEER=med1
DEV=m0
IP=10.77.0.1
PEER_IP=10.77.0.2
RAWLOOP=$TOOLS/bin/rawloop
PARAM=/sys/module/vdpa_mediator/parameters/lower
TMP=/tmp/mediator.$$

vv_require vdpa jq ethtool ip tc socat busybox "$RAWLOOP" "$VV_NET" \
	"$TOOLS/bin/fuzz-ring"

cleanup() {
	[ -n "$VV_TESTPMD" ] && vv_testpmd_stop >/dev/null 2>&1
	pkill socat 2>/dev/null
	[ -d /sys/module/virtio_vdpa ] && rmmod virtio_vdpa
	vv_unload
	ip netns del "$NS" 2>/dev/null
	ip link del "$LOWER" 2>/dev/null
	rm -f "$TMP".*
}
trap cleanup EXIT

# in_ns CMD...: run CMD in the peer's namespace.
in_ns() {
	ip netns exec "$NS" "$@"
}

# vstat QIDX NAME: one vendor statistic of queue QIDX of the device, 0 if
# the queue has none (the control queue moves no frames) (the text output:
# iproute2 6.1 repeats "name" and "value" keys in its JSON).
vstat() {
	vdpa dev vstats show "$DEV" qidx "$1" |
		awk -v n="$2" '{ for (i = 1; i < NF; i++)
				 if ($i == n) { v = $(i + 1); exit } }
			       END { print v + 0 }'
}

# vsum NAME QIDX...: a statistic summed over queues.
vsum() {
	local name=$1 sum=0 q

	shift
	for q in "$@"; do
		sum=$((sum + $(vstat "$q" "$name")))
	done
	echo "$sum"
}

# rx_dropped QIDX...: every drop_* counter of the queues, summed.
rx_dropped() {
	local q

	for q in "$@"; do
		vdpa dev vstats show "$DEV" qidx "$q"
	done | awk '{ for (i = 1; i < NF; i++)
			if ($i ~ /^drop_/) sum += $(i + 1) }
		    END { print sum + 0 }'
}

# link_stat IFACE DIR FIELD: one counter of `ip -s -j link show`.
link_stat() {
	ip -s -j link show dev "$1" | jq -r ".[0].stats64.$2.$3"
}

# cfg_key KEY: one key of `vdpa dev config show` (iproute2 6.1 writes some
# JSON keys with a trailing space: "link ").
cfg_key() {
	vdpa -j dev config show "$DEV" |
		jq -r --arg k "$1" '[.. | objects | (.[$k] // .[$k + " "])? |
				     select(. != null)][0] // empty'
}

carrier_is() {
	[ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" = "$2" ]
}

counters_agree() {
	[ "$(link_stat "$ND" tx packets)" = "$(vsum received_desc 1 3)" ] &&
	[ "$(link_stat "$ND" rx packets)" = "$(vsum frames 0 2)" ]
}

# accounted BEFORE N: N more frames delivered or dropped since BEFORE.
accounted() {
	[ $(($(vsum frames 0 2) + $(rx_dropped 0 2) - $1)) -eq "$2" ]
}

# dp_threads: the names of the device's datapath threads, sorted.
dp_threads() {
	local c n

	for c in /proc/[0-9]*/comm; do
		read -r n <"$c" 2>/dev/null && [[ $n == "vdpa-sw-$DEV"* ]] &&
			echo "$n"
	done | sort | paste -sd' '
}

# dp_runtime N: nanoseconds thread N of the device has run so far.
dp_runtime() {
	local c n

	for c in /proc/[0-9]*/comm; do
		read -r n <"$c" 2>/dev/null || continue
		[ "$n" = "vdpa-sw-$DEV/$1" ] || continue
		read -r n _ <"${c%comm}schedstat" && echo "$n" && return
	done
	echo 0
}

has_netdev() {
	netdev_of "$1" >/dev/null
}

listening() {
	"$@" ss -ltn | grep -q ":$PORT "
}

# tcp_check DESC to|from: send $TCP_BYTES random bytes over TCP to the peer
# (to) or from it (from); pass when they arrive intact.
tcp_check() {
	local desc=$1 pid
	local -a rx=() tx=(ip netns exec "$NS") dest=$IP

	if [ "$2" = to ]; then
		rx=(ip netns exec "$NS")
		tx=()
		dest=$PEER_IP
	fi
	PORT=$((PORT + 1))
	rm -f "$TMP.recv"
	"${rx[@]}" socat -u "TCP-LISTEN:$PORT,reuseaddr" "CREATE:$TMP.recv" &
	pid=$!
	wait_for 10 listening "${rx[@]}"
	timeout 60 "${tx[@]}" socat -u "FILE:$TMP.send" "TCP:$dest:$PORT"
	vv_wait_gone "$pid" 30 >/dev/null
	if cmp -s "$TMP.send" "$TMP.recv"; then
		t_ok "$desc: $TCP_BYTES bytes intact"
	else
		t_fail "$desc: $TCP_BYTES bytes intact ($(stat -c %s "$TMP.recv" 2>/dev/null) received)"
	fi
}
PORT=5000

# setup_veth: the lower and, in the peer namespace, its peer.
setup_veth() {
	ip netns add "$NS" 2>/dev/null
	ip link add "$LOWER" numtxqueues 2 numrxqueues 2 type veth \
		peer name "$PEER" numtxqueues 2 numrxqueues 2 netns "$NS" &&
	ip link set "$LOWER" mtu 9000 up &&
	no_ipv6 "$LOWER" &&
	in_ns bash -c "$(declare -f no_ipv6); no_ipv6 $PEER" &&
	ip -n "$NS" link set "$PEER" mtu 9000 up &&
	ip -n "$NS" addr add "$PEER_IP/24" dev "$PEER" &&
	ip -n "$NS" route add 224.0.0.0/4 dev "$PEER"
}

# add_netdev [ARGS...]: the device through virtio_vdpa, addressed and up.
add_netdev() {
	local nd

	vdpa dev add name "$DEV" mgmtdev "$MGMT" "$@" &&
	wait_for 10 has_netdev "$DEV" || return 1
	nd=$(netdev_of "$DEV")
	no_ipv6 "$nd"
	ip addr add "$IP/24" dev "$nd" && ip link set "$nd" up
}

ulimit -l unlimited
# 4 MB per TCP check; 1 MB on the debug kernel (check-debug boots it with
# kmemleak=on), where KASAN makes every copy many times slower.
TCP_BYTES=4000000
grep -qw kmemleak=on /proc/cmdline && TCP_BYTES=1000000
head -c "$TCP_BYTES" /dev/urandom >"$TMP.send"
modprobe -a veth virtio_vdpa virtio_net ||
	t_skip_all "veth or virtio_net missing"
t_check "veth $LOWER with its peer in namespace $NS" setup_veth
MAC=$(cat "/sys/class/net/$LOWER/address")
MGMT=$LOWER

# --- Operator interface -------------------------------------------------
t_check "modprobe vdpa_mediator lower=$LOWER" modprobe vdpa_mediator lower=$LOWER
t_eq "the parameter reads back" "$(cat $PARAM)" "$LOWER"
mg=$(vdpa -j mgmtdev show)
t_eq "management device named after the veth" \
	"$(printf '%s' "$mg" | jq -r '.mgmtdev | keys[0]')" "$LOWER"
t_eq "2 pairs + control queue at most (the veth's 2 queues)" \
	"$(jkey "$mg" max_supported_vqs)" 5
t_refuse "a MAC the veth cannot filter is refused" "Operation not supported" \
	vdpa dev add name "$DEV" mgmtdev "$MGMT" mac 02:00:00:00:77:01
t_check "dmesg says why" bash -c "dmesg | tail -5 | grep -q 'no unicast filter'"
t_refuse "an MTU above the lower's is refused" "Invalid argument" \
	vdpa dev add name "$DEV" mgmtdev "$MGMT" mtu 9100
t_refuse "more pairs than the lower's queues are refused" "Invalid argument" \
	vdpa dev add name "$DEV" mgmtdev "$MGMT" max_vqp 3
t_check "add $DEV with 2 queue pairs" add_netdev max_vqp 2
ND=$(netdev_of "$DEV")
t_refuse "one device per lower" "busy" \
	vdpa dev add name m1 mgmtdev "$MGMT"
t_eq "its MAC is the lower's" "$(cfg_key mac)" "$MAC"
t_eq "its MTU is the lower's" "$(cfg_key mtu)" 9000
t_eq "its link is up" "$(cfg_key link)" up

# --- Traffic through virtio_vdpa ----------------------------------------
t_check "ping the peer" busybox ping -c 3 -W 5 "$PEER_IP"
t_eq "virtio_net negotiated MRG_RXBUF" \
	"$(cut -c16 "/sys/class/net/$ND/device/features")" 1
bufs=$(vsum completed_desc 0 2)
frames=$(vsum frames 0 2)
t_check "8000-byte pings from the peer (MTU 9000)" \
	in_ns busybox ping -c 3 -W 5 -s 8000 "$IP"
bufs=$(($(vsum completed_desc 0 2) - bufs))
frames=$(($(vsum frames 0 2) - frames))
t_check "their frames filled several buffers each ($frames frames, $bufs buffers)" \
	test "$frames" -ge 3 -a "$bufs" -gt "$frames"
tcp_check "TCP to the peer, TSO and checksum offload on" to
tcp_check "TCP from the peer" from
t_check "TSO and checksum offload off" \
	ethtool -K "$ND" tso off gso off tx off
tcp_check "TCP to the peer, offloads off" to
ethtool -K "$ND" tso on gso on tx on
t_check "the lower loses TSO and checksum offload (as ENA)" \
	ethtool -K "$LOWER" tso off tx off
tcp_check "TCP to the peer, segmented for the lower" to
ethtool -K "$LOWER" tso on tx on

socat -u "UDP4-RECV:5999,ip-add-membership=239.1.2.3:$ND" "CREATE:$TMP.mc" &
mc=$!
sleep 1
in_ns bash -c "echo joined | socat -u - UDP4-DATAGRAM:239.1.2.3:5999"
t_check "a multicast group joined on the device receives" \
	wait_for 5 grep -q joined "$TMP.mc"
kill "$mc" 2>/dev/null

# --- The receive filter virtio_net sets (CTRL_RX) -----------------------
# sent_to DST: frames the receive queues delivered for 5 frames from the
# peer to DST (a few more when the peer also sends ARP meanwhile).
sent_to() {
	local before

	before=$(vsum frames 0 2)
	in_ns timeout 10 "$RAWLOOP" -i "$PEER" -d "$1" -c 5 -t 300 >/dev/null 2>&1
	sleep 0.5
	echo $(($(vsum frames 0 2) - before))
}

lower_promisc() {
	[ "$(ip -d -j link show "$LOWER" | jq -r '.[0].promiscuity')" = "$1" ]
}

# lower_allmulti 0|1: IFF_ALLMULTI in the lower's flags (iproute2 6.1 shows
# only the flag a user set).
lower_allmulti() {
	[ $(($(cat "/sys/class/net/$LOWER/flags") >> 9 & 1)) = "$1" ]
}

t_eq "virtio_net negotiated CTRL_RX" \
	"$(cut -c19 "/sys/class/net/$ND/device/features")" 1
n=$(sent_to 01:00:5e:09:09:09)
t_check "a group not joined: not delivered ($n)" test "$n" -lt 5
t_check "the veth is not all-multicast" lower_allmulti 0
ip link set "$ND" allmulticast on
t_check "allmulticast on: the veth becomes all-multicast" \
	wait_for 10 lower_allmulti 1
n=$(sent_to 01:00:5e:09:09:09)
t_check "allmulticast on: delivered ($n)" test "$n" -ge 5
ip link set "$ND" allmulticast off
t_check "allmulticast off: the veth is not" wait_for 10 lower_allmulti 0
ip link set "$ND" promisc on
t_check "promisc on: the veth becomes promiscuous" wait_for 10 lower_promisc 1
n=$(sent_to 02:00:00:00:99:99)
t_check "promisc on: another unicast address is delivered ($n)" \
	test "$n" -ge 5
ip link set "$ND" promisc off
t_check "promisc off: the veth is not" wait_for 10 lower_promisc 0
n=$(sent_to 02:00:00:00:99:99)
t_check "promisc off: not delivered ($n)" test "$n" -lt 5
bridge fdb add 02:00:00:00:99:98 dev "$ND"
t_check "a second unicast address: refused, the veth has no filter" \
	bash -c "sleep 1; dmesg | tail -5 | grep -q 'MAC table refused'"
bridge fdb del 02:00:00:00:99:98 dev "$ND"

t_check "two queue pairs in use" ethtool -L "$ND" combined 2
t_eq "one datapath thread per queue pair" "$(dp_threads)" \
	"vdpa-sw-$DEV/0 vdpa-sw-$DEV/1"
tx3=$(vstat 3 received_desc)
ran=$(dp_runtime 1)
taskset -c 1 busybox ping -c 5 -W 5 "$PEER_IP" >/dev/null
t_check "pings from CPU 1 leave on transmit queue 3" \
	test "$(vstat 3 received_desc)" -ge $((tx3 + 5))
t_check "pair 1's thread served them" test "$(dp_runtime 1)" -gt "$ran"
tcp_check "TCP from the peer over two pairs" from

# The counters agree once the datapath thread has caught up (a slow VM,
# as in CI with a kernel build beside it, takes longer than a second).
wait_for 20 counters_agree
t_eq "frames sent = chains the transmit queues took" \
	"$(link_stat "$ND" tx packets)" "$(vsum received_desc 1 3)"
t_eq "frames received = frames the receive queues delivered" \
	"$(link_stat "$ND" rx packets)" "$(vsum frames 0 2)"
t_eq "nothing dropped so far" "$(rx_dropped 0 1 2 3)" 0

# Frames while the driver does not take them: each one delivered once it
# does, or counted as dropped.
in_ns ip neigh replace "$IP" lladdr "$MAC" dev "$PEER"
ip link set "$ND" down
before=$(($(vsum frames 0 2) + $(rx_dropped 0 2)))
sent=$(in_ns timeout 60 "$RAWLOOP" -i "$PEER" -d "$MAC" -c 3000 -w 3000 -t 500 |
       sed -n 's/^sent \([0-9]*\).*/\1/p')
ip link set "$ND" up
wait_for 30 accounted "$before" "${sent:-0}"
after=$(($(vsum frames 0 2) + $(rx_dropped 0 2)))
t_eq "3000 frames to a device that is down: delivered + dropped" \
	"$((after - before))" "${sent:-none}"
t_diag "of them dropped: $(rx_dropped 0 2) (drop_no_buffer $(vsum drop_no_buffer 0 2))"

# --- Faults under virtio_vdpa -------------------------------------------
ip link set "$LOWER" down
t_check "lower down: the device's carrier goes" wait_for 15 carrier_is "$ND" 0
t_eq "vdpa shows link down" "$(cfg_key link)" down
ip link set "$LOWER" up
t_check "lower up: carrier back" wait_for 15 carrier_is "$ND" 1
t_check "and ping works" busybox ping -c 2 -W 5 "$PEER_IP"
ip link set "$LOWER" mtu 1500
t_check "lower MTU below the device's: carrier goes" \
	wait_for 15 carrier_is "$ND" 0
ip link set "$LOWER" mtu 9000
t_check "lower MTU back: carrier back" wait_for 15 carrier_is "$ND" 1

PORT=$((PORT + 1))
in_ns socat -u "TCP-LISTEN:$PORT,reuseaddr" /dev/null &
wait_for 10 listening ip netns exec "$NS"
socat -u /dev/zero "TCP:$PEER_IP:$PORT" 2>/dev/null &
sleep 2
t_check "delete the device under TCP traffic" vdpa dev del "$DEV"
pkill -f "socat -u /dev/zero" 2>/dev/null
pkill -f "TCP-LISTEN:$PORT" 2>/dev/null
t_check "the lower still works for the host" \
	bash -c "ip addr add 10.77.0.3/24 dev $LOWER &&
		 busybox ping -c 2 -W 5 $PEER_IP; rc=\$?;
		 ip addr del 10.77.0.3/24 dev $LOWER; exit \$rc"

t_check "add $DEV again" add_netdev
ND=$(netdev_of "$DEV")
ip link del "$LOWER"
t_check "lower unregistered: the device goes" \
	wait_for 10 test ! -e "/sys/bus/vdpa/devices/$DEV"
t_eq "and its management device" "$(vdpa -j mgmtdev show | jq -c .mgmtdev)" "{}"

t_check "veth again" setup_veth
MAC=$(cat "/sys/class/net/$LOWER/address")
t_refuse "a lower that does not exist is named" "No such device" \
	bash -c "echo $LOWER,nosuch >$PARAM"
t_check "writing the parameter serves $LOWER again" \
	bash -c "vdpa mgmtdev show $LOWER"
t_check "add $DEV" add_netdev
t_check "writing an empty list releases it, device first" \
	bash -c "echo >$PARAM && [ ! -e /sys/bus/vdpa/devices/$DEV ]"
echo "$LOWER" >$PARAM
t_check "add $DEV" add_netdev
t_check "rmmod vdpa_mediator with the device present" rmmod vdpa_mediator
t_check "the device went with it" test ! -e /sys/bus/vdpa/devices/$DEV

# --- vhost_vdpa: DPDK and a malicious ring writer -----------------------
rmmod virtio_vdpa
modprobe -a vhost_vdpa && modprobe vdpa_mediator lower=$LOWER
node=$(vv_add "$DEV" "$MGMT") && t_ok "$DEV gets a vhost-vdpa node ($node)" ||
	t_fail "$DEV gets a vhost-vdpa node"
pins0=$(vv_pins)
if [ -z "$node" ]; then
	vv_skip "testpmd forwards the peer's frames" "no node"
elif ! vv_hugepages; then
	vv_skip "testpmd forwards the peer's frames" "no huge pages"
elif vv_testpmd_start "$node" 1 "$TMP.testpmd"; then
	echo "set fwd io" >&7
	echo "start" >&7
	out=$(in_ns "$RAWLOOP" -i "$PEER" -d "$MAC" -c 500 -s 1000 -t 20000 2>&1)
	rc=$?
	t_diag "rawloop: $out"
	t_eq "500 frames from the peer through testpmd and back, intact" "$rc" 0
	vv_testpmd_stop >/dev/null
	VV_TESTPMD=
	t_diag "testpmd: $(grep -m1 -E 'RX-packets' "$TMP.testpmd")"
	echo 0 >/proc/sys/vm/nr_hugepages
else
	t_fail "testpmd starts on $node"
	sed 's/^/#   /' "$TMP.testpmd" | tail -20
fi

# The peer reflects every frame, so the fuzzer's clean rounds come back.
reflect() {
	modprobe -a sch_ingress cls_matchall act_mirred 2>/dev/null &&
	tc -n "$NS" qdisc add dev "$PEER" clsact &&
	tc -n "$NS" filter add dev "$PEER" ingress matchall \
		action mirred egress redirect dev "$PEER"
}
if [ -z "$node" ] || ! reflect; then
	vv_skip "mergeable buffers, a ring corrupted under traffic" \
		"no node or no tc mirred"
else
	# Mergeable receive buffers of 256 bytes: a 1000-byte frame waits
	# until the ring has the 4 it needs, the buffers it holds meanwhile
	# are not consumed (the queue's base after suspend).
	vv_tap "$VV_NET" --mrg -s 1000 "$node"
	out=$(timeout 120 "$TOOLS/bin/fuzz-ring" -s 1 -n 40 -t 30 "$node" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep '^fuzz-.*inputs' | sed 's/^/# /'
	t_eq "a ring corrupted under traffic: device recovers after reset" "$rc" 0
	[ "$rc" -eq 0 ] || printf '%s\n' "$out" | tail -10 | sed 's/^/#   /'
fi
tc -n "$NS" qdisc del dev "$PEER" clsact 2>/dev/null
t_eq "nothing left pinned" "$(vv_pins)" "$pins0"
vdpa dev del "$DEV"
rmmod vdpa_mediator
modprobe -r vhost_vdpa

# --- A real driver's netdev as the lower --------------------------------
# dut0's virtio_net netdev, its hub peer (peer0) in the peer namespace.
modprobe virtio_vdpa
lower=$(ls "/sys/bus/pci/devices/$VP_MODERN/virtio"*/net 2>/dev/null | head -1)
peer=$(ls "/sys/bus/pci/devices/$VP_MODERN_PEER/virtio"*/net 2>/dev/null |
       head -1)
if [ -z "$lower" ] || [ -z "$peer" ]; then
	vv_skip "emulated NIC as the lower" "no dut0/peer0 netdevs"
	t_done
fi
ip link set "$peer" netns "$NS"
ip -n "$NS" addr add 10.78.0.2/24 dev "$peer"
ip -n "$NS" link set "$peer" up
ip link set "$lower" up
PEER_IP=10.78.0.2 IP=10.78.0.1
t_check "vdpa_mediator on $lower" modprobe vdpa_mediator lower=$lower
MGMT=$(vdpa -j mgmtdev show | jq -r '.mgmtdev | keys[0]')
virtio=$(basename "$(readlink -f "/sys/class/net/$lower/device")")
t_eq "its management device is its parent device" "$MGMT" "virtio/$virtio"
t_check "a MAC of our own (virtio_net filters unicast)" \
	add_netdev mac 02:00:00:00:78:01
t_check "ping over the emulated NIC" busybox ping -c 3 -W 5 "$PEER_IP"
ND=$(netdev_of "$DEV")
bridge fdb add 02:00:00:00:78:02 dev "$ND"
sleep 1
t_check "a second unicast address, in the NIC's filter: accepted" \
	bash -c "! dmesg | tail -5 | grep -q 'MAC table refused'"
n=$(PEER=$peer sent_to 02:00:00:00:78:02)
t_check "frames from the hub peer to it are delivered ($n)" test "$n" -ge 5
bridge fdb del 02:00:00:00:78:02 dev "$ND"
n=$(PEER=$peer sent_to 02:00:00:00:78:02)
t_check "once removed, they are not ($n)" test "$n" -lt 5
tcp_check "TCP to the hub peer" to
tcp_check "TCP from the hub peer" from
t_check "unload with the device present" \
	bash -c "vdpa dev del $DEV && rmmod vdpa_mediator"
ip -n "$NS" link set "$peer" netns 1

t_done
