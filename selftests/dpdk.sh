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
echo 256 >/proc/sys/vm/nr_hugepages
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 128 ] ||
	t_skip_all "cannot reserve 256 MiB of huge pages"
net=$(vv_add vvd0 vdpasim_net max_vqp 2) && t_ok "net device ($net)" ||
	t_fail "net device"

# testpmd_run QUEUES SECONDS: io forwarding after a first burst; prints
# testpmd's output.  virtio-user puts virtual addresses in the rings, so
# the IOVAs it maps must be virtual addresses too: --iova-mode=va.
testpmd_run() {
	local q=$1 secs=$2

	{
		sleep 15
		echo "set fwd io"
		echo "start tx_first"
		sleep "$secs"
		echo "stop"
		sleep 2
		echo "show port stats 0"
		sleep 1
		echo "quit"
	} | timeout 300 dpdk-testpmd -l 0-1 --no-pci --iova-mode=va \
		--file-prefix=vvdpdk \
		--vdev="net_virtio_user0,path=$net,queues=$q,queue_size=256" \
		-- -i --nb-cores=1 --rxq="$q" --txq="$q" \
		--total-num-mbufs=8192 2>&1
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
# Two queue pairs do not come up yet: DPDK 22.11's virtio-user negotiates
# without MQ and then fails VHOST_SET_VRING_NUM on queue 3 (tracked in
# the issue notes).  Reported, not asserted.
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
