#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The README's main job, run inside the test VM by `make demo`: install the
# modules the way an operator would, create a simulated net and block
# device with the unmodified iproute2 vdpa tool, show what users see, hand
# both to the kernel's own virtio drivers (virtio_vdpa), then move the net
# device to vhost_vdpa for a user-space driver.
set -e
cd "$(dirname "$0")/.."
tools=$PWD/tools/bin

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

# wait_for CMD...: up to 5 s for CMD to succeed (devices appear
# asynchronously after a bind).
wait_for() {
	local i

	for ((i = 0; i < 50; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# child VDPA_DEV CLASS: the net or block device on top of a vDPA device.
child() {
	local d

	for d in /sys/bus/vdpa/devices/"$1"/virtio*/"$2"/*; do
		[ -e "$d" ] && { basename "$d"; return 0; }
	done
	return 1
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
wait_for child net0 net
wait_for child blk0 block
eth=$(child net0 net)
disk=$(child blk0 block)
sysctl -qw "net.ipv6.conf.$eth.disable_ipv6=1"
step ip link set dev "$eth" up
wait_for grep -qx 1 "/sys/class/net/$eth/carrier"
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

section "Clean up"
step vdpa dev del net0
step vdpa dev del blk0
step modprobe -r vhost_vdpa virtio_vdpa vdpa_sim_net vdpa_sim_blk
echo
echo "demo: done"
