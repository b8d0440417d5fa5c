#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The README's main job, run inside the test VM by `make demo`: install the
# modules the way an operator would, create a simulated net and block
# device with the unmodified iproute2 vdpa tool, show what users see, hand
# both to the kernel's own virtio drivers (virtio_vdpa), then move the net
# device to vhost_vdpa for a user-space driver.  Then a NIC of the VM moves
# from virtio-pci to the virtio-pci adapter and serves the kernel, then
# dpdk-testpmd behind the IOMMU.
set -e
cd "$(dirname "$0")/.."
tools=$PWD/tools/bin
# wait_for, child_of; vv_node, vv_hugepages, vv_testpmd_*; vp_* (the
# VM's emulated NICs): the selftests' helpers.
source selftests/lib.sh
source selftests/vhost_vdpa_lib.sh
source selftests/virtio_pci_lib.sh

step() {
	echo
	echo "\$ $*"
	"$@"
}

# put VALUE FILE: write a sysfs file, showing it like a step.
put() {
	echo
	echo "\$ echo $1 > $2"
	echo "$1" >"$2"
}

section() {
	echo
	echo "=== $*"
}

if ! make -s modules_install >/tmp/install.log 2>&1; then
	cat /tmp/install.log
	exit 1
fi

section "Management: the vdpa tool and the simulated devices"
step modprobe vdpa_sim_net
step modprobe vdpa_sim_blk
step vdpa mgmtdev show
step vdpa dev add name net0 mgmtdev vdpasim_net mac 02:00:00:00:00:01 mtu 1500 max_vqp 2
step vdpa dev add name blk0 mgmtdev vdpasim_blk
step vdpa dev show
step vdpa dev config show
step ls /sys/bus/vdpa/devices

section "Kernel mode: virtio_vdpa gives a netdev and a disk"
step modprobe -a virtio_vdpa virtio_net virtio_blk ext4
wait_for 5 child_of net0 net
wait_for 5 child_of blk0 block
eth=$(child_of net0 net)
disk=$(child_of blk0 block)
sysctl -qw "net.ipv6.conf.$eth.disable_ipv6=1"
step ip link set dev "$eth" up
wait_for 5 grep -qx 1 "/sys/class/net/$eth/carrier"
step ip -br link show dev "$eth"
step ethtool -l "$eth"
step "$tools/rawloop" -i "$eth" -c 1000 -s 1000 -p random
step ip -s link show dev "$eth"
step lsblk -o NAME,SIZE,TYPE "/dev/$disk"
step mkfs.ext4 -q "/dev/$disk"
mkdir -p /tmp/demo-mnt
step mount "/dev/$disk" /tmp/demo-mnt
step cp -r Documentation /tmp/demo-mnt/
step umount /tmp/demo-mnt
step fsck.ext4 -n "/dev/$disk"

section "User-space mode: move net0 to vhost_vdpa"
step modprobe vhost_vdpa
put vhost_vdpa /sys/bus/vdpa/devices/net0/driver_override
put net0 /sys/bus/vdpa/drivers/virtio_vdpa/unbind
put net0 /sys/bus/vdpa/drivers_probe
step readlink /sys/bus/vdpa/devices/net0/driver
cdev=$(find /sys/bus/vdpa/devices/net0/ -maxdepth 2 -name 'vhost-vdpa-*' \
	-printf '/dev/%f\n')
step ls -l "$cdev"
step "$tools/vhost-vdpa-net" -n 10000 -s 1500 -b "$cdev"

step vdpa dev del net0
step vdpa dev del blk0
step modprobe -r vdpa_sim_net vdpa_sim_blk

section "Bare-metal cloud: a virtio-net PCI NIC as a vDPA device"
# The VM's NIC at $VP_MODERN sits on a QEMU hub with a peer NIC, which
# stays with virtio-pci in another network namespace (10.80.0.2).
bdf=$VP_MODERN
step modprobe -a vdpa_virtio_pci virtio_vdpa virtio_net
peer=$(vp_peer_up "$VP_MODERN_PEER" 10.80.0.2/24)
step readlink "/sys/bus/pci/devices/$bdf/driver"
put vdpa_virtio_pci "/sys/bus/pci/devices/$bdf/driver_override"
put "$bdf" "/sys/bus/pci/devices/$bdf/driver/unbind"
put "$bdf" /sys/bus/pci/drivers_probe
put "" "/sys/bus/pci/devices/$bdf/driver_override"
step vdpa mgmtdev show "pci/$bdf"
step vdpa dev add name pci0 mgmtdev "pci/$bdf" mtu 1400
wait_for 10 child_of pci0 net
eth=$(child_of pci0 net)
sysctl -qw "net.ipv6.conf.$eth.disable_ipv6=1"
step ip addr add 10.80.0.1/24 dev "$eth"
step ip link set dev "$eth" up
step ip -br link show dev "$eth"
step busybox ping -c 3 10.80.0.2

echo
echo "Now testpmd on /dev/vhost-vdpa-N returns every frame the peer sends"
echo "(the function's DMA goes through the IOMMU, in a domain of testpmd's)."
put vhost_vdpa /sys/bus/vdpa/devices/pci0/driver_override
put pci0 /sys/bus/vdpa/drivers/virtio_vdpa/unbind
put pci0 /sys/bus/vdpa/drivers_probe
cdev=$(vv_node pci0)
vv_hugepages
ulimit -l unlimited
echo
echo "\$ dpdk-testpmd -l 0-1 --no-pci --iova-mode=va --vdev=net_virtio_user0,path=$cdev,queues=1,queue_size=256 -- -i"
vv_testpmd_start "$cdev" 1 /tmp/demo-testpmd.log
echo "testpmd> set fwd io" && echo "set fwd io" >&7
echo "testpmd> start" && echo "start" >&7
step ip netns exec "$VP_NS" "$tools/rawloop" -i "$peer" -c 1000 -s 1000 -p random
vv_testpmd_stop
grep -E "RX-packets|TX-packets" /tmp/demo-testpmd.log | head -n 2
step vdpa dev del pci0
vp_cleanup
step readlink "/sys/bus/pci/devices/$bdf/driver"
echo 0 >/proc/sys/vm/nr_hugepages

section "Clean up"
step modprobe -r vhost_vdpa virtio_vdpa vdpa_virtio_pci
echo
echo "demo: done"
