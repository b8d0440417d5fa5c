#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The simulators without a virtio driver: devices appear on the bus as
# iproute2's `vdpa` creates them, the net device's debugfs link knob drives
# the link status `vdpa dev config show` reports, the block device reports
# its type and queue, many devices come and go with their threads and
# memory, and unloading a simulator removes the devices it still has.
source "$(dirname "$0")/lib.sh"

VDPA=$(command -v vdpa || echo /sbin/vdpa)
DBG=/sys/kernel/debug/vdpa_sim_net
MANY=32

[ -x "$VDPA" ] || t_skip_all "iproute2 vdpa tool not installed"
command -v jq >/dev/null || t_skip_all "jq not installed"

# No bus driver: it would bind and drive the devices.
for m in virtio_vdpa vhost_vdpa; do
	[ -d "/sys/module/$m" ] && rmmod "$m"
done
unload_all
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug

# jget FILTER CMD...: one value out of a `vdpa -j` command's output.
jget() {
	local filter=$1
	shift
	"$VDPA" -j "$@" 2>/dev/null | jq -r "$filter" 2>/dev/null
}

# iproute2 6.1 prints the key as "link " (with a space); accept both.
link_of() {
	jget ".config[\"$1\"] | (.[\"link \"] // .link)" dev config show "$1"
}

# sim_threads: datapath threads of the simulators (one per device).
sim_threads() {
	local n=0 c
	for c in /proc/[0-9]*/comm; do
		read -r c <"$c" 2>/dev/null && [[ $c == vdpa-sw-* ]] && n=$((n + 1))
	done
	echo "$n"
}

ndevs() {
	jget '.dev | length' dev show
}

# --- module parameters ---------------------------------------------------
t_refuse "max_vqp=0 is refused" "Invalid argument" \
	modprobe vdpa_sim_net max_vqp=0
t_refuse "max_vqp=300 is refused" "Invalid argument" \
	modprobe vdpa_sim_net max_vqp=300
[ -d /sys/module/vdpa_sim_net ] && rmmod vdpa_sim_net
t_check "modprobe vdpa_sim_net" modprobe vdpa_sim_net
t_check "modprobe vdpa_sim_blk" modprobe vdpa_sim_blk
t_eq "mgmtdev vdpasim_net max_supported_vqs" \
	"$(jget '.mgmtdev.vdpasim_net.max_supported_vqs' mgmtdev show)" 17
t_eq "mgmtdev vdpasim_blk max_supported_vqs" \
	"$(jget '.mgmtdev.vdpasim_blk.max_supported_vqs' mgmtdev show)" 1

# --- net device ----------------------------------------------------------
t_check "add net device sn0" "$VDPA" dev add name sn0 mgmtdev vdpasim_net
t_check "sn0 is on the bus" vdpa_dev_exists sn0
t_eq "sn0 type" "$(jget '.dev.sn0.type' dev show sn0)" network
t_eq "sn0 max_vqs (1 pair + control)" "$(jget '.dev.sn0.max_vqs' dev show sn0)" 3
t_eq "sn0 max_vq_size" "$(jget '.dev.sn0.max_vq_size' dev show sn0)" 256
t_eq "sn0 default mtu" "$(jget '.config.sn0.mtu' dev config show sn0)" 1500
mac=$(jget '.config.sn0.mac' dev config show sn0)
if [[ $mac =~ ^[0-9a-f][26ae](:[0-9a-f]{2}){5}$ ]]; then
	t_ok "sn0 random MAC $mac is unicast, locally administered"
else
	t_fail "sn0 random MAC '$mac'"
fi
t_eq "sn0 thread started" "$(sim_threads)" 1

knob=$DBG/sn0/link
t_check "debugfs link knob exists" test -w "$knob"
t_eq "link knob reads 1" "$(cat "$knob")" 1
t_eq "config shows link up" "$(link_of sn0)" up
echo 0 >"$knob"
t_eq "link knob reads 0 after writing 0" "$(cat "$knob")" 0
t_eq "config shows link down" "$(link_of sn0)" down
echo 1 >"$knob"
t_eq "config shows link up again" "$(link_of sn0)" up
t_refuse "link knob refuses 2" "Invalid argument" \
	bash -c "echo 2 >$knob"
t_refuse "link knob refuses text" "Invalid argument" \
	bash -c "echo up >$knob"
t_eq "link unchanged by refused writes" "$(cat "$knob")" 1

t_check "add net device sn1 with 4 pairs, mtu 9000" \
	"$VDPA" dev add name sn1 mgmtdev vdpasim_net mac 02:00:00:00:00:01 \
	mtu 9000 max_vqp 4
t_eq "sn1 max_vqs" "$(jget '.dev.sn1.max_vqs' dev show sn1)" 9
t_eq "sn1 config" \
	"$(jget '.config.sn1 | "\(.mac) \(.mtu) \(.max_vq_pairs)"' dev config show sn1)" \
	"02:00:00:00:00:01 9000 4"
t_eq "sn1 has its own link knob" "$(cat $DBG/sn1/link)" 1
echo 0 >$DBG/sn1/link
t_eq "sn1 link down leaves sn0 up" "$(link_of sn0) $(link_of sn1)" "up down"

# A knob held open across the device's deletion fails cleanly.
exec 3<"$DBG/sn1/link"
t_check "delete sn1 while its link knob is open" "$VDPA" dev del sn1
if read -r _ <&3 2>/dev/null; then
	t_fail "read of a deleted device's knob succeeded"
else
	t_ok "read of a deleted device's knob fails"
fi
exec 3<&-
t_check "sn1 debugfs directory is gone" test ! -e "$DBG/sn1"
t_check "sn1 is off the bus" test ! -e /sys/bus/vdpa/devices/sn1

# --- block device --------------------------------------------------------
t_check "add block device sb0" "$VDPA" dev add name sb0 mgmtdev vdpasim_blk
t_check "sb0 is on the bus" vdpa_dev_exists sb0
t_eq "sb0 type" "$(jget '.dev.sb0.type' dev show sb0)" block
t_eq "sb0 max_vqs" "$(jget '.dev.sb0.max_vqs' dev show sb0)" 1
t_eq "sb0 max_vq_size" "$(jget '.dev.sb0.max_vq_size' dev show sb0)" 256
t_check "delete sb0" "$VDPA" dev del sb0
cap=/sys/module/vdpa_sim_blk/parameters/capacity_mb
t_eq "capacity_mb defaults to 128" "$(cat $cap)" 128
t_refuse "capacity_mb=0 is refused when written" "Invalid argument" \
	bash -c "echo 0 >$cap"
t_eq "capacity_mb stays 128" "$(cat $cap)" 128
echo 2048 >$cap
t_check "capacity_mb=2048 takes new block devices" \
	"$VDPA" dev add name sb1 mgmtdev vdpasim_blk
t_check "delete sb1" "$VDPA" dev del sb1
echo 128 >$cap
t_check "delete sn0" "$VDPA" dev del sn0
t_eq "no device left" "$(ndevs)" 0
t_eq "no thread left" "$(sim_threads)" 0

# --- many devices --------------------------------------------------------
# add_many / del_many: MANY net and MANY block devices, then none; a
# non-zero return names the device that failed in $i.
add_many() {
	for i in $(seq 0 $((MANY - 1))); do
		"$VDPA" dev add name mn$i mgmtdev vdpasim_net max_vqp $((i % 8 + 1)) &&
		"$VDPA" dev add name mb$i mgmtdev vdpasim_blk || return 1
	done
}
del_many() {
	for i in $(seq 0 $((MANY - 1))); do
		"$VDPA" dev del mn$i && "$VDPA" dev del mb$i || return 1
	done
}
# free_kb: free memory in kB, counting the pages in the per-cpu lists
# (MemFree leaves them out: they grew by 20 MB over six rounds of this
# test here, and MemAvailable once fell by 10 MB in CI without a leak),
# the per-cpu counter deltas folded in first.
free_kb() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	echo 1 >/proc/sys/vm/stat_refresh
	awk -v kb=$(($(getconf PAGESIZE) / 1024)) \
		'/nr_free_pages/ { f += $2 } /^ +count:/ { f += $2 }
		END { print f * kb }' /proc/zoneinfo
}

add_many && t_ok "created $MANY net + $MANY block devices" ||
	t_fail "creating device $i"
t_eq "all of them listed" "$(ndevs)" $((2 * MANY))
t_eq "one thread each" "$(sim_threads)" $((2 * MANY))
t_eq "a knob each" "$(ls $DBG | wc -l)" $MANY
t_eq "mn31 max_vqs" "$(jget '.dev.mn31.max_vqs' dev show mn31)" 17
del_many && t_ok "deleted them all" || t_fail "deleting device $i"
t_eq "none listed" "$(ndevs)" 0
t_eq "no thread left" "$(sim_threads)" 0
t_eq "no knob left" "$(ls $DBG | wc -l)" 0
# The first round grew the slab caches (1.3 MB here); a leak shows as
# memory the same round, run again, keeps.
free_before=$(free_kb)
if add_many && del_many; then
	free_after=$(free_kb)
	t_diag "free pages around a second round: $free_before/$free_after kB"
	kept=$((free_before - free_after))
	[ $kept -lt 4096 ] &&
		t_ok "a second round returns its memory (within 4 MiB)" ||
		t_fail "a second round kept $kept kB"
else
	t_fail "second round stopped at device $i"
fi

# --- unload with devices present -----------------------------------------
"$VDPA" dev add name un0 mgmtdev vdpasim_net &&
"$VDPA" dev add name un1 mgmtdev vdpasim_net max_vqp 2 &&
"$VDPA" dev add name ub0 mgmtdev vdpasim_blk &&
"$VDPA" dev add name ub1 mgmtdev vdpasim_blk
t_eq "4 devices before unload" "$(ndevs)" 4
t_check "rmmod vdpa_sim_net with 2 devices" rmmod vdpa_sim_net
t_eq "its devices are gone" "$(jget '[.dev[] | select(.mgmtdev == "vdpasim_net")] | length' dev show)" 0
t_check "its debugfs directory is gone" test ! -e "$DBG"
t_check "rmmod vdpa_sim_blk with 2 devices" rmmod vdpa_sim_blk
t_eq "bus is empty" "$(ls /sys/bus/vdpa/devices | wc -l)" 0
t_eq "no thread left" "$(sim_threads)" 0
t_check "rmmod vdpa_swdev" rmmod vdpa_swdev
t_check "reload vdpa_sim_net" modprobe vdpa_sim_net
t_check "add a device after reload" "$VDPA" dev add name re0 mgmtdev vdpasim_net
t_check "link knob after reload" test "$(cat $DBG/re0/link)" = 1
t_check "delete it" "$VDPA" dev del re0

unload_all
t_done
