#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make fuzz: boot the test VM, run scripts/fuzz-guest.sh in it (netlink,
# vhost-vdpa and ring fuzzers, FUZZ_SECONDS each, default 60), then print
# the seed and a table of inputs per target.  Exits non-zero when a
# fuzzer failed, the guest kernel logged a report (scripts/vm/run.sh
# checks the console and dmesg) or the modules would not unload.
#
# Environment: FUZZ_SECONDS, FUZZ_SEED (default: from the clock),
# FUZZ_TARGETS (default: all six), VM (default scripts/vm/run.sh),
# VMFLAGS (extra run.sh options).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2

secs=${FUZZ_SECONDS:-60}
seed=${FUZZ_SEED:-$(date +%s)}
targets=${FUZZ_TARGETS:-netlink netlink-unpriv vhost-net vhost-blk ring-net ring-blk}
vm=${VM:-scripts/vm/run.sh}
case $secs in
''|*[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a number" >&2; exit 2 ;;
esac
case $seed in
''|*[!0-9]*) echo "fuzz: FUZZ_SEED must be a number" >&2; exit 2 ;;
esac

read -r -a tlist <<<"$targets"
# Each target may overrun by its own margin; boot and set-up take ~1 min.
timeout=$((${#tlist[@]} * (secs + 30) + 240))
logdir=$top/build/vm-logs/fuzz-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$logdir"
out=$logdir/fuzz.out

echo "fuzz: seed $seed, $secs s per target, VM timeout $timeout s, logs in $logdir"
cmd=$(printf 'FUZZ_SECONDS=%q FUZZ_SEED=%q FUZZ_TARGETS=%q scripts/fuzz-guest.sh' \
	"$secs" "$seed" "$targets")
# shellcheck disable=SC2086 # VMFLAGS is a list of options
"$vm" ${VMFLAGS:-} --timeout "$timeout" --logdir "$logdir" -- "$cmd" |
	tee "$out"
rc=${PIPESTATUS[0]}

echo
echo "fuzz: seed $seed"
printf '%-16s %12s %8s %10s  %s\n' target inputs seconds inputs/s result
status=0
for t in "${tlist[@]}"; do
	line=$(grep "^FUZZ-RESULT $t " "$out" | tail -n 1)
	if [ -z "$line" ]; then
		state=$(cat "$logdir/fuzz-$t.state" 2>/dev/null)
		if [ -n "$state" ]; then
			res="did not finish (last: seed ${state% *} iteration ${state#* })"
		else
			res="did not run"
		fi
		printf '%-16s %12s %8s %10s  %s\n' "$t" - - - "$res"
		status=1
		continue
	fi
	read -r _ _ inputs s trc _ <<<"$line"
	res=ok
	if [ "$trc" != 0 ]; then
		res="FAILED (status $trc)"
		status=1
	fi
	printf '%-16s %12s %8s %10s  %s\n' "$t" "$inputs" "$s" \
		"$((inputs / (s > 0 ? s : 1)))" "$res"
done
if [ "$rc" -ne 0 ]; then
	echo "fuzz: the VM run failed (status $rc); see $logdir"
	status=1
fi
if [ "$status" -ne 0 ]; then
	echo "fuzz: replay one iteration with tools/bin/fuzz-TARGET -s SEED -i ITER -n 1,"
	echo "      or the run up to it with -s SEED -n ITER+1 (see each .state file)"
fi
exit "$status"
