#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The virtio-pci adapter (vdpa_virtio_pci) on QEMU's emulated virtio-net,
# modern and legacy (scripts/vm/run.sh adds them).  Each function moves
# from virtio-pci to the adapter with driver_override, gets a vDPA device
# with `vdpa dev add`, and the kernel's virtio_net on it (virtio_vdpa)
# talks across a QEMU hub to a peer NIC that stays with virtio-pci, in
# another network namespace: ping, then a TCP transfer each way checked by
# SHA-256; the driver's control commands reach the NIC through the
# adapter's relay, on a two-pair function too (host taps) with max_vqp 2.  Provisioning the function cannot honour is refused
# with its errno and a message; vhost_vdpa refuses it without an IOMMU; unbind,
# removal and QEMU's device_del under traffic take the device away
# cleanly; a quirk given by quirks= acts; the function goes back to
# virtio-pci and works there.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vhost_vdpa_lib.sh"
source "$(dirname "$0")/virtio_pci_lib.sh"

for cmd in vdpa jq ip busybox sha256sum ethtool; do
	command -v "$cmd" >/dev/null || t_skip_all "$cmd not installed"
done
vp_require_nics
MAC=02:00:00:56:00:20
work=$(mktemp -d)
trap 'vp_cleanup; modprobe -r $VP_ADAPTER virtio_vdpa vhost_vdpa; unload_all;
      rm -rf "$work"' EXIT

has_netdev() {
	netdev_of "$1" >/dev/null
}

# negotiated NAME FEATURE: the driver of device NAME took FEATURE.
negotiated() {
	jkey "$(vdpa -j dev config show "$1")" negotiated_features |
		jq -e --arg f "$2" 'index($f)' >/dev/null
}

# relayed NAME ID: the commands of NAME's driver reach QEMU's NIC ID
# through the adapter's relay: promiscuous mode on and off.
relayed() {
	local dev

	dev=$(netdev_of "$1")
	t_check "$1: virtio_net negotiated CTRL_VQ (QEMU's control queue is smaller: relayed)" \
		negotiated "$1" CTRL_VQ
	ip link set "$dev" promisc on
	t_check "$1: promiscuous on reaches the NIC (CTRL_RX, relayed)" \
		wait_for 5 vp_nic_is "$2" promiscuous true
	ip link set "$dev" promisc off
	t_check "$1: and off again" wait_for 5 vp_nic_is "$2" promiscuous false
}

# logged PATTERN: the kernel's last messages match PATTERN.
logged() {
	dmesg | tail -n 5 | grep -Eq -- "$1"
}

# refused DESC ERRNO_TEXT LOG_PATTERN CMD...: CMD fails with ERRNO_TEXT
# and the kernel says why.
refused() {
	local desc=$1 errno=$2 log=$3

	shift 3
	t_refuse "$desc" "$errno" "$@" &&
		{ logged "$log" && t_ok "$desc: the kernel says why" ||
		  t_fail "$desc: the kernel says why (no /$log/)"; }
}

# transfer DESC FROM_NS TO_NS TO_ADDR: 4 MiB over TCP, checked by SHA-256
# (an empty namespace name is the test's own).
transfer() {
	local desc=$1 from=${2:+ip netns exec $2} to=${3:+ip netns exec $3}
	local addr=$4 pid

	$to timeout 60 busybox nc -l -p 5001 >"$work/recv" &
	pid=$!
	sleep 1
	$from timeout 60 bash -c "cat '$work/data' >/dev/tcp/$addr/5001"
	wait $pid
	t_eq "$desc: 4 MiB over TCP arrive intact" \
		"$(sha256sum <"$work/recv")" "$(sha256sum <"$work/data")"
}

# talk NAME PEER_BDF SUBNET: the vDPA device NAME exchanges traffic with
# the peer NIC at PEER_BDF over SUBNET.0/24.
talk() {
	local name=$1 peer dev

	if ! wait_for 10 has_netdev "$name"; then
		t_fail "$name: virtio_net makes an interface of it"
		return
	fi
	dev=$(netdev_of "$name")
	t_ok "$name: virtio_net makes an interface of it ($dev)"
	peer=$(vp_peer_up "$2" "$3.2/24") ||
		{ t_fail "$name: peer interface"; return; }
	no_ipv6 "$dev"
	ip addr add "$3.1/24" dev "$dev"
	ip link set "$dev" up
	t_check "$name: ping the peer across the hub" \
		busybox ping -c 3 -W 5 "$3.2"
	transfer "$name: to the peer" "" "$VP_NS" "$3.2"
	transfer "$name: from the peer" "$VP_NS" "" "$3.1"
	vp_peer_down "$peer"
}

head -c 4M /dev/urandom >"$work/data"
t_check "load $VP_ADAPTER, virtio_vdpa and virtio_net" \
	modprobe -a $VP_ADAPTER virtio_vdpa virtio_net

# --- modern ---------------------------------------------------------------
t_check "modern $VP_MODERN moves from virtio-pci to $VP_ADAPTER" \
	vp_bind $VP_MODERN $VP_ADAPTER
t_eq "vdpa mgmtdev show lists pci/$VP_MODERN" \
	"$(jkey "$(vdpa -j mgmtdev show "pci/$VP_MODERN")" supported_classes |
	   jq -r '.[0]')" net
t_eq "three queues offered (the control queue, relayed)" \
	"$(jkey "$(vdpa -j mgmtdev show "pci/$VP_MODERN")" max_supported_vqs)" 3

# (the core refuses it already: more queues than the management device has)
t_refuse "max_vqp 2 on a one-pair function" "Invalid argument" \
	vdpa dev add name pa0 mgmtdev "pci/$VP_MODERN" max_vqp 2
refused "mtu 9000 on a function without a larger MTU" "Invalid argument" \
	"mtu 9000: pci/$VP_MODERN takes 68..1500" \
	vdpa dev add name pa0 mgmtdev "pci/$VP_MODERN" mtu 9000
t_check "vdpa dev add pa0 (mac $MAC, mtu 1400)" \
	vdpa dev add name pa0 mgmtdev "pci/$VP_MODERN" mac $MAC mtu 1400
refused "a second device on the function" "Device or resource busy" \
	"already has device pa0" \
	vdpa dev add name pa9 mgmtdev "pci/$VP_MODERN"
t_eq "pa0 is on pci/$VP_MODERN" \
	"$(jkey "$(vdpa -j dev show pa0)" mgmtdev)" "\"pci/$VP_MODERN\""
t_eq "vdpa dev config show: mtu 1400" \
	"$(jkey "$(vdpa -j dev config show pa0)" mtu)" 1400
talk pa0 $VP_MODERN_PEER 10.77.0
dev=$(netdev_of pa0)
t_eq "the interface has the MTU provisioned" \
	"$(cat "/sys/class/net/$dev/mtu" 2>/dev/null)" 1400
t_eq "and the MAC provisioned" \
	"$(cat "/sys/class/net/$dev/address" 2>/dev/null)" $MAC
t_check "QEMU: the NIC itself has it (set through its control queue)" \
	vp_nic_is dut0 main-mac $MAC
relayed pa0 dut0
ip link set "$dev" address 02:00:00:56:00:21
t_check "pa0: the driver's own MAC change reaches the NIC (relayed)" \
	wait_for 5 vp_nic_is dut0 main-mac 02:00:00:56:00:21
t_check "vdpa dev del pa0" vdpa dev del pa0

# --- legacy ---------------------------------------------------------------
t_check "legacy $VP_LEGACY moves from virtio-pci to $VP_ADAPTER" \
	vp_bind $VP_LEGACY $VP_ADAPTER
t_check "the built-in quirk of 1af4:1000 sub 1af4:0001 applies" \
	logged "$VP_LEGACY: legacy virtio-pci.*quirks 0xf"
refused "another MAC on a function without CTRL_MAC_ADDR" \
	"Operation not supported" "no control queue command to change its MAC" \
	vdpa dev add name pa1 mgmtdev "pci/$VP_LEGACY" mac $MAC
t_check "vdpa dev add pa1" vdpa dev add name pa1 mgmtdev "pci/$VP_LEGACY"
talk pa1 $VP_LEGACY_PEER 10.77.1
features=$(jkey "$(vdpa -j dev config show pa1)" negotiated_features |
	   jq -r '.[]?' | tr '\n' ' ')
t_diag "negotiated: $features"
for f in VERSION_1 ACCESS_PLATFORM MRG_RXBUF; do
	case " $features " in
	*" $f "*) t_ok "negotiated $f on the legacy function" ;;
	*) t_fail "negotiated $f on the legacy function" ;;
	esac
done
relayed pa1 dut1
t_check "vdpa dev del pa1" vdpa dev del pa1

# --- two queue pairs, a MAC and the relay of MQ --------------------------
# rxq1_packets DEV: frames virtio_net took from its second receive queue.
rxq1_packets() {
	ethtool -S "$1" | awk '$1 == "rx_queue_1_packets:" { print $2 }'
}

if [ -e "/sys/bus/pci/devices/$VP_MQ" ]; then
	t_check "two-pair $VP_MQ moves from virtio-pci to $VP_ADAPTER" \
		vp_bind $VP_MQ $VP_ADAPTER
	t_eq "five queues offered (two pairs and the control queue)" \
		"$(jkey "$(vdpa -j mgmtdev show "pci/$VP_MQ")" max_supported_vqs)" 5
	t_check "vdpa dev add pm0 (mac $MAC, max_vqp 2)" \
		vdpa dev add name pm0 mgmtdev "pci/$VP_MQ" mac $MAC max_vqp 2
	if wait_for 10 has_netdev pm0; then
		dev=$(netdev_of pm0)
		t_check "pm0: virtio_net negotiated MQ" negotiated pm0 MQ
		t_eq "pm0: virtio_net uses both pairs" \
			"$(ethtool -l "$dev" |
			   awk '/^Current/ { c = 1 } c && /^Combined/ { print $2 }')" 2
		peer=$(vp_peer_up $VP_MQ_PEER 10.77.2.2/24)
		no_ipv6 "$dev"
		ip addr add 10.77.2.1/24 dev "$dev"
		ip link set "$dev" up
		t_check "pm0: ping the peer across the host's bridge" \
			busybox ping -c 3 -W 5 10.77.2.2
		# 32 connection attempts, 32 source ports: the host's tap
		# spreads them over the queues QEMU enabled, the second only
		# after VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 2 (relayed).
		ip netns exec "$VP_NS" bash -c 'for i in $(seq 32); do
			(exec 3<>/dev/tcp/10.77.2.1/9) 2>/dev/null; done'
		n=$(rxq1_packets "$dev")
		t_diag "frames on receive queue 1: $n"
		t_check "frames arrive on the second pair (the NIC enabled it)" \
			test "${n:-0}" -gt 0
		t_check "QEMU: the NIC has the provisioned MAC" \
			vp_nic_is dut2 main-mac $MAC
		vp_peer_down "$peer"
	else
		t_fail "pm0: virtio_net makes an interface of it"
	fi
	t_check "vdpa dev del pm0" vdpa dev del pm0
	t_check "$VP_MQ goes back to virtio-pci" vp_bind $VP_MQ virtio-pci
else
	t_diag "no two-pair function (the host made no taps): skipped"
fi

# --- vhost_vdpa without an IOMMU ------------------------------------------
# User-space addresses must never reach the hardware untranslated.
if [ -z "$(ls /sys/class/iommu 2>/dev/null)" ]; then
	rmmod virtio_vdpa
	modprobe vhost_vdpa
	node=$(vv_add pa2 "pci/$VP_LEGACY") &&
		t_ok "vhost_vdpa gives pa2 a node ($node)" ||
		t_fail "vhost_vdpa gives pa2 a node"
	refused "opening it without an IOMMU" "Operation not supported" \
		"has no coherent IOMMU" bash -c "exec 3<>$node"
	t_check "vdpa dev del pa2" vdpa dev del pa2
	rmmod vhost_vdpa
	modprobe virtio_vdpa
fi

# --- unbind and removal under traffic -------------------------------------
# flood NAME PEER_BDF SUBNET: the device's interface floods pings at the
# peer in the background (ping's pid in $flood).
flood() {
	local dev peer

	wait_for 10 has_netdev "$1" || return 1
	dev=$(netdev_of "$1")
	peer=$(vp_peer_up "$2" "$3.2/24") || return 1
	no_ipv6 "$dev"
	ip addr add "$3.1/24" dev "$dev"
	ip link set "$dev" up
	busybox ping -q -A -w 60 "$3.2" >/dev/null 2>&1 &
	flood=$!
	sleep 2
	kill -0 $flood
}

# gone NAME PING_PID: the device went away; the flood stops, the peer
# comes home.
gone() {
	t_check "$1 is gone" bash -c "! vdpa dev show $1"
	kill "$2" 2>/dev/null
	wait "$2"
	peer=$(ip -n "$VP_NS" -o link show | awk -F': ' '$2 != "lo" { print $2 }')
	[ -n "$peer" ] && vp_peer_down "$peer"
}

t_check "vdpa dev add pa1 again" vdpa dev add name pa1 mgmtdev "pci/$VP_LEGACY"
t_check "pa1 floods the peer" flood pa1 $VP_LEGACY_PEER 10.77.1
t_check "unbind $VP_LEGACY from $VP_ADAPTER under traffic" \
	bash -c "echo $VP_LEGACY >/sys/bus/pci/drivers/$VP_ADAPTER/unbind"
gone pa1 $flood
t_check "$VP_LEGACY back to $VP_ADAPTER" vp_bind $VP_LEGACY $VP_ADAPTER
t_check "vdpa dev add pa1 once more" vdpa dev add name pa1 mgmtdev "pci/$VP_LEGACY"
t_check "pa1 floods the peer" flood pa1 $VP_LEGACY_PEER 10.77.1
t_check "remove $VP_LEGACY from the PCI bus under traffic" \
	bash -c "echo 1 >/sys/bus/pci/devices/$VP_LEGACY/remove"
gone pa1 $flood
t_check "a rescan finds it again" bash -c "echo 1 >/sys/bus/pci/rescan"
t_check "with virtio-pci" wait_for 10 vp_has_driver $VP_LEGACY virtio-pci

# The same as a real hot unplug: QEMU's device_del, ACPI eject (which
# needs ACPI's interrupt: make check-debug boots with acpi=noirq).
if grep -qw acpi=noirq /proc/cmdline; then
	t_diag "acpi=noirq: no ACPI eject, QEMU's device_del skipped"
else
	t_check "$VP_LEGACY back to $VP_ADAPTER" vp_bind $VP_LEGACY $VP_ADAPTER
	t_check "vdpa dev add pa1 for the hot unplug" \
		vdpa dev add name pa1 mgmtdev "pci/$VP_LEGACY"
	t_check "pa1 floods the peer" flood pa1 $VP_LEGACY_PEER 10.77.1
	t_check "QEMU: device_del dut1 under traffic" \
		vp_qmp '{"execute":"device_del","arguments":{"id":"dut1"}}'
	t_check "the function leaves the guest" wait_for 60 vp_gone $VP_LEGACY
	gone pa1 $flood
	t_check "QEMU: device_add dut1" vp_qmp '{"execute":"device_add",
		"arguments":{"driver":"virtio-net-pci","id":"dut1",
		"netdev":"dut1","addr":"0x12","disable-modern":true,
		"ctrl_mac_addr":false,"mac":"52:54:00:56:00:12"}}'
	t_check "it comes back, with virtio-pci" \
		wait_for 60 vp_has_driver $VP_LEGACY virtio-pci
fi

# --- quirks= --------------------------------------------------------------
t_check "back to virtio-pci" vp_bind $VP_MODERN virtio-pci
echo "1af4:1041:zz,1af4:1041:l" >/sys/module/$VP_ADAPTER/parameters/quirks
vp_bind $VP_MODERN $VP_ADAPTER
t_eq "quirks=1af4:1041:l: the modern-only function is refused" \
	"$(vp_driver_of $VP_MODERN)" ""
t_check "and the kernel says why" logged "quirk 'l': the function has no legacy interface"
t_check "and a malformed entry is reported" \
	bash -c "dmesg | tail -n 20 | grep -q 'quirks=: ignoring a malformed entry'"
echo >/sys/module/$VP_ADAPTER/parameters/quirks

# --- back -----------------------------------------------------------------
for f in $VP_MODERN $VP_LEGACY; do
	t_check "$f goes back to virtio-pci" vp_bind $f virtio-pci
done
t_check "the modern function's interface is back" \
	wait_for 10 vp_netdev_at $VP_MODERN
t_check "modprobe -r $VP_ADAPTER" modprobe -r $VP_ADAPTER
t_done
