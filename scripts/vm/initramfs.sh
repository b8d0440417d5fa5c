#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Build the busybox initramfs that boots KVER with the host root shared
# over FS (9p, or virtiofs for a kernel without 9p such as Debian's cloud
# kernel).
# Usage: initramfs.sh KVER OUT.cpio.gz FS
set -eu

kver=$1
out=$2
fs=$3
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/bin" "$tmp/lib/modules" "$tmp/proc" "$tmp/sys" "$tmp/dev" \
	"$tmp/lower" "$tmp/upper" "$tmp/newroot"
cp /bin/busybox "$tmp/bin/busybox"
cp "$here/init" "$tmp/init"
chmod +x "$tmp/init"
echo "$fs" >"$tmp/rootfs"
case $fs in
9p) fsmods="9pnet_virtio 9p" ;;
virtiofs) fsmods="virtiofs" ;;
esac

# Modules the guest needs before it can see the host root, in load order.
# A kernel without /lib/modules (the debug kernel) has them built in.
: >"$tmp/modules.order"
[ -d "/lib/modules/$kver" ] &&
for m in virtio_pci $fsmods overlay; do
	modprobe -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
	cp "$ko" "$tmp/lib/modules/"
	basename "$ko" >>"$tmp/modules.order"
done

(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
