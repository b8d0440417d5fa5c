#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The README's main job, run inside the test VM by `make demo`: install the
# modules the way an operator would, create a simulated net and block
# device with the unmodified iproute2 vdpa tool, show what users see, hand
# both to the kernel's own virtio drivers (virtio_vdpa), then move the net
# device to vhost_vdpa for a user-space driver.  Then the VM's legacy NIC
# moves from virtio-pci to the virtio-pci adapter and serves the kernel.
# The finale runs one container image, unchanged, on three backends
# (scripts/one-image.sh).
set -e
cd "$(dirname "$0")/.."
tools=$PWD/tools/bin
# wait_for, child_of; vp_* (the VM's emulated NICs): the selftests' helpers.
source selftests/lib.sh
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

section "Bare-metal cloud: a legacy virtio-net PCI NIC as a vDPA device"
# The VM's legacy NIC at $VP_LEGACY sits on a QEMU hub with a peer NIC,
# which stays with virtio-pci in another network namespace (10.80.0.2).
# Its IDs are those of bare-metal clouds' NICs: the built-in quirks apply.
bdf=$VP_LEGACY
step modprobe -a vdpa_virtio_pci virtio_vdpa virtio_net
peer=$(vp_peer_up "$VP_LEGACY_PEER" 10.80.0.2/24)
step readlink "/sys/bus/pci/devices/$bdf/driver"
put vdpa_virtio_pci "/sys/bus/pci/devices/$bdf/driver_override"
put "$bdf" "/sys/bus/pci/devices/$bdf/driver/unbind"
put "$bdf" /sys/bus/pci/drivers_probe
put "" "/sys/bus/pci/devices/$bdf/driver_override"
echo
echo "\$ dmesg | grep '$bdf: legacy'"
dmesg | grep "$bdf: legacy" | tail -n 1
step vdpa mgmtdev show "pci/$bdf"
step vdpa dev add name pci0 mgmtdev "pci/$bdf"
wait_for 10 child_of pci0 net
eth=$(child_of pci0 net)
sysctl -qw "net.ipv6.conf.$eth.disable_ipv6=1"
step ip addr add 10.80.0.1/24 dev "$eth"
step ip link set dev "$eth" up
wait_for 5 grep -qx 1 "/sys/class/net/$eth/carrier"
step ip -br link show dev "$eth"
step busybox ping -c 3 10.80.0.2
step vdpa dev del pci0
vp_cleanup
step readlink "/sys/bus/pci/devices/$bdf/driver"
step modprobe -r virtio_vdpa vdpa_virtio_pci

section "One image everywhere: the same container on three kinds of host"
echo "The commands are Documentation/one-image.rst's, run from there."
scripts/one-image.sh

section "Clean up"
step modprobe -r vhost_vdpa
echo
echo "demo: done"
