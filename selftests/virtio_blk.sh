#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel's virtio_blk driver on a vdpa_sim_blk RAM disk through
# virtio_vdpa: capacity, raw direct I/O, an ext4 file system whose data
# survives unmount/fsck/mount, discard (fstrim) and write-zeroes
# (blkdiscard -z).
source "$(dirname "$0")/lib.sh"

DEVNAME=vb0
MNT=/tmp/virtio_blk.$$

for cmd in vdpa mkfs.ext4 fsck.ext4 fstrim blkdiscard sha256sum cmp; do
	command -v "$cmd" >/dev/null || t_skip_all "$cmd not installed"
done

cleanup() {
	mountpoint -q "$MNT" && umount "$MNT"
	rmdir "$MNT" 2>/dev/null
	rm -f /tmp/vblk.$$.*
	vdpa_dev_exists "$DEVNAME" && vdpa dev del "$DEVNAME"
	[ -d /sys/module/virtio_vdpa ] && rmmod virtio_vdpa
	unload_all
}
trap cleanup EXIT


has_disk() {
	disk_of "$1" >/dev/null
}

t_check "load vdpa_sim_blk, virtio_vdpa and virtio_blk" \
	bash -c 'modprobe vdpa_sim_blk && modprobe virtio_vdpa &&
		 modprobe virtio_blk && modprobe ext4'
t_check "vdpa dev add $DEVNAME" \
	vdpa dev add name "$DEVNAME" mgmtdev vdpasim_blk
if ! wait_for 5 has_disk "$DEVNAME"; then
	t_fail "a virtio_blk disk appears on $DEVNAME"
	t_done
fi
DISK=$(disk_of "$DEVNAME")
DEV=/dev/$DISK
t_ok "a virtio_blk disk appears on $DEVNAME ($DISK)"
wait_for 5 test -b "$DEV"
if [ ! -b "$DEV" ]; then
	IFS=: read -r major minor <"/sys/block/$DISK/dev"
	mknod "$DEV" b "$major" "$minor"
fi
t_eq "capacity is 128 MiB" $(($(cat "/sys/block/$DISK/size") * 512)) \
	$((128 << 20))
t_eq "serial (GET_ID) is the device name" \
	"$(cat "/sys/block/$DISK/serial" 2>/dev/null)" "$DEVNAME"

# Raw I/O, bypassing the page cache, at the start, middle and end.
head -c $((4 << 20)) /dev/urandom >/tmp/vblk.$$.raw
ok=1
for off in 0 61 124; do
	dd if=/tmp/vblk.$$.raw of="$DEV" bs=1M seek="$off" oflag=direct \
		conv=notrunc status=none || ok=0
	dd if="$DEV" of=/tmp/vblk.$$.back bs=1M skip="$off" count=4 \
		iflag=direct status=none || ok=0
	cmp -s /tmp/vblk.$$.raw /tmp/vblk.$$.back || ok=0
done
if [ "$ok" = 1 ]; then
	t_ok "direct I/O write/read-back at 0, 61 and 124 MiB"
else
	t_fail "direct I/O write/read-back at 0, 61 and 124 MiB"
fi
t_eq "nothing is read beyond the end" \
	"$(dd if="$DEV" bs=1M skip=128 count=1 iflag=direct status=none 2>/dev/null |
	   wc -c)" 0

# A file system whose data survives an unmount, fsck and mount again.
mkdir -p "$MNT"
t_check "mkfs.ext4" mkfs.ext4 -q -F "$DEV"
t_check "mount" mount -t ext4 "$DEV" "$MNT"
ok=1
mountpoint -q "$MNT" || ok=0
for i in 1 2 3 4 5; do
	head -c $((i << 20)) /dev/urandom >"$MNT/file$i" || ok=0
done
mkdir -p "$MNT/dir" && cp "$MNT/file3" "$MNT/dir/copy" || ok=0
(cd "$MNT" && sha256sum file* dir/copy) >/tmp/vblk.$$.sums || ok=0
if [ "$ok" = 1 ]; then
	t_ok "write 16 MiB of random files"
else
	t_fail "write 16 MiB of random files"
fi
t_check "umount" umount "$MNT"
t_check "fsck.ext4 -n -f is clean" fsck.ext4 -n -f "$DEV"
echo 3 >/proc/sys/vm/drop_caches
t_check "mount again" mount -t ext4 "$DEV" "$MNT"
t_check "sha256 of every file matches" \
	sh -c "mountpoint -q $MNT && cd $MNT &&
	       sha256sum -c --quiet /tmp/vblk.$$.sums"

# Discard: the queue advertises it and fstrim gets through.
t_eq "discard is advertised" \
	"$(($(cat "/sys/block/$DISK/queue/discard_max_bytes") > 0))" 1
rm -f "$MNT"/file*
sync
out=$(fstrim -v "$MNT" 2>&1)
rc=$?
t_diag "$out"
if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q 'trimmed'; then
	t_ok "fstrim"
else
	t_fail "fstrim"
fi
t_check "data still intact after fstrim" \
	sh -c "mountpoint -q $MNT && cd $MNT && grep dir/copy /tmp/vblk.$$.sums |
	       sha256sum -c --quiet"
t_check "umount" umount "$MNT"
t_check "fsck.ext4 -n -f is clean after fstrim" fsck.ext4 -n -f "$DEV"

# Write zeroes: the queue advertises it; a random region reads back zero.
t_eq "write-zeroes is advertised" \
	"$(($(cat "/sys/block/$DISK/queue/write_zeroes_max_bytes") > 0))" 1
off=$((100 << 20))
dd if=/tmp/vblk.$$.raw of="$DEV" bs=1M seek=100 oflag=direct status=none
t_check "blkdiscard -z 3 MiB at 100 MiB" \
	blkdiscard -f -z -o "$off" -l $((3 << 20)) "$DEV"
dd if="$DEV" of=/tmp/vblk.$$.back bs=1M skip=100 count=4 iflag=direct \
	status=none
head -c $((3 << 20)) /dev/zero >/tmp/vblk.$$.want
tail -c $((1 << 20)) /tmp/vblk.$$.raw >>/tmp/vblk.$$.want
t_check "zeroed region reads zero, the next MiB is untouched" \
	cmp /tmp/vblk.$$.want /tmp/vblk.$$.back
t_check "blkdiscard (discard) 8 MiB at 64 MiB" \
	blkdiscard -f -o $((64 << 20)) -l $((8 << 20)) "$DEV"

t_check "vdpa dev del $DEVNAME" vdpa dev del "$DEVNAME"
if wait_for 5 test ! -e "/sys/block/$DISK"; then
	t_ok "disk is gone after dev del"
else
	t_fail "disk is gone after dev del"
fi
t_check "rmmod virtio_vdpa" rmmod virtio_vdpa
t_done
