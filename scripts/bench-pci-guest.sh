#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The virtio-pci adapter against the plain virtio-pci driver on the same
# emulated NIC, run inside the q35 + IOMMU test VM by scripts/bench-pci.sh.
#
# The modern test function (00:10.0) sends to its peer on the same QEMU
# hub (00:11.0, virtio-pci, in another namespace); a frame counts once the
# peer's interface has received it.  Three ways to drive the function,
# alternating round by round in one session:
#   virtio-pci    the kernel's virtio_net through virtio-pci, pktgen
#   virtio_vdpa   virtio_net through the adapter and virtio_vdpa, pktgen
#   testpmd       dpdk-testpmd txonly through the adapter and vhost_vdpa
# A window is BENCH_SECS of sending; pps = frames the peer received per
# second of window; cpu = guest CPU time busy per second (in CPUs).
#
# Environment: BENCH_RUNS (5) rounds, BENCH_SECS (3), BENCH_SIZES ("64
# 1500") frame sizes without FCS.
# Output: progress on stderr, then "BENCH-JSON {...}" with every sample
# and per (driver, size) medians.  Exit status 0 when every measurement
# worked.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=$TOP/tools
source "$TOP/selftests/lib.sh"
source "$TOP/selftests/vhost_vdpa_lib.sh"
source "$TOP/selftests/virtio_pci_lib.sh"
source "$TOP/scripts/bench-lib.sh"
RUNS=${BENCH_RUNS:-5}
SECS=${BENCH_SECS:-3}
SIZES=${BENCH_SIZES:-64 1500}
PEER_IP=10.79.0.2
DRIVERS="virtio-pci virtio_vdpa testpmd"
tmp=$(mktemp -d)
tp_pid=
failed=0

# Runs from the EXIT trap.
# shellcheck disable=SC2317
cleanup() {
	exec 7>&- 2>/dev/null
	[ -n "$tp_pid" ] && kill "$tp_pid" 2>/dev/null && wait "$tp_pid"
	vp_cleanup
	modprobe -r pktgen $VP_ADAPTER vhost_vdpa virtio_vdpa 2>/dev/null
	echo 0 >/proc/sys/vm/nr_hugepages
	rm -rf "$tmp"
}
trap cleanup EXIT

# peer_rx: frames the peer has received (window, in bench-lib.sh, reads it).
peer_rx() {
	ip netns exec "$VP_NS" cat "/sys/class/net/$peer/statistics/rx_packets"
}

# netdev_rounds DRIVER DEV: one window per frame size with pktgen on DEV.
netdev_rounds() {
	local size

	no_ipv6 "$2"
	ip link set "$2" up
	sleep 1
	for size in $SIZES; do
		pg_setup "$2" "$size" "$PEER_IP" "$peer_mac"
		window "$1" "$size" pg_start pg_stop || failed=1
	done
	echo "rem_device_all" >/proc/net/pktgen/kpktgend_0
}

# --- testpmd txonly ------------------------------------------------------

tp_go() {
	tp_cmd start
}

tp_halt() {
	tp_cmd stop >/dev/null
}

testpmd_rounds() {
	local size

	tp_start "$1" || return 1
	tp_cmd "set fwd txonly" &&
		tp_cmd "set eth-peer 0 $peer_mac" || return 1
	for size in $SIZES; do
		tp_cmd "set txpkts $((size - 4))" || return 1
		window testpmd "$size" tp_go tp_halt || failed=1
	done
	tp_quit
}

# round: every driver once, in the order of $DRIVERS.
round() {
	local dev node

	vp_bind $VP_MODERN virtio-pci &&
		wait_for 10 vp_netdev_at $VP_MODERN || return 1
	netdev_rounds virtio-pci "$(vp_netdev_at $VP_MODERN)"

	vp_bind $VP_MODERN $VP_ADAPTER &&
		vdpa dev add name bench0 mgmtdev "pci/$VP_MODERN" || return 1
	wait_for 10 netdev_of bench0 || return 1
	netdev_rounds virtio_vdpa "$(netdev_of bench0)"

	echo vhost_vdpa >/sys/bus/vdpa/devices/bench0/driver_override
	echo bench0 >/sys/bus/vdpa/drivers/virtio_vdpa/unbind
	echo bench0 >/sys/bus/vdpa/drivers_probe
	node=$(vv_node bench0) || return 1
	testpmd_rounds "$node" || failed=1
	vdpa dev del bench0
}

# json: every sample and the medians, one line.
json() {
	local d s f first=1

	printf '{"kernel":"%s","guest_nproc":%s,"seconds_per_run":%s,"runs":%s,"results":[' \
		"$(uname -r)" "$(nproc)" "$SECS" "$RUNS"
	for d in $DRIVERS; do
		for s in $SIZES; do
			f=$tmp/$d-$s
			[ -s "$f" ] || continue
			[ $first ] || printf ','
			first=
			cut -d' ' -f1 "$f" >"$f.pps"
			cut -d' ' -f2 "$f" >"$f.cpu"
			# (no /dev/fd in the VM for a process substitution)
			read -r pm pmin pmax <<<"$(stats "$f.pps")"
			read -r cm _ <<<"$(stats "$f.cpu")"
			printf '{"driver":"%s","frame_bytes":%s,"pps":{"median":%s,"min":%s,"max":%s},"cpu":{"median":%s},"samples":[%s]}' \
				"$d" "$s" "$pm" "$pmin" "$pmax" "$cm" \
				"$(paste -sd, "$f.pps")"
		done
	done
	printf ']}\n'
}

cd "$TOP" || exit 1
make -s modules_install >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; exit 1; }
modprobe -a pktgen virtio_net $VP_ADAPTER virtio_vdpa vhost_vdpa || exit 1
vv_hugepages || { say "cannot reserve huge pages for testpmd"; exit 1; }
peer=$(vp_peer_up $VP_MODERN_PEER "$PEER_IP/24") || exit 1
peer_mac=$(ip netns exec "$VP_NS" cat "/sys/class/net/$peer/address")
ulimit -l unlimited
say "$RUNS rounds of $DRIVERS, ${SECS} s windows, frames of $SIZES bytes, to $peer ($peer_mac)"
for ((r = 1; r <= RUNS; r++)); do
	say "round $r"
	round || { say "round $r failed"; failed=1; }
done
echo "BENCH-JSON $(json)"
exit $failed
