#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Surprise removal under virtio_vdpa: the vDPA device is deleted, or
# virtio_vdpa or the simulator module is removed, while a virtio_net
# interface is up with traffic running and while a virtio_blk disk is
# mounted with I/O running.  Each removal must either succeed cleanly or be
# refused with EBUSY; nothing may crash, hang or be left behind, and every
# module unloads at the end.  What happened is reported with t_diag.
source "$(dirname "$0")/lib.sh"

RAWLOOP=$TOOLS/bin/rawloop
MNT=/tmp/virtio_removal.$$
OURS="virtio_vdpa vhost_vdpa vdpa_sim_net vdpa_sim_blk vdpa_swdev vdpa vringh"
BG_PID=

for cmd in vdpa ip mkfs.ext4; do
	command -v "$cmd" >/dev/null || t_skip_all "$cmd not installed"
done
[ -x "$RAWLOOP" ] || t_skip_all "tools/bin/rawloop not built (make tools)"

stop_bg() {
	if [ -n "$BG_PID" ]; then
		kill "$BG_PID" 2>/dev/null
		wait "$BG_PID" 2>/dev/null
		BG_PID=
	fi
}

cleanup() {
	local d

	stop_bg
	mountpoint -q "$MNT" && umount "$MNT"
	rmdir "$MNT" 2>/dev/null
	rm -f /tmp/vrem.$$.*
	for d in vr_net vr_blk vr_c vr_d; do
		vdpa_dev_exists "$d" && vdpa dev del "$d"
	done
	[ -d /sys/module/virtio_vdpa ] && rmmod virtio_vdpa
	unload_all
}
trap cleanup EXIT

tx_packets() {
	cat "/sys/class/net/$1/statistics/tx_packets" 2>/dev/null || echo 0
}

pid_gone() {
	! kill -0 "$1" 2>/dev/null
}

# bg_stops DESC: the background job ends by itself within 20 s.
bg_stops() {
	local rc

	if [ -z "$BG_PID" ]; then
		t_fail "$1: no background job was running"
	elif wait_for 20 pid_gone "$BG_PID"; then
		wait "$BG_PID"
		rc=$?
		t_ok "$1: background job ended by itself (status $rc)"
		t_diag "$1: background job said: $(tail -n 2 /tmp/vrem.$$.bg |
			tr '\n' ' ')"
		BG_PID=
	else
		t_fail "$1: background job ended by itself"
		stop_bg
	fi
}

# remove DESC CMD...: run a removal; pass when it succeeds within 60 s or
# is refused with EBUSY.  Sets REMOVED=1 when it succeeded.
remove() {
	local desc=$1 out rc start

	shift
	start=$(date +%s)
	out=$(timeout 60 "$@" 2>&1)
	rc=$?
	REMOVED=0
	if [ "$rc" -eq 0 ]; then
		REMOVED=1
		t_ok "$desc: removed cleanly in $(($(date +%s) - start)) s"
	elif [ "$rc" -eq 124 ]; then
		t_fail "$desc: still running after 60 s"
	elif printf '%s\n' "$out" | grep -Eq 'in use|busy|Busy'; then
		t_ok "$desc: refused with EBUSY"
	else
		t_fail "$desc: failed with status $rc"
	fi
	[ -n "$out" ] && t_diag "$desc: $out"
}

# net_up: a vr_net device with its virtio_net interface up and frames
# looping through it in the background; sets NETDEV.
net_up() {
	local before

	modprobe vdpa_sim_net && modprobe virtio_vdpa && modprobe virtio_net ||
		return 1
	vdpa dev add name vr_net mgmtdev vdpasim_net max_vqp 2 || return 1
	wait_for 5 netdev_of vr_net || return 1
	NETDEV=$(netdev_of vr_net)
	no_ipv6 "$NETDEV"
	ip link set dev "$NETDEV" up || return 1
	wait_for 5 grep -qx 1 "/sys/class/net/$NETDEV/carrier" || return 1
	"$RAWLOOP" -i "$NETDEV" -c 4000000 -s 1000 -w 64 -t 5000 \
		>/tmp/vrem.$$.bg 2>&1 &
	BG_PID=$!
	before=$(tx_packets "$NETDEV")
	sleep 1
	[ "$(tx_packets "$NETDEV")" -gt $((before + 10)) ]
}

# blk_up: a vr_blk device with ext4 mounted and writes running in the
# background; sets DISK.
blk_up() {
	modprobe vdpa_sim_blk && modprobe virtio_vdpa && modprobe virtio_blk &&
		modprobe ext4 || return 1
	vdpa dev add name vr_blk mgmtdev vdpasim_blk || return 1
	wait_for 5 disk_of vr_blk || return 1
	DISK=$(disk_of vr_blk)
	wait_for 5 test -b "/dev/$DISK" || return 1
	mkfs.ext4 -q -F "/dev/$DISK" || return 1
	mkdir -p "$MNT"
	mount -t ext4 "/dev/$DISK" "$MNT" || return 1
	(
		i=0
		while :; do
			i=$(((i + 1) % 4))
			dd if=/dev/urandom of="$MNT/f$i" bs=1M count=4 \
				conv=fsync status=none || exit 1
			dd if="/dev/$DISK" of=/dev/null bs=1M count=4 \
				iflag=direct status=none || exit 2
		done
	) >/tmp/vrem.$$.bg 2>&1 &
	BG_PID=$!
	sleep 2
	kill -0 "$BG_PID"
}

# blk_after DESC: the mount can be taken down after the removal.
blk_after() {
	stop_bg
	if timeout 60 umount "$MNT"; then
		t_ok "$1: umount afterwards"
	else
		t_fail "$1: umount afterwards"
		umount -l "$MNT" 2>/dev/null
	fi
}

# setup DESC FUNC: run a setup function in this shell (it sets variables
# and starts the background job), recording the result.
setup() {
	if "$2"; then
		t_ok "$1"
	else
		t_fail "$1"
	fi
}

# 1. vdpa dev del with the interface up and traffic running.
setup "net: interface up with traffic running" net_up
remove "net: vdpa dev del with traffic" vdpa dev del vr_net
t_eq "net: interface is gone" "$(ip -o link show "$NETDEV" 2>/dev/null)" ""
bg_stops "net: dev del"

# 2. rmmod virtio_vdpa with the interface up and traffic running.
setup "net: interface up with traffic running" net_up
remove "net: rmmod virtio_vdpa with traffic" rmmod virtio_vdpa
if [ "$REMOVED" = 1 ]; then
	t_eq "net: interface is gone" \
		"$(ip -o link show "$NETDEV" 2>/dev/null)" ""
	bg_stops "net: rmmod virtio_vdpa"
	t_check "net: vr_net stays on the bus, unbound" \
		test -e /sys/bus/vdpa/devices/vr_net -a \
		! -e /sys/bus/vdpa/devices/vr_net/driver
	t_check "net: modprobe virtio_vdpa binds it again" \
		sh -c 'modprobe virtio_vdpa &&
		       test -e /sys/bus/vdpa/devices/vr_net/driver'
	t_check "net: and the interface comes back" \
		wait_for 5 netdev_of vr_net
fi
stop_bg
t_check "net: vdpa dev del" vdpa dev del vr_net

# 3. rmmod vdpa_sim_net with the interface up and traffic running.
setup "net: interface up with traffic running" net_up
remove "net: rmmod vdpa_sim_net with traffic" rmmod vdpa_sim_net
if [ "$REMOVED" = 1 ]; then
	t_eq "net: interface is gone" \
		"$(ip -o link show "$NETDEV" 2>/dev/null)" ""
	t_check "net: vr_net is gone" test ! -e /sys/bus/vdpa/devices/vr_net
	bg_stops "net: rmmod vdpa_sim_net"
else
	stop_bg
	t_check "net: vdpa dev del" vdpa dev del vr_net
fi

# 4. vdpa dev del with the disk mounted and I/O running.
setup "blk: ext4 mounted with I/O running" blk_up
remove "blk: vdpa dev del while mounted" vdpa dev del vr_blk
t_check "blk: disk is gone" wait_for 10 test ! -e "/sys/block/$DISK"
bg_stops "blk: dev del"
blk_after "blk: dev del"

# 5. rmmod virtio_vdpa with the disk mounted and I/O running.
setup "blk: ext4 mounted with I/O running" blk_up
remove "blk: rmmod virtio_vdpa while mounted" rmmod virtio_vdpa
if [ "$REMOVED" = 1 ]; then
	t_check "blk: disk is gone" wait_for 10 test ! -e "/sys/block/$DISK"
	bg_stops "blk: rmmod virtio_vdpa"
fi
blk_after "blk: rmmod virtio_vdpa"
t_check "blk: vdpa dev del" vdpa dev del vr_blk

# 6. rmmod vdpa_sim_blk with the disk mounted and I/O running.
setup "blk: ext4 mounted with I/O running" blk_up
remove "blk: rmmod vdpa_sim_blk while mounted" rmmod vdpa_sim_blk
if [ "$REMOVED" = 1 ]; then
	t_check "blk: disk is gone" wait_for 10 test ! -e "/sys/block/$DISK"
	t_check "blk: vr_blk is gone" test ! -e /sys/bus/vdpa/devices/vr_blk
	bg_stops "blk: rmmod vdpa_sim_blk"
fi
blk_after "blk: rmmod vdpa_sim_blk"
vdpa_dev_exists vr_blk && vdpa dev del vr_blk

# Leaks: every kmalloc made from virtio_vdpa or virtio_ring (the rings it
# creates) while devices come and go must be freed again.  The kmem trace
# events pair each allocation with its kfree by pointer.
TR=/sys/kernel/tracing

cycle() {
	vdpa dev add name vr_c mgmtdev vdpasim_net max_vqp 2 &&
	wait_for 5 netdev_of vr_c &&
	echo vr_c >/sys/bus/vdpa/drivers/virtio_vdpa/unbind &&
	echo vr_c >/sys/bus/vdpa/drivers/virtio_vdpa/bind &&
	wait_for 5 netdev_of vr_c &&
	vdpa dev del vr_c &&
	vdpa dev add name vr_d mgmtdev vdpasim_blk &&
	wait_for 5 disk_of vr_d &&
	vdpa dev del vr_d
}

trace_kmem() {
	echo "$1" >"$TR/events/kmem/kmalloc/enable" &&
	echo "$1" >"$TR/events/kmem/kfree/enable" &&
	echo "$1" >"$TR/tracing_on"
}

[ -d "$TR/events" ] || mount -t tracefs nodev "$TR" 2>/dev/null
if [ ! -d "$TR/events/kmem/kmalloc" ]; then
	t_diag "no kmem trace events: leak check skipped"
elif modprobe -a vdpa_sim_net vdpa_sim_blk virtio_vdpa virtio_net \
	virtio_blk; then
	cycle
	vdpa_dev_exists vr_c && vdpa dev del vr_c
	vdpa_dev_exists vr_d && vdpa dev del vr_d
	echo 8192 >"$TR/buffer_size_kb"
	echo >"$TR/trace"
	trace_kmem 1
	ok=1
	for i in 1 2 3 4 5 6 7 8 9 10; do
		cycle || ok=0
	done
	sleep 1
	trace_kmem 0
	# Read it while virtio_vdpa is loaded: call sites resolve at read time.
	cp "$TR/trace" /tmp/vrem.$$.trace
	echo >"$TR/trace"
	echo 1408 >"$TR/buffer_size_kb"
	if [ "$ok" = 1 ]; then
		t_ok "10 add/bind/unbind/del cycles of net and blk devices"
	else
		t_fail "10 add/bind/unbind/del cycles of net and blk devices"
	fi
	# "# entries-in-buffer/entries-written: N/M": N < M means overrun.
	hdr=$(sed -n \
		's|.*entries-in-buffer/entries-written: \([0-9]*\)/\([0-9]*\).*|\1 \2|p' \
		/tmp/vrem.$$.trace)
	read -r kept written <<<"$hdr"
	ours=$(grep -cE 'kmalloc: call_site=[^ ]* \[virtio_(vdpa|ring)\]' \
		/tmp/vrem.$$.trace)
	t_diag "kmem trace: $written events, $ours allocations by virtio_vdpa/virtio_ring"
	if [ -z "$kept" ] || [ "$kept" != "$written" ] || [ "$ours" -eq 0 ]; then
		t_fail "kmem trace is complete"
	else
		left=$(awk '
			/ kmalloc: call_site=[^ ]* \[virtio_(vdpa|ring)\]/ {
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^call_site=/) site = $i
					if ($i ~ /^ptr=/) ptr = $i
				}
				live[ptr] = site
			}
			/ kfree: / {
				for (i = 1; i <= NF; i++)
					if ($i ~ /^ptr=/) delete live[$i]
			}
			END { for (p in live) printf " %s(%s)", live[p], p }
		' /tmp/vrem.$$.trace)
		t_eq "every virtio_vdpa/virtio_ring allocation was freed" \
			"$left" ""
	fi
else
	t_fail "load the modules for the leak check"
fi
vdpa_dev_exists vr_c && vdpa dev del vr_c
vdpa_dev_exists vr_d && vdpa dev del vr_d

# Everything unloads, and nothing of ours stays behind.
rmmod virtio_vdpa 2>/dev/null
unload_all
left=
for m in $OURS; do
	[ -d "/sys/module/$m" ] && left="$left $m"
done
t_eq "every module unloads" "$left" ""
t_check "the vdpa bus is gone" test ! -e /sys/bus/vdpa
t_done
