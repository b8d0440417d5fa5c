#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vringh: load the ring library and its in-kernel test module, run every
# case (kern, user and IOTLB rings: happy paths, malformed rings, faults,
# lookups from interrupt context, a benchmark) by reading debugfs, pass the
# module's TAP results through, check what vringh logged meanwhile (no line
# for an address fault, rate-limited warnings for malformed rings), then
# check that the modules unload, that vringh is pinned while used, and
# that it reloads.
source "$(dirname "$0")/lib.sh"

run=/sys/kernel/debug/vringh_test/run
had_iotlb=0
[ -d /sys/module/vhost_iotlb ] && had_iotlb=1

# run_cases: read the debugfs file once (that runs every case in this
# process) and turn the module's TAP into our own t_ok/t_fail lines.
run_cases() {
	local out line results=0 plan=

	if ! out=$(cat "$run" 2>&1); then
		t_fail "read $run"
		printf '%s\n' "$out" | sed 's/^/#   /'
		return
	fi
	while IFS= read -r line; do
		case $line in
		"ok "*)
			results=$((results + 1))
			t_ok "${line#ok * - }" ;;
		"not ok "*)
			results=$((results + 1))
			t_fail "${line#not ok * - }" ;;
		"#"*)
			echo "$line" ;;
		1..*)
			plan=${line#1..} ;;
		esac
	done <<<"$out"
	t_eq "vringh_test ran its whole plan" "$results" "${plan:-none}"
}

# check_log SECONDS: what vringh logged about rings since our marker (its
# lines end in "(error -N)"; module loading logs other lines).  Faults
# (-EFAULT) are the device's to report: none may appear.  Malformed-ring
# warnings share one rate limit of 10 lines per 5 s.
check_log() {
	local secs=$1 log faults lines bound

	log=$(dmesg | sed -n "/$marker/,\$p" | grep 'vringh: .*(error -')
	faults=$(printf '%s\n' "$log" | grep -c '(error -14)')
	t_eq "no vringh line for an address fault (debug level)" "$faults" 0
	lines=$(printf '%s\n' "$log" | grep -c .)
	bound=$((10 * (secs / 5 + 1)))
	if [ "$lines" -le "$bound" ]; then
		t_ok "vringh warnings are rate-limited ($lines lines in ${secs} s)"
	else
		t_fail "vringh warnings are rate-limited ($lines lines in ${secs} s, more than $bound)"
	fi
	[ "$lines" -gt 0 ] && printf '%s\n' "$log" | head -n 3 | sed 's/^/#   /'
}

unload_all
[ -d /sys/module/vringh_test ] && rmmod vringh_test

marker="vringh.sh: cases start $$"
echo "$marker" >/dev/kmsg
start=$SECONDS
t_check "modprobe vringh" modprobe vringh
t_check "modprobe vringh_test" modprobe vringh_test
if [ -r "$run" ]; then
	run_cases
else
	t_fail "debugfs file $run exists"
fi
check_log $((SECONDS - start))

t_refuse "vringh is pinned while vringh_test is loaded" "in use" \
	rmmod vringh
t_check "rmmod vringh_test" rmmod vringh_test
t_check "rmmod vringh" rmmod vringh
t_check "modprobe vringh again" modprobe vringh
t_check "rmmod vringh again" rmmod vringh

unload_all
if [ "$had_iotlb" = 0 ] && [ -d /sys/module/vhost_iotlb ]; then
	rmmod vhost_iotlb 2>/dev/null
fi
t_done
