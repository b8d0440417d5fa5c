# SPDX-License-Identifier: GPL-2.0
# Shared by the virtio-pci adapter's tests: the test VM's emulated NICs
# (scripts/vm/run.sh adds them) and moving PCI functions between drivers.

VP_ADAPTER=vdpa_virtio_pci
VP_NS=vvp-peer
VP_MODERN=0000:00:10.0
VP_MODERN_PEER=0000:00:11.0
VP_LEGACY=0000:00:12.0
VP_LEGACY_PEER=0000:00:13.0
# Two queue pairs, on host taps: only where the host could make them.
VP_MQ=0000:00:14.0
VP_MQ_PEER=0000:00:15.0

# vp_require_nics: skip the test in a VM without the test functions.
vp_require_nics() {
	local f

	for f in $VP_MODERN $VP_MODERN_PEER $VP_LEGACY $VP_LEGACY_PEER; do
		[ -e "/sys/bus/pci/devices/$f" ] ||
			t_skip_all "no test function $f (scripts/vm/run.sh adds them)"
	done
}

# vp_driver_of BDF: the PCI driver bound to a function, or nothing.
vp_driver_of() {
	local l

	l=$(readlink "/sys/bus/pci/devices/$1/driver") && basename "$l"
}

# vp_has_driver BDF DRIVER: the function is bound to DRIVER.
vp_has_driver() {
	[ "$(vp_driver_of "$1")" = "$2" ]
}

# vp_bind BDF DRIVER: move a function to DRIVER the operator's way.
vp_bind() {
	local dev=/sys/bus/pci/devices/$1

	echo "$2" >"$dev/driver_override"
	[ -e "$dev/driver" ] && echo "$1" >"$dev/driver/unbind"
	echo "$1" >/sys/bus/pci/drivers_probe
	echo >"$dev/driver_override"
	vp_has_driver "$1" "$2"
}

# vp_netdev_at BDF: the interface of a function driven by virtio-pci.
vp_netdev_at() {
	local n

	for n in /sys/bus/pci/devices/"$1"/virtio*/net/*; do
		[ -e "$n" ] && { basename "$n"; return 0; }
	done
	return 1
}

# vp_peer_up BDF ADDR: the peer function's interface, moved into $VP_NS
# with ADDR (or none); prints its name.
vp_peer_up() {
	local peer

	peer=$(vp_netdev_at "$1") || return 1
	ip netns list | grep -qw "$VP_NS" ||
		{ ip netns add "$VP_NS" && ip -n "$VP_NS" link set lo up; }
	ip link set "$peer" netns "$VP_NS" || return 1
	ip netns exec "$VP_NS" sysctl -qw "net.ipv6.conf.$peer.disable_ipv6=1" \
		2>/dev/null
	[ -n "$2" ] && ip -n "$VP_NS" addr add "$2" dev "$peer"
	ip -n "$VP_NS" link set "$peer" up || return 1
	echo "$peer"
}

# vp_peer_down PEER: back from $VP_NS, without its address.
vp_peer_down() {
	ip -n "$VP_NS" addr flush dev "$1"
	ip -n "$VP_NS" link set "$1" netns 1
}

# vp_qmp JSON: one QMP command to the QEMU of this VM (scripts/vm/run.sh
# runs an agent for it); prints QEMU's answers, fails on an error.
vp_qmp() {
	local job=/run/vmjob out

	rm -f "$job/qmp.ans"
	echo "$1" >"$job/qmp.req" || return 1
	wait_for 30 test -e "$job/qmp.ans" || return 1
	out=$(cat "$job/qmp.ans")
	echo "$out"
	grep -q '"return"' <<<"$out" && ! grep -q '"error"' <<<"$out"
}

# vp_nic_is ID FIELD VALUE: QEMU's NIC ID has VALUE in FIELD of its
# receive filter (query-rx-filter: main-mac, promiscuous...; the hub ports
# have the NICs' names too, so ask for every NIC).
vp_nic_is() {
	[ "$(vp_qmp '{"execute":"query-rx-filter"}' |
	     jq -r ".return[]? | select(.name == \"$1\") | .[\"$2\"]")" = "$3" ]
}

# vp_gone BDF: the function has left the guest.
vp_gone() {
	[ ! -e "/sys/bus/pci/devices/$1" ]
}

# vp_cleanup: every function back to virtio-pci, the namespace gone.
vp_cleanup() {
	local d f

	for d in /sys/bus/vdpa/devices/*; do
		[ -e "$d" ] || continue
		case $(readlink -f "$d") in
		*/pci*/0000:00:1[0-5].0/*) vdpa dev del "$(basename "$d")" ;;
		esac
	done
	for f in $VP_MODERN $VP_LEGACY $VP_MQ; do
		[ -e "/sys/bus/pci/devices/$f" ] || continue
		[ "$(vp_driver_of $f)" = virtio-pci ] || vp_bind $f virtio-pci
	done
	ip netns del "$VP_NS" 2>/dev/null
	return 0
}
