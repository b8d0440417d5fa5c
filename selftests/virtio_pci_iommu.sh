#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The virtio-pci adapter under vhost_vdpa, through the platform IOMMU: in
# a q35 VM with QEMU's Intel IOMMU (make check boots one for this test:
# scripts/vm/run.sh --iommu), dpdk-testpmd on /dev/vhost-vdpa-N forwards
# every frame it receives back out of the modern test function, and the
# peer NIC on the same QEMU hub (virtio-pci, another namespace) gets each
# frame it sent back intact.  Before that, the interrupt bypass: once the
# device runs, vhost_vdpa offers each queue's interrupt to the irq bypass
# manager for KVM's irqfd; a test consumer (selftests/irqbypass) on a
# queue's call eventfd must get that queue's MSI-X vector, and lose it
# when the device is closed.  vhost_vdpa gives the function an IOMMU
# domain of its own with DPDK's memory mapped at DPDK's addresses; the
# device has a provisioned MAC, which the adapter sets through the
# function's control queue, mapped in that domain too.  Then the function
# is unbound from the adapter under testpmd: the unbind returns, testpmd
# quits, nothing stays pinned.  In a translating DMA domain, virtio_net
# on virtio_vdpa pings the peer and changes its MAC through the adapter's
# relay of its control queue.  The function works again with virtio-pci.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vhost_vdpa_lib.sh"
source "$(dirname "$0")/virtio_pci_lib.sh"

RAWLOOP=$TOOLS/bin/rawloop

[ -n "$(ls /sys/class/iommu 2>/dev/null)" ] ||
	t_skip_all "no IOMMU (make check runs this in a VM with one)"
vv_require vdpa dpdk-testpmd "$RAWLOOP" "$VV_NET"
vp_require_nics
trap 'vv_testpmd_stop >/dev/null 2>&1; vp_cleanup;
      modprobe -r $VP_ADAPTER vhost_vdpa virtio_vdpa; unload_all;
      echo 0 >/proc/sys/vm/nr_hugepages' EXIT
ulimit -l unlimited
MAC=02:00:00:56:00:30

t_check "load $VP_ADAPTER, vhost_vdpa and virtio_net (the peer)" \
	modprobe -a $VP_ADAPTER vhost_vdpa virtio_net
vv_hugepages || t_skip_all "cannot reserve 256 MiB of huge pages"
t_check "$VP_MODERN moves to $VP_ADAPTER" vp_bind $VP_MODERN $VP_ADAPTER
node=$(vv_add pi0 "pci/$VP_MODERN" mac $MAC) &&
	t_ok "pi0 (mac $MAC) gets a node ($node)" || t_fail "pi0 gets a node"
# VHOST_VDPA_GET_IOVA_RANGE of the node, "FIRST LAST" in hex.
range=$(python3 - "$node" <<'EOF2'
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
print("%#x %#x" % struct.unpack("<QQ", fcntl.ioctl(fd, 0x8010af78, bytes(16))))
EOF2
)
t_eq "the user's IOVA range ends below the control queue's window (48-bit IOMMU)" \
	"$range" "0x0 0xffffffdfffff"
peer=$(vp_peer_up $VP_MODERN_PEER 10.78.0.2/24) &&
	t_ok "peer $peer in $VP_NS" || t_fail "peer interface"
pins0=$(vv_pins)

# --- the queue's interrupt offered for bypass ------------------------------
# vhost-vdpa-net --bypass hands vq 0's call eventfd to irqbypass_test's
# consumer, sets DRIVER_OK and holds the device until fd 8 is closed; then
# its close resets the device.
IBT=/sys/kernel/debug/irqbypass_test
bypass_checks() {
	local fifo=/tmp/bypass.in.$$ log=/tmp/bypass.$$ pid irq rc

	t_check "load irqbypass_test (a consumer standing in for KVM's irqfd)" \
		modprobe irqbypass_test
	[ -d /sys/module/irqbypass_test ] || return
	rm -f "$fifo"
	mkfifo "$fifo"
	timeout 120 "$VV_NET" --bypass "$IBT/consumer" "$node" <"$fifo" \
		>"$log" 2>&1 &
	pid=$!
	exec 8>"$fifo"
	rm -f "$fifo"
	if wait_for 20 grep -q "driver ok" "$log"; then
		t_ok "vhost-vdpa-net hands vq 0's call eventfd over and sets DRIVER_OK"
		# The adapter names each queue's vector <device>-vq<N>.
		irq=$(awk '$NF == "pi0-vq0" { sub(":", "", $1); print $1 }' \
		      /proc/interrupts)
		t_check "pi0-vq0 is one of $VP_MODERN's MSI-X vectors (irq ${irq:-none})" \
			test -n "$irq" -a -e "/sys/bus/pci/devices/$VP_MODERN/msi_irqs/$irq"
		t_eq "the consumer of vq 0's call eventfd was given pi0-vq0's interrupt" \
			"$(cat $IBT/state)" "irq ${irq:-none} adds 1 dels 0"
	else
		t_fail "vhost-vdpa-net hands vq 0's call eventfd over and sets DRIVER_OK"
		sed 's/^/#   /' "$log"
	fi
	exec 8>&-
	vv_wait_gone "$pid" 20
	rc=$?
	t_eq "vhost-vdpa-net exits once its input ends" "$rc" 0
	[ "$rc" -eq 0 ] || sed 's/^/#   /' "$log"
	rm -f "$log"
	t_eq "the close (a reset) took the interrupt back from the consumer" \
		"$(cat $IBT/state)" "irq ${irq:-none} adds 1 dels 1"
	t_check "unregister the consumer, unload irqbypass_test" \
		bash -c "echo unregister >$IBT/consumer && rmmod irqbypass_test"
}
if modprobe irqbypass 2>/dev/null; then
	bypass_checks
else
	vv_skip "a queue's interrupt offered for bypass" \
		"no irq bypass manager (CONFIG_IRQ_BYPASS_MANAGER)"
fi

log=/tmp/testpmd.$$
if vv_testpmd_start "$node" 1 "$log"; then
	t_ok "testpmd starts on $node"
	echo "set fwd io" >&7
	echo "start" >&7
	out=$(ip netns exec "$VP_NS" "$RAWLOOP" -i "$peer" -c 500 -s 1000 \
	      -t 20000 2>&1)
	rc=$?
	t_diag "rawloop: $out"
	t_eq "500 frames through testpmd and back, intact" "$rc" 0
	t_check "QEMU: the NIC has the provisioned MAC (set through its control queue in the user's domain)" \
		vp_nic_is dut0 main-mac $MAC
else
	t_fail "testpmd starts on $node"
fi
t_check "unbind $VP_MODERN from $VP_ADAPTER under testpmd" \
	timeout 20 bash -c "echo $VP_MODERN >/sys/bus/pci/drivers/$VP_ADAPTER/unbind"
t_check "pi0 is gone" bash -c "! vdpa dev show pi0"
vv_testpmd_stop >/dev/null
t_diag "testpmd: $(grep -m1 -E 'RX-packets' "$log")"
t_check "testpmd quits" bash -c "! kill -0 $VV_TESTPMD 2>/dev/null"
rm -f "$log"
t_eq "nothing left pinned" "$(vv_pins)" "$pins0"

# --- virtio_vdpa in a translating domain: the relay reads through it ------
modprobe -r vhost_vdpa
group=$(basename "$(readlink "/sys/bus/pci/devices/$VP_MODERN/iommu_group")")
t_check "$VP_MODERN's IOMMU group translates the kernel's DMA (type DMA)" \
	bash -c "echo DMA >/sys/kernel/iommu_groups/$group/type"
t_check "$VP_MODERN back to $VP_ADAPTER" vp_bind $VP_MODERN $VP_ADAPTER
t_check "load virtio_vdpa" modprobe virtio_vdpa
t_check "vdpa dev add pr0" vdpa dev add name pr0 mgmtdev "pci/$VP_MODERN"
if wait_for 10 netdev_of pr0; then
	dev=$(netdev_of pr0)
	no_ipv6 "$dev"
	ip addr add 10.78.0.1/24 dev "$dev"
	ip link set "$dev" up
	t_check "pr0's $dev pings the peer" busybox ping -c 3 -W 5 10.78.0.2
	ip link set "$dev" address $MAC
	t_check "its MAC change reaches the NIC (control queue, relayed)" \
		wait_for 5 vp_nic_is dut0 main-mac $MAC
else
	t_fail "virtio_net makes an interface of pr0"
fi
t_check "vdpa dev del pr0" vdpa dev del pr0

# A function that bypasses the IOMMU (no ACCESS_PLATFORM: the two-pair
# one, on host taps where the host could make them) in a translating
# domain: virtio_vdpa gives it physical addresses, and so must the relay
# and the adapter's own control queue.
if [ -e "/sys/bus/pci/devices/$VP_MQ" ]; then
	group=$(basename "$(readlink "/sys/bus/pci/devices/$VP_MQ/iommu_group")")
	t_check "$VP_MQ's IOMMU group translates the kernel's DMA (type DMA)" \
		bash -c "echo $VP_MQ >/sys/bus/pci/devices/$VP_MQ/driver/unbind &&
			 echo DMA >/sys/kernel/iommu_groups/$group/type"
	t_check "$VP_MQ (no ACCESS_PLATFORM) moves to $VP_ADAPTER" \
		vp_bind $VP_MQ $VP_ADAPTER
	t_check "vdpa dev add pb0 (mac $MAC)" \
		vdpa dev add name pb0 mgmtdev "pci/$VP_MQ" mac $MAC
	if wait_for 10 netdev_of pb0; then
		dev=$(netdev_of pb0)
		peer2=$(vp_peer_up $VP_MQ_PEER 10.78.2.2/24)
		no_ipv6 "$dev"
		ip addr add 10.78.2.1/24 dev "$dev"
		ip link set "$dev" up
		t_check "pb0's $dev pings the peer" \
			busybox ping -c 3 -W 5 10.78.2.2
		t_check "QEMU: the NIC has the provisioned MAC" \
			vp_nic_is dut2 main-mac $MAC
		ip link set "$dev" promisc on
		t_check "promiscuous mode reaches the NIC (relayed)" \
			wait_for 5 vp_nic_is dut2 promiscuous true
		vp_peer_down "$peer2"
	else
		t_fail "virtio_net makes an interface of pb0"
	fi
	t_check "vdpa dev del pb0" vdpa dev del pb0
	vp_bind $VP_MQ virtio-pci
fi
modprobe -r virtio_vdpa

t_check "$VP_MODERN back to virtio-pci" vp_bind $VP_MODERN virtio-pci
if wait_for 10 vp_netdev_at $VP_MODERN; then
	dev=$(vp_netdev_at $VP_MODERN)
	no_ipv6 "$dev"
	ip addr add 10.78.0.1/24 dev "$dev"
	ip link set "$dev" up
	t_check "virtio-pci's $dev pings the peer through the IOMMU" \
		busybox ping -c 3 -W 5 10.78.0.2
else
	t_fail "virtio-pci makes an interface of it again"
fi
t_done
