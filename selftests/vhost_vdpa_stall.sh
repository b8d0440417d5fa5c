#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One file descriptor must not stall every device (issue 9.4).  A process
# sends an IOTLB update of memory behind a userfaultfd that nobody serves:
# it waits for the fault inside vhost_vdpa, holding its device A.  Other
# devices must stay manageable meanwhile (vdpa dev add/show/del within
# 10 s, also while "vdpa dev del A" waits), deleting A waits only until the
# holder is killed, and kill -9 ends the holder.  Served faults complete.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vhost_vdpa_lib.sh"

VV_UFFD=$TOOLS/bin/vhost-vdpa-uffd
vv_require vdpa "$VV_UFFD"
# CONFIG_USERFAULTFD (Debian's kernels have it; the debug kernel does not).
[ -e /proc/sys/vm/unprivileged_userfaultfd ] ||
	t_skip_all "kernel without userfaultfd"
hpid=""
out=/tmp/vv-stall.$$
cleanup() {
	[ -n "$hpid" ] && kill -9 "$hpid" 2>/dev/null
	for p in $vv_stuck; do
		wait "$p" 2>/dev/null
	done
	rm -f "$out"
	vv_unload
}
trap cleanup EXIT
ulimit -l unlimited

pins0=$(vv_pins)
t_check "load vhost_vdpa and the simulators" vv_load
a=$(vv_add vvs0 vdpasim_net) || t_fail "device A"

t_diag "a userfaultfd range whose faults are served"
vv_tap "$VV_UFFD" "$a" 4 serve

"$VV_UFFD" "$a" 4 hold >"$out" 2>&1 &
hpid=$!
wait_for 10 grep -q '^ready' "$out"
sleep 2
if kill -0 "$hpid" 2>/dev/null && ! grep -q '^returned' "$out"; then
	t_ok "the holder is stuck in its IOTLB update"
else
	t_fail "the holder is stuck in its IOTLB update"
	sed 's/^/#   /' "$out"
fi

vv_bg_within 10 "dev add B while A's holder is stuck" \
	vdpa dev add name vvs1 mgmtdev vdpasim_net &&
vv_bg_within 10 "dev show B" vdpa dev show vvs1 &&
vv_bg_within 10 "dev del B" vdpa dev del vvs1

vdpa dev del vvs0 &
dpid=$!
sleep 3
if kill -0 "$dpid" 2>/dev/null; then
	t_ok "dev del A waits for the holder"
else
	t_fail "dev del A waits for the holder"
fi

vv_bg_within 10 "dev add C while dev del A waits" \
	vdpa dev add name vvs2 mgmtdev vdpasim_net &&
vv_bg_within 10 "dev show C while dev del A waits" vdpa dev show vvs2 -j &&
vv_bg_within 10 "dev del C while dev del A waits" vdpa dev del vvs2

kill -9 "$hpid"
if wait_for 10 sh -c "! kill -0 $hpid"; then
	t_ok "kill -9 ends the holder within 10 s"
	wait "$hpid" 2>/dev/null
	hpid=""
else
	t_fail "kill -9 ends the holder within 10 s"
fi
if wait_for 10 sh -c "! kill -0 $dpid"; then
	wait "$dpid"
	t_eq "dev del A then finishes, successfully" "$?" 0
else
	t_fail "dev del A finishes within 10 s of the kill"
	vv_stuck="$vv_stuck $dpid"
fi
t_check "device A is gone" sh -c '! vdpa dev show vvs0 2>/dev/null'
grep -q '^returned' "$out" && t_diag "holder: $(cat "$out")"
for p in $vv_stuck; do
	wait "$p" 2>/dev/null
done
vv_stuck=""
for d in vvs1 vvs2; do
	vdpa_dev_exists "$d" && vdpa dev del "$d"
done
t_eq "nothing left pinned" "$(vv_pins)" "$pins0"
t_check "rmmod vhost_vdpa" rmmod vhost_vdpa
t_done
