#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the selftests inside the test VM: install the built modules the way an
# operator would, then run every test (or those named on the command line),
# each independent, and print TAP plus a final "N passed, N failed" line.
# A test also fails when the kernel logs a report while it runs.  On a kernel
# with kmemleak (the debug kernel) a leak scan after the last test must be
# empty.
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
source selftests/lib.sh

if ! make -s modules_install >/tmp/install.log 2>&1; then
	cat /tmp/install.log
	echo "0 passed, 1 failed"
	exit 1
fi

if [ $# -gt 0 ]; then
	tests=("$@")
else
	# Every executable script but this one (libraries are not executable).
	tests=()
	for t in selftests/*.sh; do
		[ "$t" = selftests/run.sh ] || tests+=("$t")
	done
fi

# Seconds a test may run: SELFTEST_TIMEOUT, or 20 minutes (qemu_net boots
# two nested guests under TCG: about 11 minutes).
limit=${SELFTEST_TIMEOUT:-1200}
kmemleak=/sys/kernel/debug/kmemleak
# Whatever boot left behind is not ours to report.
[ -w "$kmemleak" ] && echo clear >"$kmemleak"

passed=0
failed=0
n=0
echo "TAP version 13"
for t in "${tests[@]}"; do
	[ -x "$t" ] || [ -x "selftests/$t" ] || [ -x "selftests/$t.sh" ] || continue
	[ -x "$t" ] || t=selftests/${t%.sh}.sh
	n=$((n + 1))
	name=$(basename "$t" .sh)
	mark=$(kmsg_mark)
	echo "# === $name"
	start=$SECONDS
	out=$(timeout "$limit" "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/# /'
	echo "# $name took $((SECONDS - start)) s"
	ok=$(printf '%s\n' "$out" | grep -c '^ok ')
	nok=$(printf '%s\n' "$out" | grep -c '^not ok ')
	passed=$((passed + ok))
	failed=$((failed + nok))
	if kmsg_since "$mark" >/tmp/dmesg.test &&
	   ! "$top/scripts/vm/kcheck.sh" /tmp/dmesg.test >/tmp/kcheck.out; then
		sed 's/^/# /' /tmp/kcheck.out
		failed=$((failed + 1))
		rc=1
	fi
	if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
		[ "$rc" -eq 124 ] && echo "# $name: timed out"
		failed=$((failed + 1))
	fi
	if [ "$rc" -eq 0 ]; then
		echo "ok $n $name"
	else
		echo "not ok $n $name"
	fi
done
if [ -w "$kmemleak" ]; then
	n=$((n + 1))
	# Objects freed by RCU or deferred work need a moment and two scans.
	sleep 5
	echo scan >"$kmemleak"
	sleep 5
	echo scan >"$kmemleak"
	if [ -s "$kmemleak" ]; then
		sed 's/^/# /' "$kmemleak" | head -n 200
		echo "not ok $n kmemleak"
		failed=$((failed + 1))
	else
		echo "ok $n kmemleak"
		passed=$((passed + 1))
	fi
fi
echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$n" -gt 0 ]
