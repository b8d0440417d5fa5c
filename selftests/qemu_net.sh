#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# QEMU's vhost-vdpa netdev on the net simulator: a nested guest (this very
# kernel and a busybox initramfs built here, TCG inside TCG, a couple of
# minutes) whose virtio-net driver sends frames through /dev/vhost-vdpa-N
# and gets each one back intact, and changes its MAC address through the
# control queue; a second NIC does the same with mq=off on a device with
# 2 pairs.  A third NIC is on the mediator over a veth whose peer reflects
# every frame: the same frames come back intact through a real netdev, and
# the MAC change is refused (a veth cannot filter another address).  A
# fourth NIC is a mediator device with the features Debian's QEMU 7.2 can
# shadow, behind x-svq=on (the shadow virtqueues live migration needs
# there): the same frames through QEMU's own rings.  A fifth NIC is the
# virtio-pci adapter on the VM's modern test function, through the
# platform IOMMU (make check runs this test in its VM with an Intel
# IOMMU), whose peer function reflects every frame across the QEMU hub.
# Then QEMU exits, nothing stays pinned, and the device still works.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vhost_vdpa_lib.sh"
source "$(dirname "$0")/virtio_pci_lib.sh"

RAWLOOP=$TOOLS/bin/rawloop
KVER=$(uname -r)
GUEST=$(cd "$(dirname "$0")" && pwd)/guest

vv_require vdpa qemu-system-x86_64 cpio gzip ldd "$RAWLOOP" "$VV_NET" \
	"$TOOLS/bin/simdev-probe"
[ -x /bin/busybox ] && /bin/busybox --list | grep -qx ip ||
	t_skip_all "no busybox with ip (busybox-static)"
[ -r "/boot/vmlinuz-$KVER" ] || t_skip_all "no /boot/vmlinuz-$KVER"
[ -n "$(ls /sys/class/iommu 2>/dev/null)" ] ||
	t_skip_all "no IOMMU for the adapter's NIC (make check runs this in a VM with one)"
vp_require_nics
trap 'vv_unload; vp_cleanup; modprobe -r $VP_ADAPTER;
      ip netns del qnpeer 2>/dev/null; ip link del qn0 2>/dev/null;
      ip link del qn2 2>/dev/null; rm -rf "$work"' EXIT
ulimit -l unlimited
work=$(mktemp -d)

# The guest's initramfs: busybox, rawloop and its libraries, the virtio
# network modules in load order.
build_initramfs() {
	local root=$work/root m lib

	mkdir -p "$root"/{bin,dev,proc,sys,modules}
	cp /bin/busybox "$root/bin/busybox"
	cp "$GUEST/init-net" "$root/init"
	cp "$RAWLOOP" "$root/rawloop"
	for lib in $(ldd "$RAWLOOP" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
	for m in $(for d in virtio_pci virtio_net; do
			modprobe -S "$KVER" --show-depends "$d"
		   done | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++'); do
		case $m in
		*.ko) cp "$m" "$root/modules/" ;;
		*.ko.xz) xz -dc "$m" >"$root/modules/$(basename "$m" .xz)" ;;
		*) return 1 ;;
		esac
		basename "${m%.xz}" >>"$root/modules.list"
	done
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) \
		>"$work/initramfs.gz"
}

# boot_guest NODE[|NETDEV_OPTS|DEVICE_OPTS]...: boot the nested guest with
# one virtio-net-pci per vhost-vdpa node (the second and later ones with
# mq=off), the options added to its -netdev and -device; its console in
# $out.
boot_guest() {
	local start i=0 nic node nopts dopts args=()

	for nic in "$@"; do
		IFS='|' read -r node nopts dopts <<<"$nic"
		args+=(-netdev "vhost-vdpa,vhostdev=$node,id=n$i${nopts:+,$nopts}"
		       -device "virtio-net-pci,netdev=n$i$([ $i -gt 0 ] && echo ,mq=off)${dopts:+,$dopts}")
		i=$((i + 1))
	done
	t_diag "booting the nested guest (TCG in TCG, a few minutes)"
	start=$(date +%s)
	out=$(timeout 900 qemu-system-x86_64 -accel tcg -m 256M -smp 1 \
		-nographic -no-reboot -nodefaults -serial stdio \
		-kernel "/boot/vmlinuz-$KVER" -initrd "$work/initramfs.gz" \
		-append "console=ttyS0 quiet panic=-1 nics=$#" \
		"${args[@]}" </dev/null 2>&1)
	rc=$?
	t_diag "QEMU ran $(($(date +%s) - start)) s, status $rc"
	printf '%s\n' "$out" | grep -E "GUEST|sent [0-9]|qemu" | sed 's/^/#   /'
	t_eq "QEMU exits cleanly" "$rc" 0
	grep -q GUEST-DONE <<<"$out" || printf '%s\n' "$out" | tail -n 30 |
		sed 's/^/#   /'
}

# guest_saw NAME PATTERN: the nested guest's console has PATTERN.
guest_saw() {
	grep -qE "$2" <<<"$out" && t_ok "$1" || t_fail "$1"
}

pins0=$(vv_pins)
t_check "build the guest initramfs" build_initramfs
t_check "load vhost_vdpa and the simulators" vv_load
net=$(vv_add vvq0 vdpasim_net) && t_ok "net device ($net)" ||
	t_fail "net device"
# The second NIC: mq=off on a device with 2 pairs, so the guest's control
# queue is queue 2 (virtio 1.2, 5.1.2).  It used to be left unserved: the
# MAC change spun in the guest's virtio_net until the soft lockup detector
# fired.
net2=$(vv_add vvq1 vdpasim_net max_vqp 2) &&
	t_ok "net device with 2 pairs ($net2)" ||
	t_fail "net device with 2 pairs"

# The third and fourth NICs: the mediator over veths whose peers send every
# frame back.
# reflector LOWER PEER: a veth pair, PEER in qnpeer reflecting.
reflector() {
	ip link add "$1" type veth peer name "$2" netns qnpeer &&
	ip link set "$1" up && ip -n qnpeer link set "$2" up &&
	tc -n qnpeer qdisc add dev "$2" clsact &&
	tc -n qnpeer filter add dev "$2" ingress matchall \
		action mirred egress redirect dev "$2"
}
med_reflectors() {
	modprobe -a veth sch_ingress cls_matchall act_mirred vdpa_mediator &&
	ip netns add qnpeer && reflector qn0 qn1 && reflector qn2 qn3 &&
	echo qn0,qn2 >/sys/module/vdpa_mediator/parameters/lower
}
t_check "veths whose peers reflect, as the mediator's lowers" med_reflectors
med=$(vv_add vvq2 qn0) && t_ok "mediator device ($med)" ||
	t_fail "mediator device"
# Without MQ and CTRL_RX, which QEMU 7.2's shadow virtqueues refuse
# (Documentation/mediator.rst); iproute2 6.1 has no device_features.
svq=$("$TOOLS/bin/simdev-probe" add vvq3 qn2 1 0x30083bbab >&2 &&
      vv_node vvq3) &&
	t_ok "mediator device for x-svq=on ($svq)" ||
	t_fail "mediator device for x-svq=on"

# The fifth NIC: the adapter; the peer function's interface, promiscuous,
# sends every frame back out.
adapter_reflector() {
	local peer

	modprobe -a $VP_ADAPTER virtio_net sch_ingress cls_matchall act_mirred &&
	vp_bind $VP_MODERN $VP_ADAPTER &&
	peer=$(vp_peer_up $VP_MODERN_PEER) &&
	ip -n "$VP_NS" link set "$peer" promisc on &&
	tc -n "$VP_NS" qdisc add dev "$peer" clsact &&
	tc -n "$VP_NS" filter add dev "$peer" ingress matchall \
		action mirred egress redirect dev "$peer"
}
t_check "the modern test function on $VP_ADAPTER, its peer reflecting" \
	adapter_reflector
pci=$(vv_add vvq4 "pci/$VP_MODERN") && t_ok "adapter device ($pci)" ||
	t_fail "adapter device"

# QEMU 7.2 sets its own NIC's MAC through the shadow control queue when
# it starts the device: the mediator's, or the veth would have to filter.
boot_guest "$net" "$net2" "$med" \
	"$svq|x-svq=on|mac=$(cat /sys/class/net/qn2/address)" "$pci"
t_eq "guest: all ten rawloop runs succeed" \
	"$(grep -c 'GUEST-RAWLOOP eth[0-4] rc=0' <<<"$out")" 10
t_eq "adapter NIC: both rawloop runs, through the IOMMU and the hub" \
	"$(grep -c 'GUEST-RAWLOOP eth4 rc=0' <<<"$out")" 2
guest_saw "guest: rawloop counted 200 intact" "intact 200 "
guest_saw "guest: rawloop counted 500 intact" "intact 500 "
guest_saw "guest: ip link set address through the control queue" \
	"GUEST-MAC eth0 rc=0 02:00:00:00:00:ef"
guest_saw "mq=off guest NIC: ip link set address through control queue 2" \
	"GUEST-MAC eth1 rc=0 02:00:00:00:00:ef"
guest_saw "mediator NIC: a MAC the veth cannot receive is refused" \
	"GUEST-MAC eth2 rc=[1-9][0-9]* $(cat /sys/class/net/qn0/address)"
guest_saw "x-svq=on NIC: refused too, through QEMU's shadow control queue" \
	"GUEST-MAC eth3 rc=[1-9][0-9]* $(cat /sys/class/net/qn2/address)"
t_check "delete the mediator device" vdpa dev del vvq2
t_check "delete the x-svq=on mediator device" vdpa dev del vvq3
t_check "delete the device with 2 pairs" vdpa dev del vvq1
t_check "delete the adapter device" vdpa dev del vvq4

t_eq "guest memory unpinned after QEMU exits" "$(vv_pins)" "$pins0"
t_check "the device works after QEMU" "$VV_NET" -n 1000 "$net"
t_check "delete the device" vdpa dev del vvq0
t_check "rmmod vhost_vdpa" rmmod vhost_vdpa
t_done
