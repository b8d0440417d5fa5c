#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vhost-vdpa throughput, run inside the test VM by scripts/bench.sh.
#
# Two vdpasim_net devices: one driven by tools/bin/vhost-vdpa-net, one by
# dpdk-testpmd (virtio-user PMD).  The simulator loops every TX frame back
# to RX, so a frame is counted once it has made the whole round trip.
#
# testpmd runs once per frame size, in io forwarding mode after
# "set txpkts SIZE" and "start tx_first": the first burst of SIZE-byte
# frames then circulates (the loopback returns it, io forwarding sends it
# again).  One measurement is the Rx-pps that "show port stats 0" reports
# over a BENCH_SECS window (testpmd times it itself).  Between two windows
# forwarding is stopped and vhost-vdpa-net runs for BENCH_SECS on the other
# device, so both clients are measured side by side, alternating, in the
# same session.  Every window begins with "start tx_first": testpmd first
# drops what waits in its RX queue, then sends a new first burst, so each
# window has the same frames in flight.
#
# Environment: BENCH_RUNS (5) runs per figure, BENCH_SECS (3) seconds per
# run, BENCH_SIZES ("64 1500") frame sizes in bytes, BENCH_TXFIRST (1)
# bursts of 32 frames testpmd puts in flight.
#
# Output: progress lines, then one line "BENCH-JSON {...}" with every
# sample and per (client, size) median/min/max pps and bit/s.  Exit status
# 0 when every measurement worked, 1 otherwise.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=$TOP/tools
# vv_node: the selftests' lookup of a device's /dev/vhost-vdpa-N node.
source "$TOP/selftests/vhost_vdpa_lib.sh"
# say, stats and the tp_* testpmd driver.
source "$TOP/scripts/bench-lib.sh"
VVNET=$TOP/tools/bin/vhost-vdpa-net
RUNS=${BENCH_RUNS:-5}
SECS=${BENCH_SECS:-3}
SIZES=${BENCH_SIZES:-64 1500}
TXFIRST=${BENCH_TXFIRST:-1}
WARMUP=1
tmp=$(mktemp -d)
tp_pid=
failed=0

positive() {
	case $2 in
	'' | *[!0-9]*) say "$1 must be a positive integer, not '$2'"; exit 2 ;;
	esac
	[ "$2" -gt 0 ] || { say "$1 must be positive"; exit 2; }
}

# Runs from the EXIT trap.
# shellcheck disable=SC2317
cleanup() {
	local d

	exec 7>&- 2>/dev/null
	if [ -n "$tp_pid" ] && kill -0 "$tp_pid" 2>/dev/null; then
		kill "$tp_pid" 2>/dev/null
		wait "$tp_pid" 2>/dev/null
	fi
	for d in /sys/bus/vdpa/devices/bench-*; do
		[ -e "$d" ] && vdpa dev del "$(basename "$d")"
	done
	for d in vhost_vdpa vdpa_sim_net vdpa_swdev vdpa vringh vhost; do
		[ -d "/sys/module/$d" ] && rmmod "$d" 2>/dev/null
	done
	echo 0 >/proc/sys/vm/nr_hugepages
	rm -rf "$tmp"
}



# tp_window: one measurement; prints the Rx-pps of a SECS window.
tp_window() {
	local pps

	tp_cmd "show port stats 0" || return 1
	sleep "$SECS"
	tp_cmd "show port stats 0" || return 1
	pps=$(sed -n 's/.*Rx-pps: *\([0-9]*\).*/\1/p' "$tmp/tp.last" | tail -n 1)
	[ -n "$pps" ] || { say "testpmd: no Rx-pps in its output"; return 1; }
	[ "$pps" -gt 0 ] || { say "testpmd: no frames came back"; return 1; }
	echo "$pps"
}

# frame_bytes: RX bytes per RX packet so far (checks txpkts took effect).
frame_bytes() {
	awk '/RX-packets:/ && /RX-bytes:/ {
		for (i = 1; i < NF; i++) {
			if ($i == "RX-packets:") p = $(i + 1)
			if ($i == "RX-bytes:") b = $(i + 1)
		}
	} END { if (p > 0) printf "%.1f\n", b / p }' "$tmp/tp.last"
}

# --- vhost-vdpa-net ----------------------------------------------------

# vv_run SIZE: one run; prints its pps.
vv_run() {
	local out

	out=$("$VVNET" -s "$1" -d "$SECS" -j "$vvdev" 2>"$tmp/vv.err") || {
		say "vhost-vdpa-net -s $1 failed ($?):"
		sed 's/^/bench:   /' "$tmp/vv.err"
		return 1
	}
	jq -er 'select(.bad == 0) | .pps' <<<"$out" || {
		say "vhost-vdpa-net: unexpected result $out"
		return 1
	}
}

# --- one frame size ----------------------------------------------------

# bench_size SIZE: BENCH_RUNS alternating runs of both clients.
bench_size() {
	local size=$1 r v tp_ok=0 bytes

	: >"$tmp/vv-$size"
	: >"$tmp/tp-$size"
	if [ "$have_tp" = 1 ] && tp_start "$tpdev" &&
	   tp_cmd "set fwd io" && tp_cmd "set txpkts $size" &&
	   tp_cmd "start tx_first $TXFIRST"; then
		tp_ok=1
	elif [ "$have_tp" = 1 ]; then
		failed=1
	fi
	for r in $(seq 1 "$RUNS"); do
		if [ "$tp_ok" = 1 ]; then
			[ "$r" -gt 1 ] && tp_cmd "start tx_first $TXFIRST"
			sleep "$WARMUP"
			if v=$(tp_window); then
				echo "$v" >>"$tmp/tp-$size"
				bytes=$(frame_bytes)
				say "testpmd        ${size} B run $r: $v pps (RX bytes/packet $bytes)"
				tp_cmd stop >/dev/null
			else
				tp_ok=0
				failed=1
			fi
		fi
		if v=$(vv_run "$size"); then
			echo "$v" >>"$tmp/vv-$size"
			say "vhost-vdpa-net ${size} B run $r: $v pps"
		else
			failed=1
		fi
	done
	if [ -n "$tp_pid" ]; then
		tp_quit || { say "testpmd exited with status $?"; failed=1; }
	fi
}

# result CLIENT SIZE FILE: one JSON object for a (client, size) pair.
result() {
	local med min max

	read -r med min max <<<"$(stats "$3")"
	jq -cn --arg client "$1" --argjson size "$2" --argjson med "$med" \
		--argjson min "$min" --argjson max "$max" \
		--argjson samples "$(jq -cs . "$3")" '{
		client: $client, frame_bytes: $size, runs: ($samples | length),
		pps: { median: $med, min: $min, max: $max },
		bps: { median: (if $med then $med * $size * 8 else null end),
		       min: (if $min then $min * $size * 8 else null end),
		       max: (if $max then $max * $size * 8 else null end) },
		samples_pps: $samples }'
}

positive BENCH_RUNS "$RUNS"
positive BENCH_SECS "$SECS"
positive BENCH_TXFIRST "$TXFIRST"
sizes_ok 60 2000 || exit 2
command -v jq >/dev/null || { say "jq is needed"; exit 2; }
[ -x "$VVNET" ] || { say "$VVNET missing (make tools)"; exit 2; }
trap cleanup EXIT
ulimit -l unlimited

make -s -C "$TOP" modules_install >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; say "modules_install failed"; exit 1; }
[ -d /sys/module/virtio_vdpa ] && rmmod virtio_vdpa
if ! modprobe vhost_vdpa || ! modprobe vdpa_sim_net; then
	say "modprobe failed"
	exit 1
fi
if ! vdpa dev add name bench-vv mgmtdev vdpasim_net ||
   ! vvdev=$(vv_node bench-vv); then
	say "cannot create the device for vhost-vdpa-net"
	exit 1
fi
have_tp=0
if ! command -v dpdk-testpmd >/dev/null; then
	say "dpdk-testpmd not installed: testpmd skipped (scripts/deps.sh)"
else
	if ! vv_hugepages; then
		say "cannot reserve huge pages: testpmd skipped"
		failed=1
	elif vdpa dev add name bench-tp mgmtdev vdpasim_net &&
	     tpdev=$(vv_node bench-tp); then
		have_tp=1
	else
		say "cannot create the device for testpmd"
		failed=1
	fi
fi
say "$RUNS runs of ${SECS} s per client and frame size; vhost-vdpa-net on $vvdev${tpdev:+, testpmd on $tpdev}"

for s in $SIZES; do
	bench_size "$s"
done

objs=()
for s in $SIZES; do
	objs+=("$(result vhost-vdpa-net "$s" "$tmp/vv-$s")")
	[ "$have_tp" = 1 ] && objs+=("$(result testpmd "$s" "$tmp/tp-$s")")
done
printf 'BENCH-JSON '
printf '%s\n' "${objs[@]}" | jq -cs --arg kernel "$(uname -r)" \
	--arg cpu "$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n 1)" \
	--argjson nproc "$(nproc)" --argjson runs "$RUNS" \
	--argjson secs "$SECS" --argjson txfirst "$TXFIRST" \
	--argjson failed "$failed" '{
	kernel: $kernel, guest_cpu: $cpu, guest_nproc: $nproc,
	runs: $runs, seconds_per_run: $secs, ok: ($failed == 0),
	device: "vdpasim_net (loopback: pps = frames that made the TX->RX round trip)",
	bps_counts: "frame bytes * 8 (no virtio-net header, FCS, preamble or gap)",
	clients: {
		"vhost-vdpa-net": "tools/bin/vhost-vdpa-net -d SECS -s SIZE: up to 256 frames in flight, writes and checks every payload byte",
		testpmd: ("dpdk-testpmd virtio-user queues=1 queue_size=256, fwd io, set txpkts SIZE, start tx_first \($txfirst) (\($txfirst * 32) frames in flight), Rx-pps of show port stats over SECS")
	},
	results: .
}'
exit "$failed"
