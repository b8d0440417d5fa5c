#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the modules through DKMS, as an operator does, into scratch trees
# under build/dkms (the host's /usr/src, /var/lib/dkms and /lib/modules stay
# untouched), then boot the test VM with exactly those installed modules in
# updates/dkms and load them with modprobe by name (scripts/dkms-guest.sh).
# Prints TAP and "N passed, N failed"; exits non-zero on any failure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
kver=${KVER:-$(scripts/kver.sh)}
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
scratch=$top/build/dkms
src=$scratch/src
tree=$scratch/tree
inst=$scratch/modules

command -v dkms >/dev/null || { echo "dkms-test: dkms is not installed" >&2; exit 2; }
rm -rf "$scratch"
mkdir -p "$src/vdpa-oot-$ver" "$tree" "$inst/$kver"
# DKMS finds the kernel's build tree in the install tree.
ln -s "/lib/modules/$kver/build" "$inst/$kver/build"
# The tracked files, as a clone has them (not this tree's build output).
git ls-files -z | xargs -0 cp --parents -t "$src/vdpa-oot-$ver"

d() {
	dkms "$@" -m vdpa-oot -v "$ver" -k "$kver" --sourcetree "$src" \
		--dkmstree "$tree" --installtree "$inst"
}
log=$scratch/dkms.log
if ! { d add && d build && d install --no-depmod; } >"$log" 2>&1; then
	cat "$log"
	find "$tree" -name make.log -exec cat {} + 2>/dev/null | tail -n 40
	echo "0 passed, 1 failed"
	exit 1
fi
echo "# dkms: $(d status 2>/dev/null | head -n 1)"
KVER=$kver scripts/vm/run.sh -- scripts/dkms-guest.sh "$inst/$kver/updates/dkms"
