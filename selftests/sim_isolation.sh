#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The simulators reach only memory someone mapped.  A vhost-vdpa user that
# maps nothing, or only its rings, and points descriptors at other memory
# (by IOVA and by physical address) gets nothing from it and writes nothing
# to it; a new opener cannot reach the memory a previous user mapped.
# vhost-vdpa empties every address space at open and at each reset, so the
# identity map the simulator installs for kernel drivers never reaches a
# user.  The kernel virtio path (virtio_vdpa) still moves data.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vhost_vdpa_lib.sh"

PROBE=$TOOLS/bin/sim-isolation-probe
DEVNAME=iso0
BLKNAME=isob0

vv_require vdpa cmp "$PROBE"
[ "$(id -u)" -eq 0 ] || t_skip_all "needs root (physical addresses)"

cleanup() {
	rm -f /tmp/sim_isolation.$$.*
	vdpa_dev_exists "$BLKNAME" && vdpa dev del "$BLKNAME"
	[ -d /sys/module/virtio_vdpa ] && rmmod virtio_vdpa
	vv_unload
}
trap cleanup EXIT

# Kernel log lines since the mark that are more than a ratelimited error.
mark=$(dmesg | wc -l)
dmesg_since() {
	dmesg | tail -n +$((mark + 1))
}

# --- vhost-vdpa: a malicious ring writer -----------------------------------

t_check "load vhost_vdpa and the simulators" vv_load
NODE=$(vv_add "$DEVNAME" vdpasim_net)
if [ -z "$NODE" ]; then
	t_fail "vdpa dev add $DEVNAME with a vhost-vdpa node"
	t_done
fi
t_ok "vdpa dev add $DEVNAME ($NODE)"

t_check "nothing mapped: rings and buffers by physical address unreachable" \
	"$PROBE" nomap "$NODE"
t_check "rings mapped: buffers outside the map unreachable (IOVA and PA)" \
	"$PROBE" partial "$NODE"
t_check "a new opener cannot reach a previous user's mappings" \
	"$PROBE" reopen "$NODE"
t_check "the device still works for a well-behaved user" \
	"$VV_NET" -Q -n 200 "$NODE"

# (selftests/run.sh fails the test on any kernel report on its own.)
dmesg_since >/tmp/sim_isolation.$$.dmesg
lines=$(wc -l </tmp/sim_isolation.$$.dmesg)
t_diag "$lines kernel log lines during the probes"
t_check "kernel log stays small (ratelimited)" test "$lines" -lt 200
vdpa dev del "$DEVNAME"

# --- virtio_vdpa: the kernel path still works ------------------------------

[ -d /sys/module/vhost_vdpa ] && rmmod vhost_vdpa
t_check "load virtio_vdpa and virtio_blk" \
	bash -c 'modprobe virtio_vdpa && modprobe virtio_blk'
t_check "vdpa dev add $BLKNAME" vdpa dev add name "$BLKNAME" mgmtdev vdpasim_blk
if wait_for 5 disk_of "$BLKNAME"; then
	DISK=$(disk_of "$BLKNAME")
	DEV=/dev/$DISK
	wait_for 5 test -b "$DEV"
	if [ ! -b "$DEV" ]; then
		IFS=: read -r major minor <"/sys/block/$DISK/dev"
		mknod "$DEV" b "$major" "$minor"
	fi
	head -c $((8 << 20)) /dev/urandom >/tmp/sim_isolation.$$.raw
	t_check "virtio_blk writes and reads back 8 MiB" \
		bash -c "dd if=/tmp/sim_isolation.$$.raw of=$DEV bs=256k \
			oflag=direct status=none &&
			 dd if=$DEV of=/tmp/sim_isolation.$$.back bs=64k \
			count=128 iflag=direct status=none &&
			 cmp /tmp/sim_isolation.$$.raw /tmp/sim_isolation.$$.back"
else
	t_fail "a virtio_blk disk appears on $BLKNAME"
fi
t_check "vdpa dev del $BLKNAME" vdpa dev del "$BLKNAME"

t_done
