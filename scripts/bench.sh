#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: vhost-vdpa throughput with the simulated net device, measured
# in one boot of the test VM (scripts/bench-guest.sh does the work there).
# Prints a table and saves the figures as build/bench/bench-DATE.json and
# build/bench/latest.json.  Nothing is asserted about speed: the status is
# non-zero only when a measurement could not be made.
#
# Environment: BENCH_RUNS (5), BENCH_SECS (3), BENCH_SIZES ("64 1500"),
# BENCH_TXFIRST (1): see scripts/bench-guest.sh.  BENCH_TIMEOUT (900)
# bounds the VM in seconds.  VMFLAGS: extra scripts/vm/run.sh options.
# "scripts/bench.sh --table FILE" prints the table of a saved result.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)

# table FILE: the human-readable form of a result.
table() {
	jq -r '
	def mbit: if . then (. / 1e6 * 10 | round / 10 | tostring) else "-" end;
	def num: if . then (round | tostring) else "-" end;
	def two: (. * 100 | round) as $n |
		"\($n / 100 | floor).\($n % 100 | tostring | if length < 2 then "0" + . else . end)";
	def pad(n): tostring | (" " * ([n - length, 0] | max)) + .;
	"vhost-vdpa throughput, \(.date), \(.accel) on \(.host_cpu) (\(.host_nproc) CPUs), guest \(.kernel), \(.guest_nproc) vCPUs",
	"device: \(.device)",
	"bit/s = \(.bps_counts); median of \(.runs) runs of \(.seconds_per_run) s, clients alternating",
	"",
	("client" | . + " " * 15) + ("frame" | pad(6)) + ("pps median" | pad(12)) +
	("min" | pad(10)) + ("max" | pad(10)) + ("Mbit/s median" | pad(15)) + ("runs" | pad(6)),
	(.results[] |
	 (.client | . + " " * (21 - length)) + (.frame_bytes | pad(6)) +
	 (.pps.median | num | pad(12)) + (.pps.min | num | pad(10)) +
	 (.pps.max | num | pad(10)) + (.bps.median | mbit | pad(15)) +
	 (.runs | pad(6))),
	"",
	(.ratios[] | "testpmd / vhost-vdpa-net, \(.frame_bytes) B: \(.pps_ratio | if . then two else "-" end) (pps medians, same session)"),
	"",
	"clients:",
	(.clients | to_entries[] | "  \(.key): \(.value)"),
	(if .ok then empty else "", "SOME MEASUREMENTS FAILED: see the log" end)
	' "$1"
}

# bench_table_mode, bench_vm, bench_save.
source "$top/scripts/bench-host.sh"
bench_table_mode "$@"

command -v jq >/dev/null || { echo "bench: jq is needed (scripts/deps.sh)" >&2; exit 2; }
cd "$top" || exit 2
bench_vm bench bench-guest.sh "BENCH_RUNS BENCH_SECS BENCH_SIZES BENCH_TXFIRST" \
	--mem 2G --timeout "${BENCH_TIMEOUT:-900}" || exit 1
bench_save bench "build/bench/bench-$stamp.json" build/bench/latest.json '
	(.results | map(select(.client == "testpmd"))) as $tp |
	.ratios = [ .results[] | select(.client == "vhost-vdpa-net") | . as $vv |
		($tp[] | select(.frame_bytes == $vv.frame_bytes)) as $t |
		{ frame_bytes: $vv.frame_bytes,
		  pps_ratio: (if $t.pps.median and $vv.pps.median then
			($t.pps.median / $vv.pps.median * 100 | round / 100)
			else null end) } ]'
