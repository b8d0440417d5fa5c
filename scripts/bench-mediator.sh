#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench, third part: the mediator against the kernel's standard path
# (vhost-net and a tap joined to the lower with tc) and a user-space
# translator (testpmd between vhost-user and AF_PACKET), all three serving
# the same dpdk-testpmd command line in a closed loop through a veth to a
# reflector, in one boot of the test VM (scripts/bench-mediator-guest.sh
# does the work there).  Measures frames/s and bit/s, and the guest CPU
# seconds each million frames cost the whole VM; then pktgen on the
# mediator's virtio_vdpa netdev against the bare veth.  Prints a table
# with ratios mediator/vhost-net and mediator/translator, and saves
# build/bench/mediator-DATE.json and mediator-latest.json.  Nothing is
# asserted about speed: the status is non-zero only when a measurement
# that was not skipped could not be made.
#
# Environment: BENCH_RUNS, BENCH_SECS, BENCH_SIZES, BENCH_TXFIRST,
# BENCH_BACKENDS (see scripts/bench-mediator-guest.sh); BENCH_TIMEOUT
# (900) bounds the VM in seconds; VMFLAGS: extra scripts/vm/run.sh options.
# "scripts/bench-mediator.sh --table FILE" prints the table of a saved
# result.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)

# table FILE: the human-readable form of a result.
table() {
	jq -r '
	def num: if . then (round | tostring) else "-" end;
	def two: if . then ((. * 100 | round) as $n |
		"\($n / 100 | floor).\($n % 100 | tostring |
		  if length < 2 then "0" + . else . end)") else "-" end;
	def mbit: if . then ((. / 1e5 | round) as $n |
		"\($n / 10 | floor).\($n % 10)") else "-" end;
	def pad(n): tostring | (" " * ([n - length, 0] | max)) + .;
	def left(n): tostring | . + " " * ([n - length, 0] | max);
	def row: (.backend | left(17)) + (.frame_bytes | pad(6)) +
		(.pps.median | num | pad(10)) + (.pps.min | num | pad(9)) +
		(.pps.max | num | pad(9)) +
		(.pps.median * .frame_bytes * 8 | mbit | pad(9)) +
		(.cpu.median | two | pad(6)) +
		(.cpu_per_mframe.median | two | pad(10)) +
		(if .cpu_per_mframe.median > 0 then 1e6 / .cpu_per_mframe.median
		 else null end | num | pad(14));
	"mediator, vhost-net and a user-space translator, \(.date), \(.accel) on \(.host_cpu) (\(.host_nproc) CPUs), guest \(.kernel), \(.guest_nproc) vCPUs",
	"closed loop: testpmd (virtio-user, io forwarding, start tx_first \(.txfirst): \(.txfirst * 32) frames in flight) <-> backend <-> veth <-> tc reflector in a netns",
	"pps = frames testpmd received per s; Mbit/s = pps x frame bytes (FCS counted) x 8; cpu = guest CPUs busy (the whole VM);",
	"CPU s/Mf = CPU seconds per million frames; medians of \(.runs) rounds of \(.seconds_per_run) s windows, backends alternating",
	"",
	("backend" | left(17)) + ("frame" | pad(6)) + ("pps" | pad(10)) +
	("min" | pad(9)) + ("max" | pad(9)) + ("Mbit/s" | pad(9)) +
	("cpu" | pad(6)) + ("CPU s/Mf" | pad(10)) + ("frames/CPU-s" | pad(14)),
	(.results[] | select(.kind == "testpmd") | row),
	"",
	(.ratios[] | "mediator / \(.to), \(.frame_bytes) B: pps \(.pps_ratio | two), frames per CPU second \(.fpcs_ratio | two)"),
	"",
	"kernel netdev path: pktgen to the peer (no reflector), frames the peer received:",
	(.results[] | select(.kind == "pktgen") | row),
	(.netdev_ratio | if . then "mediator-netdev / veth: pps \(.pps_ratio | two), frames per CPU second \(.fpcs_ratio | two)" else empty end),
	(.skipped[] | "SKIPPED \(.backend): \(.reason)"),
	(if .ok then empty else "", "SOME MEASUREMENTS FAILED: see the log" end)
	' "$1"
}

# bench_table_mode, bench_vm, bench_save.
source "$top/scripts/bench-host.sh"
bench_table_mode "$@"

command -v jq >/dev/null ||
	{ echo "bench-mediator: jq is needed (scripts/deps.sh)" >&2; exit 2; }
cd "$top" || exit 2
bench_vm bench-mediator bench-mediator-guest.sh \
	"BENCH_RUNS BENCH_SECS BENCH_SIZES BENCH_TXFIRST BENCH_BACKENDS" \
	--mem 2G --timeout "${BENCH_TIMEOUT:-900}" || exit 1
bench_save bench-mediator "build/bench/mediator-$stamp.json" \
	build/bench/mediator-latest.json '
	# $a / $b to two decimals, null unless both are known.
	def ratio($a; $b): if $a and $b and $b > 0 then
		($a / $b * 100 | round / 100) else null end;
	.results as $r |
	def one($b; $s): [$r[] | select(.backend == $b and
				       ($s == null or .frame_bytes == $s))][0];
	.ratios = [ $r[] | select(.backend == "mediator") | . as $m |
		("vhost-net", "translator") as $to |
		one($to; $m.frame_bytes) as $x | select($x) |
		{ to: $to, frame_bytes: $m.frame_bytes,
		  pps_ratio: ratio($m.pps.median; $x.pps.median),
		  fpcs_ratio: ratio($x.cpu_per_mframe.median;
				    $m.cpu_per_mframe.median) } ] |
	one("veth"; null) as $v | one("mediator-netdev"; null) as $n |
	.netdev_ratio = (if $v and $n then
		{ pps_ratio: ratio($n.pps.median; $v.pps.median),
		  fpcs_ratio: ratio($v.cpu_per_mframe.median;
				    $n.cpu_per_mframe.median) }
		else null end)'
