#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In the test VM: put the modules DKMS installed (directory $1) where DKMS
# installs them on a real host, /lib/modules/$(uname -r)/updates/dkms, run
# depmod, and check that every module of dkms.conf, and of the vendor
# package's dkms.conf ($2), loads by name from there, that a device works
# through them, and that all unload cleanly.
source "$(dirname "$0")/../selftests/lib.sh"

dir=$1
kver=$(uname -r)
dest=/lib/modules/$kver/updates/dkms

# modules_of DKMS.CONF: the modules a DKMS package installs.
modules_of() {
	sed -n 's/^BUILT_MODULE_NAME\[[0-9]*\]="\(.*\)"$/\1/p' "$1"
}
core=$(modules_of "$TOP/dkms.conf")
vendor=$(modules_of "$2")
mods="$core $vendor"

# Nothing of ours from anywhere else.
rm -rf "/lib/modules/$kver/updates"
mkdir -p "$dest"
mount --bind "$dir" "$dest"
depmod -a

for m in $mods; do
	path=$(modinfo -n "$m" 2>/dev/null)
	if [ "$path" = "$dest/$m.ko" ]; then
		t_ok "$m resolves to updates/dkms"
	else
		t_fail "$m resolves to '$path'"
	fi
done

for m in $mods; do
	t_check "modprobe $m" modprobe "$m"
done
# The kernel's virtio-net binds to what virtio_vdpa offers (no udev here to
# load it on demand); vhost_vdpa would take the device first.
modprobe virtio_net
rmmod vhost_vdpa
t_check "vdpa dev add through the installed modules" \
	vdpa dev add name dkms0 mgmtdev vdpasim_net
if wait_for 10 netdev_of dkms0; then
	t_ok "virtio_vdpa gives dkms0 a netdev ($(netdev_of dkms0))"
else
	t_fail "no netdev on dkms0"
fi
t_check "vdpa dev del" vdpa dev del dkms0
for m in $vendor $(echo "$core" | tac); do
	[ -d "/sys/module/$m" ] || continue
	t_check "modprobe -r $m" modprobe -r "$m"
done
umount "$dest"
t_done
