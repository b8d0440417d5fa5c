#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Lifecycle races with vhost_vdpa bound: four processes adding and deleting
# net and block devices under the same names (every refusal is "exists",
# "not found" or, for a device another delete is removing, "already being
# deleted"; nothing is left behind), a process opening and closing
# the vhost-vdpa nodes while their devices are deleted and re-added (only
# success, ENOENT, ENODEV, ENXIO or EBUSY), a device deleted under dpdk-testpmd
# forwarding (deletion returns, testpmd quits), and a device unbound and
# deleted under the test driver (it exits with "device removed", the
# rebound device carries traffic on both queue pairs).  No page may stay
# pinned once the users are gone.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vhost_vdpa_lib.sh"

vv_require vdpa "$VV_NET"
tmp=$(mktemp -d /tmp/races.XXXXXX)
bg_pids=()

# cleanup: stop what is still running, then remove devices and modules.
cleanup() {
	local p

	for p in "${bg_pids[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	vv_unload
	echo 0 >/proc/sys/vm/nr_hugepages
	rm -rf "$tmp"
}
trap cleanup EXIT
ulimit -l unlimited

CHURN_PROCS=4
CHURN_ITERS=50
REOPEN_ROUNDS=30

# churn W: CHURN_ITERS adds and deletes of names the other workers use too
# (net rc0..rc3, block rb0..rb1, picked in an order seeded by W).  Writes
# "adds-ok adds-refused dels-ok dels-refused" to $tmp/churn.W and every
# failure that is not "exists", "not found" or "already being deleted" (the
# core drops its lock while a device's driver lets go: a second delete then
# is refused with EBUSY) to $tmp/odd.W.
churn() {
	local w=$1 i name mgmt out
	local add_ok=0 add_ref=0 del_ok=0 del_ref=0
	local names=(rc0 rc1 rc2 rc3 rb0 rb1)

	RANDOM=$((w + 1))
	: >"$tmp/odd.$w"
	for ((i = 0; i < CHURN_ITERS; i++)); do
		name=${names[RANDOM % ${#names[@]}]}
		mgmt=vdpasim_net
		[[ $name = rb* ]] && mgmt=vdpasim_blk
		if out=$(vdpa dev add name "$name" mgmtdev "$mgmt" 2>&1); then
			add_ok=$((add_ok + 1))
		elif grep -q 'exists' <<<"$out"; then
			add_ref=$((add_ref + 1))
		else
			echo "add $name: $out" >>"$tmp/odd.$w"
		fi
		name=${names[RANDOM % ${#names[@]}]}
		if out=$(vdpa dev del "$name" 2>&1); then
			del_ok=$((del_ok + 1))
		elif grep -Eq 'not found|No such device|already being deleted' \
			<<<"$out"; then
			del_ref=$((del_ref + 1))
		else
			echo "del $name: $out" >>"$tmp/odd.$w"
		fi
	done
	echo "$add_ok $add_ref $del_ok $del_ref" >"$tmp/churn.$w"
}

# vdpa_devs: names of the vDPA devices on the bus, one per line.
vdpa_devs() {
	local d

	for d in /sys/bus/vdpa/devices/*; do
		[ -e "$d" ] && basename "$d"
	done
}

# vv_nodes: the vhost-vdpa character devices in /dev, one per line.
vv_nodes() {
	local n

	for n in /dev/vhost-vdpa-*; do
		[ -e "$n" ] && echo "$n"
	done
}

# part_churn: concurrent add/del from CHURN_PROCS processes, then cleanup.
part_churn() {
	local w i pids=() sum=(0 0 0 0) c left odd

	for ((w = 0; w < CHURN_PROCS; w++)); do
		churn "$w" &
		pids+=($!)
	done
	bg_pids+=("${pids[@]}")
	for w in "${pids[@]}"; do
		wait "$w"
	done
	for ((w = 0; w < CHURN_PROCS; w++)); do
		[ -r "$tmp/churn.$w" ] || { t_fail "worker $w finished"; continue; }
		read -ra c <"$tmp/churn.$w"
		for ((i = 0; i < 4; i++)); do
			sum[i]=$((sum[i] + c[i]))
		done
	done
	t_diag "adds: ${sum[0]} ok, ${sum[1]} refused (exists);" \
	       "dels: ${sum[2]} ok, ${sum[3]} refused (not found, being deleted)"
	odd=$(cat "$tmp"/odd.* 2>/dev/null)
	t_eq "every failed add/del was 'exists', 'not found' or 'being deleted'" \
		"$odd" ""
	t_eq "$((CHURN_PROCS * CHURN_ITERS)) adds and dels all accounted for" \
		"$((sum[0] + sum[1])) $((sum[2] + sum[3]))" \
		"$((CHURN_PROCS * CHURN_ITERS)) $((CHURN_PROCS * CHURN_ITERS))"
	left=$(vdpa_devs | wc -l)
	t_eq "devices added = devices deleted + devices left ($left)" \
		"${sum[0]}" "$((sum[2] + left))"
	t_eq "every device left has a vhost-vdpa node" \
		"$(vv_nodes | wc -l)" "$left"
	for w in $(vdpa_devs); do
		vdpa dev del "$w" || t_fail "delete the leftover $w"
	done
	t_check "vdpa dev show lists no device" \
		sh -c '! vdpa -j dev show | grep -q mgmtdev'
	t_eq "/sys/bus/vdpa/devices is empty" "$(vdpa_devs)" ""
	t_eq "no /dev/vhost-vdpa-* left" "$(vv_nodes)" ""
	t_check "a fresh add gets a node" vv_add rc0 vdpasim_net
	t_check "a fresh delete works" vdpa dev del rc0
}

# opener STOPFILE: open and close every vhost-vdpa node until STOPFILE
# exists; errors go to stderr, the number of good opens to stdout.
opener() {
	local n ok=0

	while [ ! -e "$1" ]; do
		for n in /dev/vhost-vdpa-*; do
			[ -e "$n" ] || continue
			# Read only: "<>" would create a regular file when
			# the node vanishes after the -e test.
			{ :; } 3<"$n" && ok=$((ok + 1))
		done
	done
	echo "$ok"
}

# part_reopen: delete and re-add devices while another process opens them.
part_reopen() {
	local pid i fails=0 errs ok other

	vdpa dev add name rco0 mgmtdev vdpasim_net || t_fail "add rco0"
	opener "$tmp/stop" >"$tmp/opens" 2>"$tmp/open.err" &
	pid=$!
	bg_pids+=("$pid")
	for ((i = 0; i < REOPEN_ROUNDS; i++)); do
		timeout 30 vdpa dev del rco0 || fails=$((fails + 1))
		# Every other round a block device takes the freed minor first,
		# so the net device comes back on a different node.
		if ((i % 2 == 0)); then
			timeout 30 vdpa dev add name rcob mgmtdev vdpasim_blk ||
				fails=$((fails + 1))
		else
			timeout 30 vdpa dev del rcob || fails=$((fails + 1))
		fi
		timeout 30 vdpa dev add name rco0 mgmtdev vdpasim_net ||
			fails=$((fails + 1))
	done
	touch "$tmp/stop"
	vv_wait_gone "$pid" 30
	t_eq "opener stops" "$?" 0
	t_eq "$REOPEN_ROUNDS deletes and re-adds under open/close" "$fails" 0
	ok=$(cat "$tmp/opens")
	# bash prints "FILE: strerror" for an open that fails.
	errs=$(sed 's/.*: //' "$tmp/open.err" | sort | uniq -c |
	       sed 's/^ *//' | paste -sd, -)
	t_diag "opens: ${ok:-0} ok; refused: ${errs:-none}"
	[ "${ok:-0}" -gt 0 ] && t_ok "opens succeed between the deletions" ||
		t_fail "opens succeed between the deletions"
	# ENXIO: the open looked the node up just before the deletion
	# unlinked it, and the char device layer found no cdev any more.
	other=$(grep -Ev ': (No such file or directory|No such device|No such device or address|Device or resource busy)$' \
		"$tmp/open.err")
	t_eq "opens only fail with ENOENT, ENODEV, ENXIO or EBUSY" "$other" ""
	t_check "every /dev/vhost-vdpa-* is a character device" \
		sh -c 'for n in /dev/vhost-vdpa-*; do
			[ ! -e "$n" ] || [ -c "$n" ] || exit 1; done'
	vdpa dev del rco0
	[ -e /sys/bus/vdpa/devices/rcob ] && vdpa dev del rcob
	t_eq "no /dev/vhost-vdpa-* left after open/close" "$(vv_nodes)" ""
	t_eq "no pages pinned after open/close" "$(vv_pins)" "$pins0"
}

# rx_packets FILE: the last RX-packets count testpmd printed, or 0.
rx_packets() {
	sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' "$1" | tail -n 1 | grep . ||
		echo 0
}

# part_dpdk: delete the device under testpmd forwarding, then quit it.
part_dpdk() {
	local net pid t0 t1 rc rx mark

	if ! command -v dpdk-testpmd >/dev/null; then
		t_diag "dpdk-testpmd missing: skipping the deletion under DPDK"
		return
	fi
	if ! vv_hugepages; then
		t_diag "cannot reserve 256 MiB of huge pages: skipping DPDK"
		return
	fi
	net=$(vv_add rcd0 vdpasim_net) || { t_fail "device for testpmd"; return; }
	mkfifo "$tmp/pmd.in"
	# As in dpdk.sh: virtio-user puts virtual addresses in the rings.
	# Line-buffered, so that statistics can be read while it runs.
	timeout 300 stdbuf -oL dpdk-testpmd -l 0-1 --no-pci --iova-mode=va \
		--file-prefix=vvraces \
		--vdev="net_virtio_user0,path=$net,queues=1,queue_size=256" \
		-- -i --nb-cores=1 --rxq=1 --txq=1 --total-num-mbufs=8192 \
		<"$tmp/pmd.in" >"$tmp/pmd.out" 2>&1 &
	pid=$!
	bg_pids+=("$pid")
	exec 8>"$tmp/pmd.in"
	wait_for 90 grep -q 'testpmd>' "$tmp/pmd.out" ||
		t_fail "testpmd starts"
	echo "set fwd io" >&8
	echo "start tx_first" >&8
	sleep 3
	for _ in 1 2 3 4 5; do
		echo "show port stats 0" >&8
		sleep 2
		rx=$(rx_packets "$tmp/pmd.out")
		[ "$rx" -gt 0 ] && break
	done
	if [ "$rx" -gt 0 ]; then
		t_ok "testpmd forwards before the deletion ($rx frames)"
	else
		t_fail "testpmd forwards before the deletion"
		tail -n 40 "$tmp/pmd.out" | sed 's/^/#   /'
	fi
	mark=$(wc -l <"$tmp/pmd.out")
	t0=$(date +%s.%N)
	t_check "delete the device under testpmd" timeout 30 vdpa dev del rcd0
	t1=$(date +%s.%N)
	t_diag "deletion took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
	t_check "node $net is gone" test ! -e "$net"
	echo "stop" >&8
	sleep 1
	echo "quit" >&8
	exec 8>&-
	vv_wait_gone "$pid" 60
	rc=$?
	t_eq "testpmd exits after quit" "$rc" 0
	grep -q 'Bye' "$tmp/pmd.out" || t_diag "testpmd printed no Bye"
	tail -n +$((mark + 1)) "$tmp/pmd.out" | grep -iE 'fail|error' |
		sort | uniq -c | head -n 10 | sed 's/^ */# testpmd after the deletion: /'
	if [ "$rc" -ne 0 ]; then
		tail -n 30 "$tmp/pmd.out" | sed 's/^/#   /'
	fi
	echo 0 >/proc/sys/vm/nr_hugepages
	t_eq "no pages pinned once testpmd is gone" "$(vv_pins)" "$pins0"
}

# part_unbind: unbind one device and delete another under running traffic.
part_unbind() {
	local a b pa pb pu pd rc

	a=$(vv_add rcq0 vdpasim_net max_vqp 2) || t_fail "device rcq0"
	b=$(vv_add rcq1 vdpasim_net max_vqp 2) || t_fail "device rcq1"
	"$VV_NET" -n 100000000 -t 30 -Q -p 1 "$a" 2>"$tmp/a.err" &
	pa=$!
	"$VV_NET" -n 100000000 -t 30 -Q -p 0 "$b" 2>"$tmp/b.err" &
	pb=$!
	bg_pids+=("$pa" "$pb")
	sleep 3
	t_check "traffic on rcq0 queue pair 1 before the unbind" kill -0 "$pa"
	t_check "traffic on rcq1 queue pair 0 before the deletion" kill -0 "$pb"
	timeout 30 sh -c 'echo rcq0 >/sys/bus/vdpa/drivers/vhost_vdpa/unbind' &
	pu=$!
	timeout 30 vdpa dev del rcq1 &
	pd=$!
	wait "$pu"
	t_eq "unbind rcq0 under traffic" "$?" 0
	wait "$pd"
	t_eq "delete rcq1 under traffic, at the same time" "$?" 0
	t_check "rcq0 is unbound" test ! -e /sys/bus/vdpa/devices/rcq0/driver
	vv_wait_gone "$pa" 40
	rc=$?
	t_eq "the driver on the unbound device exits with 'device removed' (3)" \
		"$rc" 3
	sed 's/^/# /' "$tmp/a.err"
	vv_wait_gone "$pb" 40
	rc=$?
	t_eq "the driver on the deleted device exits with 'device removed' (3)" \
		"$rc" 3
	sed 's/^/# /' "$tmp/b.err"
	t_check "bind rcq0 again through sysfs" \
		sh -c 'echo rcq0 >/sys/bus/vdpa/drivers/vhost_vdpa/bind'
	a=$(vv_node rcq0) && t_ok "rebound rcq0 has a node ($a)" ||
		t_fail "rebound rcq0 has a node"
	t_check "traffic on the rebound device, queue pair 0" \
		"$VV_NET" -n 2000 -p 0 "$a"
	t_check "traffic on the rebound device, queue pair 1" \
		"$VV_NET" -n 2000 -p 1 "$a"
	t_check "delete rcq0" vdpa dev del rcq0
}

# timed NAME FUNC: run one part and log how long it took.
timed() {
	local s=$SECONDS

	"$2"
	t_diag "$1 took $((SECONDS - s)) s"
}

pins0=$(vv_pins)
t_check "load vhost_vdpa and the simulators" vv_load
timed "concurrent add/del" part_churn
timed "open/close against delete" part_reopen
timed "delete under testpmd" part_dpdk
timed "unbind and delete under the test driver" part_unbind
vv_unload
t_check "our modules are unloaded" \
	sh -c '! grep -Eq "^(vhost_vdpa|vdpa|vdpa_swdev|vdpa_swdev[a-z_]*) " /proc/modules'
t_eq "no pages left pinned" "$(vv_pins)" "$pins0"
t_done
