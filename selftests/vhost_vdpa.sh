#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vhost_vdpa's character device: every ioctl with good and bad input on a
# net and a block simulator, IOTLB errors, RLIMIT_MEMLOCK, exclusive open,
# the device deleted or unbound while a process holds it, minor reuse,
# module unload with devices bound, no pinned page left behind, and what
# an open costs per virtqueue.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vhost_vdpa_lib.sh"

vv_require vdpa prlimit "$VV_IOCTL"
trap vv_unload EXIT
ulimit -l unlimited

pins0=$(vv_pins)
t_check "load vhost_vdpa and the simulators" vv_load
t_check "class vhost-vdpa exists" test -d /sys/class/vhost-vdpa

net=$(vv_add vvn0 vdpasim_net) && t_ok "net device gets a node ($net)" ||
	t_fail "net device gets a node"
blk=$(vv_add vvb0 vdpasim_blk) && t_ok "blk device gets a node ($blk)" ||
	t_fail "blk device gets a node"
t_eq "vvn0 bound to vhost_vdpa" \
	"$(basename "$(readlink /sys/bus/vdpa/devices/vvn0/driver)")" vhost_vdpa

t_diag "ioctl edge cases on $net (net)"
vv_tap "$VV_IOCTL" edge "$net"
t_diag "ioctl edge cases on $blk (blk)"
vv_tap "$VV_IOCTL" edge "$blk"

t_diag "RLIMIT_MEMLOCK of 4 MiB"
mark=$(kmsg_mark)
vv_tap prlimit --memlock=4194304:4194304 "$VV_IOCTL" memlock "$net"
kmsg_since "$mark" | grep -q "RLIMIT_MEMLOCK" &&
	t_ok "the memlock refusal is logged, naming RLIMIT_MEMLOCK" ||
	t_fail "the memlock refusal is logged, naming RLIMIT_MEMLOCK"

# Delete the device while a process has it open and running: deletion
# does not wait for the process, which then sees -ENODEV everywhere.
hold_removed() {
	local what=$1 node=$2 pid out
	local fifo=/tmp/vv-hold.$$

	rm -f "$fifo" && mkfifo "$fifo"
	out=/tmp/vv-hold.out.$$
	"$VV_IOCTL" hold "$node" 16 <"$fifo" >"$out" 2>&1 &
	pid=$!
	exec 7>"$fifo"
	for _ in $(seq 100); do
		grep -q '^ready' "$out" && break
		sleep 0.1
	done
	grep -q '^ready' "$out" && t_ok "$what: holder started" ||
		t_fail "$what: holder started"
	shift 2
	if timeout 30 "$@"; then
		t_ok "$what: returns while the device is open"
	else
		t_fail "$what: returns while the device is open"
	fi
	t_check "$what: node $node is gone" test ! -e "$node"
	echo go >&7
	exec 7>&-
	vv_wait_gone "$pid" 30
	vv_tap cat "$out"
	rm -f "$fifo" "$out"
}

hold_removed "vdpa dev del" "$net" vdpa dev del vvn0

# A new device reuses the freed minor.
net2=$(vv_add vvn1 vdpasim_net)
t_eq "new device reuses ${net##*/}" "$net2" "$net"

hold_removed "unbind through sysfs" "$net2" \
	sh -c 'echo vvn1 >/sys/bus/vdpa/drivers/vhost_vdpa/unbind'
t_check "bind again through sysfs" \
	sh -c 'echo vvn1 >/sys/bus/vdpa/drivers/vhost_vdpa/bind'
net2=$(vv_node vvn1) && t_ok "rebound device has a node ($net2)" ||
	t_fail "rebound device has a node"
vv_tap "$VV_IOCTL" edge "$net2"

# Unloading the driver with devices bound unbinds them; loading binds again.
t_check "rmmod vhost_vdpa with two devices bound" rmmod vhost_vdpa
t_check "no vhost-vdpa nodes left" \
	sh -c '! ls /dev/vhost-vdpa-* 2>/dev/null | grep -q .'
t_check "modprobe vhost_vdpa again" modprobe vhost_vdpa
t_check "vvn1 bound again" vv_node vvn1
t_check "vvb0 bound again" vv_node vvb0

# rmmod is refused while a file is open.
sleep 60 | "$VV_IOCTL" pin "$(vv_node vvb0)" 1 >/dev/null 2>&1 &
pid=$!
sleep 1
t_refuse "rmmod vhost_vdpa while a device is open" "in use" rmmod vhost_vdpa
kill "$pid"
wait "$pid" 2>/dev/null

t_check "delete the devices" sh -c 'vdpa dev del vvn1 && vdpa dev del vvb0'

# What an open costs per virtqueue: a net device of 256 pairs has 513
# queues, each with a few hundred bytes of state in vhost_vdpa (not a
# 18 KiB vhost_virtqueue plus 16 KiB of iovecs).  Kernel memory is slab
# plus vmalloc, after dropping caches.
kernel_kib() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	awk '/^(Slab|VmallocUsed):/ { n += $2 } END { print n }' /proc/meminfo
}

t_check "reload vdpa_sim_net with max_vqp=256" \
	sh -c 'rmmod vdpa_sim_net && modprobe vdpa_sim_net max_vqp=256'
fp=$(vv_add vvfp vdpasim_net max_vqp 256) &&
	t_ok "net device of 256 pairs gets a node ($fp)" ||
	t_fail "net device of 256 pairs gets a node"
before=$(kernel_kib)
exec 5<>"$fp"
after=$(kernel_kib)
exec 5>&-
per_queue=$(((after - before) * 1024 / 513))
t_diag "open with 513 queues: $((after - before)) KiB more, $per_queue bytes per queue"
t_check "an open costs under 2 KiB per queue" test "$per_queue" -lt 2048
t_check "delete vvfp" vdpa dev del vvfp
t_check "rmmod vhost_vdpa" rmmod vhost_vdpa
t_eq "no pages left pinned" "$(vv_pins)" "$pins0"
t_done
