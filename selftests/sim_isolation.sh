#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The simulators reach only memory someone mapped.  A vhost-vdpa user that
# maps nothing, or only its rings, and points descriptors at other memory
# (by IOVA and by physical address) gets nothing from it and writes nothing
# to it; a new opener cannot reach the memory a previous user mapped.
# A reset leaves nothing mapped unless the device is bound to virtio_vdpa,
# also for a parent with only dma_map/dma_unmap (map_ops=dma), where no
# set_map overwrites the address spaces.  An unmap waits for copies in
# flight.  A used ring the device cannot write stops it with NEEDS_RESET and
# a message naming device, queue and address, instead of a datapath thread
# spinning forever.  An unmapped ring or buffer on vhost-vdpa names DPDK's
# --iova-mode=va when its address is a user address the same user mapped
# at another IOVA (set_map and dma_map parents), and only then.  The kernel
# virtio path (virtio_vdpa) still moves data.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vhost_vdpa_lib.sh"

PROBE=$TOOLS/bin/sim-isolation-probe
DEVNAME=iso0
BLKNAME=isob0

vv_require vdpa cmp "$PROBE"
[ "$(id -u)" -eq 0 ] || t_skip_all "needs root (physical addresses)"

cleanup() {
	[ -n "${hugepages:-}" ] && echo 0 >/proc/sys/vm/nr_hugepages
	rm -f /tmp/sim_isolation.$$.*
	vdpa_dev_exists "$BLKNAME" && vdpa dev del "$BLKNAME"
	[ -d /sys/module/virtio_vdpa ] && rmmod virtio_vdpa
	vv_unload
}
trap cleanup EXIT

# Kernel log lines since the mark that are more than a ratelimited error.
mark=$(kmsg_mark)
dmesg_since() {
	kmsg_since "$mark"
}

# logged_since MARK PATTERN: a kernel message after MARK matches PATTERN.
logged_since() {
	kmsg_since "$1" | grep -qE -- "$2"
}

# What a fault line adds when its address is not mapped but is a user
# address mapped at another IOVA.
HINT="; it is a user address mapped at another IOVA: DPDK 22.11 virtio-user needs --iova-mode=va"

# fresh_mark: a kmsg_mark after the fault line's rate limit (5 s window,
# burst 10) has surely started a new window, so that earlier steps' lines
# suppress none of the next step's.
fresh_mark() {
	sleep 5
	kmsg_mark
}

# buffer_faults MARK: the lines of unreachable buffers of $DEVNAME after
# MARK.
buffer_faults() {
	kmsg_since "$1" | grep -E -- \
		"$DEVNAME: virtqueue [0-9]+: buffer at iova 0x[0-9a-f]+ not reachable"
}

# faults_at MARK PART ADDR: there are fault lines of $DEVNAME after MARK,
# and each names PART at ADDR (regular expressions).
faults_at() {
	local lines

	lines=$(kmsg_since "$1" | grep -E -- \
		"$DEVNAME: virtqueue [0-9]+: .* at iova 0x[0-9a-f]+ not reachable")
	echo "$lines"
	[ -n "$lines" ] &&
		! grep -vqE -- "virtqueue [0-9]+: $2 at iova $3 not reachable" <<<"$lines"
}

# unhinted_at MARK PART ADDR: faults_at, and no line has the DPDK hint.
unhinted_at() {
	local lines

	lines=$(faults_at "$@") || { echo "$lines"; return 1; }
	echo "$lines"
	! grep -qF -- "--iova-mode" <<<"$lines"
}

# hinted MARK N: at least N buffer lines after MARK, each with the hint.
hinted() {
	local lines

	lines=$(buffer_faults "$1")
	echo "$lines"
	[ "$(grep -c . <<<"$lines")" -ge "$2" ] &&
		! grep -vqF -- "$HINT" <<<"$lines"
}

# --- vhost-vdpa: a malicious ring writer -----------------------------------

t_check "load vhost_vdpa and the simulators" vv_load
NODE=$(vv_add "$DEVNAME" vdpasim_net)
if [ -z "$NODE" ]; then
	t_fail "vdpa dev add $DEVNAME with a vhost-vdpa node"
	t_done
fi
t_ok "vdpa dev add $DEVNAME ($NODE)"

mark3=$(fresh_mark)
t_check "nothing mapped: rings and buffers by physical address unreachable" \
	"$PROBE" nomap "$NODE"
t_check "nothing mapped: the fault names the avail ring, not a buffer" \
	faults_at "$mark3" "avail ring" "0x[0-9a-f]+"
t_check "rings mapped: buffers outside the map unreachable (IOVA and PA)" \
	"$PROBE" partial "$NODE"
t_check "a new opener cannot reach a previous user's mappings" \
	"$PROBE" reopen "$NODE"
t_check "the device still works for a well-behaved user" \
	"$VV_NET" -Q -n 200 "$NODE"

# Contract B: once an unmap returns, the device no longer copies from the
# old pages (the debug kernel's KASAN sees a late copy; here a frame read
# from freed, reused memory would come back corrupt).
t_check "TX buffers moved every 4 frames in flight: every frame intact" \
	"$VV_NET" -Q -R 4 -n 3000 "$NODE"

# A used ring the device may not write: NEEDS_RESET, no spinning thread.
# It is mapped (read-only) where its user address is: no DPDK hint.
mark3=$(fresh_mark)
t_check "read-only used ring: NEEDS_RESET and an idle datapath thread" \
	"$PROBE" roused "$NODE" "vdpa-sw-$DEVNAME"
t_check "the fault names device, queue, used ring and address, without the DPDK hint" \
	unhinted_at "$mark3" "used ring" "0x[0-9a-f]+"
t_check "the device works again after a reset" "$VV_NET" -Q -n 200 "$NODE"

# A buffer at an address that no range covers, as IOVA or as user address:
# the fault line must not blame DPDK's IOVA mode.
mark3=$(fresh_mark)
t_check "stray: a TX frame at an address nobody mapped: NEEDS_RESET" \
	"$PROBE" stray "$NODE"
t_check "stray: the fault names the address, without the DPDK hint" \
	unhinted_at "$mark3" buffer "0x5a5a50[0-9a-f]{2}"

# The descriptor table where nothing is mapped: the line says so.
mark3=$(fresh_mark)
t_check "desctab: a TX descriptor table nobody mapped: NEEDS_RESET" \
	"$PROBE" desctab "$NODE"
t_check "desctab: the fault names the descriptor table and its address" \
	faults_at "$mark3" "descriptor table" "0x5a5a5000"

# DPDK 22.11's mistake: buffers mapped at IOVAs, descriptors holding their
# virtual addresses.  The fault says what to do.
mark3=$(fresh_mark)
t_check "pamode: TX frames at the virtual addresses of buffers mapped elsewhere: NEEDS_RESET" \
	"$PROBE" pamode "$NODE"
t_check "pamode: both faults say --iova-mode=va is needed" \
	hinted "$mark3" 2

# DPDK 22.11's default IOVA mode as root maps physical addresses but puts
# virtual ones in the descriptors: the fault must say what to do.
testpmd_pa() {
	local log=/tmp/sim_isolation.$$.testpmd fifo=/tmp/sim_isolation.$$.in pid

	mkfifo "$fifo"
	timeout 300 stdbuf -oL dpdk-testpmd -l 0-1 --no-pci \
		--file-prefix=simiso \
		--vdev="net_virtio_user0,path=$NODE,queues=1,queue_size=256" \
		-- -i --nb-cores=1 --total-num-mbufs=8192 \
		<"$fifo" >"$log" 2>&1 &
	pid=$!
	exec 7>"$fifo"
	wait_for 120 bash -c "grep -q 'testpmd>' $log || ! kill -0 $pid"
	if grep -q "testpmd>" "$log"; then
		echo "start tx_first" >&7
		sleep 3
		echo "stop" >&7
		sleep 1
		echo "quit" >&7
	fi
	exec 7>&-
	wait "$pid"
	grep -q "testpmd>" "$log"
}
if ! command -v dpdk-testpmd >/dev/null; then
	t_diag "dpdk-testpmd not installed: DPDK IOVA mode hint not checked"
elif ! { ulimit -l unlimited && vv_hugepages; }; then
	t_diag "no huge pages: DPDK IOVA mode hint not checked"
else
	hugepages=1
	mark2=$(fresh_mark)
	t_check "testpmd without --iova-mode starts" testpmd_pa
	t_check "the fault says --iova-mode=va is needed" \
		logged_since "$mark2" \
			"$DEVNAME: virtqueue [0-9]+: .* at iova 0x[0-9a-f]+ not reachable .*$HINT"
	echo 0 >/proc/sys/vm/nr_hugepages
	hugepages=
fi

# (selftests/run.sh fails the test on any kernel report on its own.)
dmesg_since >/tmp/sim_isolation.$$.dmesg
lines=$(wc -l </tmp/sim_isolation.$$.dmesg)
t_diag "$lines kernel log lines during the probes"
t_check "kernel log stays small (ratelimited)" test "$lines" -lt 200
vdpa dev del "$DEVNAME"

# --- a parent with only dma_map/dma_unmap ----------------------------------

vv_unload
t_refuse "map_ops=bogus is refused" "Invalid argument" \
	modprobe vdpa_swdev map_ops=bogus
load_dma() {
	modprobe vdpa_swdev map_ops=dma && vv_load
}
t_check "load vdpa_swdev with map_ops=dma" load_dma
t_eq "map_ops reads back dma" \
	"$(cat /sys/module/vdpa_swdev/parameters/map_ops 2>&1)" dma
NODE=$(vv_add "$DEVNAME" vdpasim_net)
if [ -n "$NODE" ]; then
	t_check "map_ops=dma: nothing mapped, physical addresses unreachable" \
		"$PROBE" nomap "$NODE"
	t_check "map_ops=dma: buffers outside the map unreachable" \
		"$PROBE" partial "$NODE"
	t_check "map_ops=dma: a new opener cannot reach old mappings" \
		"$PROBE" reopen "$NODE"
	t_check "map_ops=dma: the device moves frames" \
		"$VV_NET" -Q -n 200 "$NODE"
	t_check "map_ops=dma: TX buffers moved in flight: every frame intact" \
		"$VV_NET" -Q -R 4 -n 3000 "$NODE"
	# dma_map gets the range's opaque too
	mark3=$(fresh_mark)
	t_check "map_ops=dma: pamode: NEEDS_RESET" "$PROBE" pamode "$NODE"
	t_check "map_ops=dma: pamode: both faults say --iova-mode=va is needed" \
		hinted "$mark3" 2
	mark3=$(fresh_mark)
	t_check "map_ops=dma: stray: NEEDS_RESET" "$PROBE" stray "$NODE"
	t_check "map_ops=dma: stray: the fault has no DPDK hint" \
		unhinted_at "$mark3" buffer "0x5a5a50[0-9a-f]{2}"
	vdpa dev del "$DEVNAME"
else
	t_fail "map_ops=dma: vdpa dev add $DEVNAME with a vhost-vdpa node"
fi
vv_unload
modprobe vdpa_sim_blk

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
