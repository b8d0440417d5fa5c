#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Corners of the net and block simulators, driven through vhost-vdpa by
# tools/simdev-probe: where the control queue is with and without MQ and
# which queue pairs are served; the block device's SIZE_MAX / SEG_MAX, a
# huge request that must not hold the device, capacity_mb checked when it
# is written, the RAM disk charged to its creator's memory cgroup; and
# module unload racing with device lookups.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vhost_vdpa_lib.sh"

PROBE=$TOOLS/bin/simdev-probe
CAP=/sys/module/vdpa_sim_blk/parameters/capacity_mb
UNLOAD_ROUNDS=${SIMDEV_UNLOAD_ROUNDS:-15}

vv_require vdpa jq "$PROBE" "$VV_NET"
work=$(mktemp -d)
cleanup() {
	exec 9>&- 2>/dev/null
	[ -n "${cg:-}" ] && [ -d "$cg" ] && rmdir "$cg" 2>/dev/null
	[ -n "${cgmnt:-}" ] && umount "$cgmnt" 2>/dev/null
	[ -d /sys/module/vdpa_sim_blk ] && echo 128 >"$CAP"
	vv_unload
	rm -rf "$work"
}
trap cleanup EXIT
ulimit -l unlimited

# hold_start NAME CMD...: run CMD with its input on fd 9, output in
# $work/NAME; wait for its first "# holding" line.
hold_start() {
	local name=$1

	shift
	rm -f "$work/$name.in"
	mkfifo "$work/$name.in"
	"$@" <"$work/$name.in" >"$work/$name" 2>&1 &
	hold_pid=$!
	exec 9>"$work/$name.in"
	wait_for 60 grep -q '^# holding' "$work/$name"
}

# hold_next NAME N: let the holder go on; wait for its Nth holding line.
hold_next() {
	echo >&9
	wait_for 60 test "$(grep -c '^# holding' "$work/$1")" -ge "$2"
}

# hold_end NAME: close its input, wait for it; record its lines.
hold_end() {
	local rc

	exec 9>&-
	vv_wait_gone "$hold_pid" 120
	rc=$?
	vv_tap cat "$work/$1"
	t_eq "$1: probe exit status" "$rc" 0
}

# jcfg DEV FIELD: one field of `vdpa -j dev config show DEV`.
jcfg() {
	vdpa -j dev config show "$1" 2>/dev/null | jq -r ".config.\"$1\".$2"
}

# stat_of DEV QIDX NAME: one vendor statistic, through the probe.
stat_of() {
	"$PROBE" vstats "$1" "$2" | awk -v n="$3" '$1 == n { print $2 }'
}

t_check "load vhost_vdpa and the simulators" vv_load

# --- net: the control queue follows the negotiated features ---------------
MAC0=02:00:00:5e:20:01
node=$(vv_add sc0 vdpasim_net max_vqp 2 mac $MAC0) &&
	t_ok "net device sc0 with 2 pairs ($node)" || t_fail "net device sc0"
hold_start cvq "$PROBE" cvq --hold "$node"
t_eq "without MQ: vdpa dev config show has the MAC set on queue 2" \
	"$(jcfg sc0 mac)" 02:00:00:00:00:ef
hold_end cvq
t_eq "a reset restores the provisioned MAC" "$(jcfg sc0 mac)" "$MAC0"
vv_tap "$PROBE" mq "$node"
t_check "delete sc0" vdpa dev del sc0
node=$(vv_add sc1 vdpasim_net) && t_ok "net device sc1 with 1 pair" ||
	t_fail "net device sc1"
vv_tap "$PROBE" cvq "$node"
t_check "delete sc1" vdpa dev del sc1

# --- block: capacity_mb is checked when written --------------------------
t_eq "capacity_mb is 128" "$(cat "$CAP")" 128
t_refuse "capacity_mb 0 is refused" "Invalid argument" \
	bash -c "echo 0 > $CAP"
t_refuse "capacity_mb 1048577 is refused" "Invalid argument" \
	bash -c "echo 1048577 > $CAP"
t_refuse "capacity_mb abc is refused" "Invalid argument" \
	bash -c "echo abc > $CAP"
t_eq "capacity_mb is still 128" "$(cat "$CAP")" 128
t_check "capacity_mb 2048" sh -c "echo 2048 > $CAP"

# --- block: SIZE_MAX / SEG_MAX and a huge request --------------------------
node=$(vv_add sb0 vdpasim_blk) && t_ok "block device sb0 of 2 GiB ($node)" ||
	t_fail "block device sb0"
echo 128 >"$CAP"
hold_start blk "$PROBE" blk --hold "$node"
t0=$(date +%s%N)
out=$(timeout 60 vdpa -j dev config show sb0 2>&1)
ms=$((($(date +%s%N) - t0) / 1000000))
t_diag "dev config show with a 1 GiB request posted: $ms ms"
if jq -e '.config.sb0' <<<"$out" >/dev/null 2>&1; then
	t_ok "dev config show answers with a 1 GiB request posted"
else
	t_fail "dev config show answers with a 1 GiB request posted"
	t_diag "$out"
fi
if [ "$ms" -lt 5000 ]; then
	t_ok "dev config show finishes within 5 s with a 1 GiB request posted"
else
	t_fail "dev config show finishes within 5 s with a 1 GiB request posted ($ms ms)"
fi
hold_next blk 2
t_eq "vstats: 5 requests counted oversized" "$(stat_of sb0 0 oversized)" 5
t_eq "vstats: 5 requests counted failed" "$(stat_of sb0 0 failed)" 5
hold_end blk
if dmesg | grep -q "sb0: request beyond size_max 65536 or seg_max 64"; then
	t_ok "dmesg names the device and the limits"
else
	t_fail "dmesg names the device and the limits"
fi
t_check "delete sb0" vdpa dev del sb0

# --- block: the RAM disk is charged to its creator's memory cgroup -------
cgroot=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -z "$cgroot" ]; then
	cgmnt=$work/cgroup
	mkdir -p "$cgmnt"
	mount -t cgroup2 none "$cgmnt" && cgroot=$cgmnt
fi
if [ -n "$cgroot" ] && grep -qw memory "$cgroot/cgroup.controllers" &&
   echo +memory >"$cgroot/cgroup.subtree_control" 2>/dev/null; then
	cg=$cgroot/simdev.$$
	mkdir "$cg"
	t_check "create block device sm0 from a memory cgroup" \
		sh -c "echo \$\$ > $cg/cgroup.procs &&
		       exec vdpa dev add name sm0 mgmtdev vdpasim_blk"
	before=$(cat "$cg/memory.current")
	node=$(vv_node sm0)
	t_check "write and read back 32 MiB from outside the cgroup" \
		"$VV_NET" -Q -n 1024 -s 32768 "$node"
	after=$(cat "$cg/memory.current")
	t_diag "memory.current of the creator's cgroup: $before -> $after"
	# The disk's pages alone are 32 MiB.  Compare the total, not the
	# growth: what the creator's vdpa process had charged ("before") is
	# partly freed meanwhile (seen in CI: +31.75 MiB, total 32.02 MiB).
	if [ "$after" -ge $((32 << 20)) ]; then
		t_ok "the creator's cgroup is charged for the 32 MiB written"
	else
		t_fail "the creator's cgroup is charged for the 32 MiB written"
	fi
	t_check "delete sm0" vdpa dev del sm0
	wait_for 5 test "$(cat "$cg/memory.current")" -lt $((1 << 20))
	t_diag "memory.current after delete: $(cat "$cg/memory.current")"
	if [ "$(cat "$cg/memory.current")" -lt $((1 << 20)) ]; then
		t_ok "deleting the device uncharges it"
	else
		t_fail "deleting the device uncharges it"
	fi
	rmdir "$cg" && cg=
else
	t_diag "no cgroup2 memory controller: accounting not tested"
fi

# --- module unload racing with device lookups -----------------------------
# Devices are looked up (and referenced) by netlink readers while the
# module exit deletes them; every round must end with the bus empty and
# no kernel report.
reader() {
	while :; do
		vdpa dev show >/dev/null 2>&1
		vdpa dev config show >/dev/null 2>&1
	done
}
reader &
rpid=$!
start=$SECONDS
ok=1
for i in $(seq "$UNLOAD_ROUNDS"); do
	modprobe vdpa_sim_net && modprobe vdpa_sim_blk &&
	vdpa dev add name ur0 mgmtdev vdpasim_net max_vqp 2 &&
	vdpa dev add name ur1 mgmtdev vdpasim_net &&
	vdpa dev add name ur2 mgmtdev vdpasim_blk &&
	vdpa dev add name ur3 mgmtdev vdpasim_blk &&
	rmmod vdpa_sim_net && rmmod vdpa_sim_blk || { ok=0; break; }
	[ -z "$(ls /sys/bus/vdpa/devices)" ] || { ok=0; break; }
done
kill "$rpid"
wait "$rpid" 2>/dev/null
if [ "$ok" = 1 ]; then
	t_ok "$UNLOAD_ROUNDS rounds of add 4 devices + rmmod leave the bus empty"
else
	t_fail "unload round $i"
fi
if [ $((SECONDS - start)) -lt 300 ]; then
	t_ok "the unload rounds finish within 300 s ($((SECONDS - start)) s)"
else
	t_fail "the unload rounds finish within 300 s ($((SECONDS - start)) s)"
fi
t_done
