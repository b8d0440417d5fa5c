#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench, second part: the virtio-pci adapter against the plain
# virtio-pci driver on the same emulated NIC, in one boot of the q35 +
# IOMMU test VM (scripts/bench-pci-guest.sh does the work there).  Prints
# a table with ratios to virtio-pci and saves build/bench/pci-DATE.json.
# Nothing is asserted about speed.  --table FILE prints a saved result.
#
# Environment: BENCH_RUNS, BENCH_SECS, BENCH_SIZES (see
# scripts/bench-pci-guest.sh); BENCH_TIMEOUT (1200) bounds the VM.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
# table FILE: the table of a saved result.
table() {
	jq -r '
		def pad(n): tostring | (" " * ([n - length, 0] | max)) + .;
		"virtio-pci adapter against virtio-pci, \(.date), guest \(.kernel), \(.guest_nproc) vCPUs",
		"one emulated virtio-net sending to its peer NIC on a QEMU hub (\(.accel // "tcg"));",
		"pps = frames the peer received per second, median of \(.runs) windows of \(.seconds_per_run) s, drivers alternating;",
		"cpu = guest CPUs busy meanwhile; ratios are to virtio-pci at the same frame size",
		"",
		("driver" | . + " " * 8) + ("frame" | pad(6)) + ("pps median" | pad(12)) +
		("min" | pad(10)) + ("max" | pad(10)) + ("cpu" | pad(7)) +
		("pps ratio" | pad(11)) + ("cpu ratio" | pad(11)),
		(.results[] as $x | (.ratios[] | select(.driver == $x.driver and
			.frame_bytes == $x.frame_bytes)) as $q |
		 ($x.driver | . + " " * (14 - length)) + ($x.frame_bytes | pad(6)) +
		 ($x.pps.median | round | pad(12)) + ($x.pps.min | round | pad(10)) +
		 ($x.pps.max | round | pad(10)) + ($x.cpu.median | pad(7)) +
		 ($q.pps_ratio | pad(11)) + ($q.cpu_ratio // "-" | pad(11)))
		' "$1"
}

# bench_table_mode, bench_vm, bench_save.
source scripts/bench-host.sh
bench_table_mode "$@"
bench_vm bench-pci bench-pci-guest.sh "BENCH_RUNS BENCH_SECS BENCH_SIZES" \
	--iommu --timeout "${BENCH_TIMEOUT:-1200}" || exit 1
bench_save bench-pci "build/bench/pci-$stamp.json" build/bench/pci-latest.json '
	.results as $r | .ratios = [ $r[] | . as $x |
	  ($r[] | select(.driver == "virtio-pci" and
			 .frame_bytes == $x.frame_bytes)) as $b |
	  { driver: $x.driver, frame_bytes: $x.frame_bytes,
	    pps_ratio: ($x.pps.median / $b.pps.median * 100 | round / 100),
	    cpu_ratio: (if $b.cpu.median > 0 then
		($x.cpu.median / $b.cpu.median * 100 | round / 100) else null end) } ]'
