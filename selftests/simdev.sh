#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Corners of the net and block simulators, driven through vhost-vdpa by
# tools/simdev-probe: where the control queue is with and without MQ and
# which queue pairs are served.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vhost_vdpa_lib.sh"

PROBE=$TOOLS/bin/simdev-probe

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

t_done
