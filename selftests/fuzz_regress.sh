#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Replay the fuzzers (tools/fuzz-*) for a few seconds each with fixed
# seeds, plus every input that once made the kernel misbehave (REGRESS
# below): the netlink family as root and unprivileged, vhost-vdpa on a
# net and a block simulator, and ring corruption on both.  A fuzzer fails
# when the kernel logs a report, an unprivileged admin command is not
# refused with EPERM, a device does not recover after a reset, or a
# second open succeeds.  At the end the devices go and every module must
# unload.  Total time: about 40 s under TCG.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=SCRIPTDIR/vhost_vdpa_lib.sh
source "$(dirname "$0")/vhost_vdpa_lib.sh"

BIN=$TOOLS/bin
vv_require vdpa "$BIN/fuzz-netlink" "$BIN/fuzz-vhost" "$BIN/fuzz-ring"
trap vv_unload EXIT

# Inputs found by `make fuzz` that once produced a kernel report or a
# failed check, kept as "TARGET SEED ITERATIONS" (replayed with -s SEED
# -n ITERATIONS).  TARGET is one of the names below.
REGRESS=(
)

t_check "load vhost_vdpa and the simulators" vv_load
if net=$(vv_add regress-net vdpasim_net max_vqp 2); then
	t_ok "net device ($net)"
else
	t_fail "net device"
fi
if blk=$(vv_add regress-blk vdpasim_blk); then
	t_ok "blk device ($blk)"
else
	t_fail "blk device"
fi

# fuzz NAME SEED ITERATIONS SECONDS: one bounded run; its summary as a diag.
fuzz() {
	local name=$1 seed=$2 n=$3 secs=$4 out rc
	local -a cmd

	case $name in
	netlink) cmd=("$BIN/fuzz-netlink") ;;
	netlink-unpriv) cmd=("$BIN/fuzz-netlink" -u) ;;
	vhost-net) cmd=("$BIN/fuzz-vhost" "$net") ;;
	vhost-blk) cmd=("$BIN/fuzz-vhost" "$blk") ;;
	ring-net) cmd=("$BIN/fuzz-ring" "$net") ;;
	ring-blk) cmd=("$BIN/fuzz-ring" -b "$blk") ;;
	*) t_fail "unknown fuzz target $name"; return ;;
	esac
	out=$(timeout 120 "${cmd[@]}" -s "$seed" -n "$n" -t "$secs" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		t_ok "$name: seed $seed, $n iterations"
		printf '%s\n' "$out" | grep '^fuzz-.*inputs' | sed 's/^/# /'
	else
		t_fail "$name: seed $seed, $n iterations (status $rc)"
		printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
	fi
}

fuzz netlink 1 3000 6
fuzz netlink-unpriv 2 1500 4
fuzz vhost-net 3 400 5
fuzz vhost-blk 4 400 5
fuzz ring-net 5 20 5
fuzz ring-blk 6 20 5
for r in "${REGRESS[@]}"; do
	read -r name seed n <<<"$r"
	fuzz "$name" "$seed" "$n" 30
done

t_check "delete regress-net" vdpa dev del regress-net
t_check "delete regress-blk" vdpa dev del regress-blk
t_eq "no device left" "$(ls /sys/bus/vdpa/devices)" ""
for m in $VDPA_MODULES; do
	[ -d "/sys/module/$m" ] && t_check "rmmod $m" rmmod "$m"
done
t_done
