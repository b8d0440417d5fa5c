#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vringh: load the ring library and its in-kernel test module, run every
# case (kern, user and IOTLB rings: happy paths, malformed rings, a
# benchmark) by reading debugfs, pass the module's TAP results through,
# then check that the modules unload, that vringh is pinned while used,
# and that it reloads.
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

unload_all
[ -d /sys/module/vringh_test ] && rmmod vringh_test

t_check "modprobe vringh" modprobe vringh
t_check "modprobe vringh_test" modprobe vringh_test
if [ -r "$run" ]; then
	run_cases
else
	t_fail "debugfs file $run exists"
fi

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
