#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DPDK's virtio-user PMD on /dev/vhost-vdpa-N over the net simulator:
# dpdk-testpmd in io forwarding mode with a first burst sent, so every
# frame the loopback returns is sent again; the port's RX and TX counters
# must agree up to the frames still in flight.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vhost_vdpa_lib.sh"

vv_require vdpa dpdk-testpmd
trap 'vv_unload; echo 0 >/proc/sys/vm/nr_hugepages' EXIT
ulimit -l unlimited

pins0=$(vv_pins)
t_check "load vhost_vdpa and the simulators" vv_load
vv_hugepages ||
	t_skip_all "cannot reserve 256 MiB of huge pages"
net=$(vv_add vvd0 vdpasim_net max_vqp 2) && t_ok "net device ($net)" ||
	t_fail "net device"

# testpmd_run QUEUES SECONDS: io forwarding for SECONDS after a first
# burst; prints testpmd's output.
testpmd_run() {
	local log=/tmp/testpmd.$$

	if vv_testpmd_start "$net" "$1" "$log"; then
		echo "set fwd io" >&7
		echo "start tx_first" >&7
		sleep "$2"
	fi
	vv_testpmd_stop
	cat "$log"
	rm -f "$log"
}

# field NAME OUT: the first "NAME: N" of the forward statistics.
field() {
	sed -n "s/.*$1: *\([0-9]*\).*/\1/p" <<<"$2" | head -n 1
}

check_run() {
	local q=$1 out rx tx burst

	out=$(testpmd_run "$q" 8)
	rx=$(field RX-packets "$out")
	tx=$(field TX-packets "$out")
	burst=$((32 * q))
	t_diag "$q queue pair(s): RX $rx TX $tx"
	if [ -n "$rx" ] && [ "$rx" -gt 1000 ]; then
		t_ok "$q queue pair(s): frames come back ($rx)"
	else
		t_fail "$q queue pair(s): frames come back"
		printf '%s\n' "$out" | tail -n 40 | sed 's/^/#   /'
	fi
	if [ -n "$tx" ] && [ "$tx" -ge "$rx" ] &&
	   [ $((tx - rx)) -le $((2 * burst)) ]; then
		t_ok "$q queue pair(s): TX - RX = $((tx - rx)), at most the frames in flight"
	else
		t_fail "$q queue pair(s): RX $rx and TX $tx counters agree"
	fi
	grep -q "Bye" <<<"$out" && t_ok "$q queue pair(s): testpmd exits cleanly" ||
		t_fail "$q queue pair(s): testpmd exits cleanly"
}

check_run 1
# One queue pair only: DPDK 22.11's virtio-user clears MQ from the features
# a vhost-vdpa device offers (this one offers it: VHOST_GET_FEATURES has bit
# 22), sets up one pair, then sends queue 3 a ring size that vhost refuses
# (EINVAL from VHOST_SET_VRING_NUM).  The failure is DPDK's; what is ours
# is that the device comes out of it working.
out=$(testpmd_run 2 3)
t_diag "2 queue pairs: $(grep -m1 -E 'Fail|RX-packets' <<<"$out")"
t_check "no NEEDS_RESET afterwards" \
	sh -c "! vdpa -j dev show vvd0 | grep -qi needs_reset"
t_check "the device still carries traffic for the test driver" \
	"$VV_NET" -n 1000 "$net"
t_check "delete the device" vdpa dev del vvd0
t_check "rmmod vhost_vdpa" rmmod vhost_vdpa
t_eq "no pages left pinned" "$(vv_pins)" "$pins0"
t_done
