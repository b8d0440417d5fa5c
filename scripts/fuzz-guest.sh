#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the fuzzers inside the test VM (scripts/fuzz.sh boots it): install
# the modules, load vdpa_sim_net, vdpa_sim_blk and vhost_vdpa, create a net
# device with two queue pairs and a block device, run each target for
# FUZZ_SECONDS (default 60), delete the devices and unload every module
# (rmmod must succeed: nothing leaked a reference).
#
# Targets (FUZZ_TARGETS, default all): netlink, netlink-unpriv, vhost-net,
# vhost-blk, ring-net, ring-blk.  FUZZ_SEED (default: from the clock) seeds
# them all.  For each target a line
#   FUZZ-RESULT TARGET INPUTS SECONDS STATUS SEED
# follows the fuzzer's own "fuzz-...: N inputs, seed S" line.  The
# iteration each fuzzer is in is kept in fuzz-TARGET.state in the VM job
# directory (it survives a guest crash) or /tmp.
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# shellcheck source=SCRIPTDIR/../selftests/lib.sh
source selftests/lib.sh
# shellcheck source=SCRIPTDIR/../selftests/vhost_vdpa_lib.sh
source selftests/vhost_vdpa_lib.sh

secs=${FUZZ_SECONDS:-60}
seed=${FUZZ_SEED:-$(date +%s)}
targets=${FUZZ_TARGETS:-netlink netlink-unpriv vhost-net vhost-blk ring-net ring-blk}
bin=$top/tools/bin
statedir=/tmp
[ -d /run/vmjob ] && [ -w /run/vmjob ] && statedir=/run/vmjob
failed=0

echo "fuzz: seed $seed, $secs s per target, targets: $targets"
if ! make -s modules_install >/tmp/fuzz-install.log 2>&1; then
	cat /tmp/fuzz-install.log
	exit 1
fi
for t in fuzz-netlink fuzz-vhost fuzz-ring; do
	[ -x "$bin/$t" ] || { echo "fuzz: $bin/$t missing (make tools)"; exit 1; }
done
if ! vv_load; then
	echo "fuzz: cannot load the modules"
	exit 1
fi
if ! net=$(vv_add fuzz-net vdpasim_net max_vqp 2) ||
   ! blk=$(vv_add fuzz-blk vdpasim_blk); then
	echo "fuzz: cannot create the devices"
	vv_unload
	exit 1
fi
echo "fuzz: net device fuzz-net at $net, block device fuzz-blk at $blk"

# run_target NAME CMD...: one fuzzer, bounded; record its result.
run_target() {
	local name=$1 out rc inputs t0 t1 mark
	shift
	out=/tmp/fuzz-$name.out
	mark=$(kmsg_mark)
	t0=$(date +%s)
	timeout -k 10 $((secs + 120)) "$@" -s "$seed" -t "$secs" \
		-o "$statedir/fuzz-$name.state" >"$out" 2>"$out.err"
	rc=$?
	t1=$(date +%s)
	cat "$out"
	[ "$rc" -eq 124 ] && echo "fuzz: $name did not stop in time"
	if kmsg_since "$mark" >/tmp/fuzz-dmesg &&
	   ! scripts/vm/kcheck.sh /tmp/fuzz-dmesg; then
		echo "fuzz: kernel report during $name (state: $(cat "$statedir/fuzz-$name.state" 2>/dev/null))"
		[ "$rc" -eq 0 ] && rc=1
	fi
	if [ "$rc" -ne 0 ]; then
		echo "fuzz: $name failed with status $rc; its stderr ends with:"
		tail -n 20 "$out.err" | sed 's/^/  /'
		failed=$((failed + 1))
	fi
	inputs=$(sed -n 's/^fuzz-[a-z]*: \([0-9]*\) inputs.*/\1/p' "$out" | tail -n 1)
	echo "FUZZ-RESULT $name ${inputs:-0} $((t1 - t0)) $rc $seed"
}

for t in $targets; do
	case $t in
	netlink) run_target "$t" "$bin/fuzz-netlink" ;;
	netlink-unpriv) run_target "$t" "$bin/fuzz-netlink" -u ;;
	vhost-net) run_target "$t" "$bin/fuzz-vhost" "$net" ;;
	vhost-blk) run_target "$t" "$bin/fuzz-vhost" "$blk" ;;
	ring-net) run_target "$t" "$bin/fuzz-ring" "$net" ;;
	ring-blk) run_target "$t" "$bin/fuzz-ring" -b "$blk" ;;
	*) echo "fuzz: unknown target $t"; failed=$((failed + 1)) ;;
	esac
done

# Everything must go away cleanly: a leaked reference makes rmmod fail.
for d in /sys/bus/vdpa/devices/*; do
	[ -e "$d" ] || continue
	if ! vdpa dev del "$(basename "$d")"; then
		echo "fuzz: cannot delete device $(basename "$d")"
		failed=$((failed + 1))
	fi
done
for m in $VDPA_MODULES; do
	[ -d "/sys/module/$m" ] || continue
	if ! rmmod "$m"; then
		echo "fuzz: rmmod $m failed (refcount $(cat "/sys/module/$m/refcnt"))"
		failed=$((failed + 1))
	fi
done
echo "fuzz: modules unloaded"
[ "$failed" -eq 0 ]
