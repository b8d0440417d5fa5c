#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the modules through DKMS, as an operator does, into scratch trees
# under build/dkms (the host's /usr/src, /var/lib/dkms and /lib/modules stay
# untouched): the vdpa-oot package and its optional vdpa-oot-vendor variant
# (needs linux-source-6.1).  Then boot the test VM with exactly those
# installed modules in updates/dkms and load them with modprobe by name
# (scripts/dkms-guest.sh).
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
# The tracked files, as a clone has them (not this tree's build output),
# and the optional vendor-driver package beside them.
git ls-files -z | xargs -0 cp --parents -t "$src/vdpa-oot-$ver"
scripts/dkms-vendor.sh "$src" >/dev/null

# pkg NAME: dkms add, build and install package NAME for KVER.
pkg() {
	local step

	for step in add build "install --no-depmod"; do
		# shellcheck disable=SC2086
		dkms $step -m "$1" -v "$ver" -k "$kver" --sourcetree "$src" \
			--dkmstree "$tree" --installtree "$inst" || return 1
	done
	echo "# dkms: $(dkms status -m "$1" --dkmstree "$tree" --installtree "$inst" | head -n 1)"
}
log=$scratch/dkms.log
for p in vdpa-oot vdpa-oot-vendor; do
	if ! pkg $p >"$log" 2>&1; then
		cat "$log"
		find "$tree" -name make.log -exec tail -n 40 {} + 2>/dev/null
		echo "0 passed, 1 failed"
		exit 1
	fi
	grep '^# dkms' "$log"
done
# Without DKMS: make install puts every module of dkms.conf under updates/,
# make uninstall takes every one of them away again.
plain=$scratch/plain
mods=$(sed -n 's/^BUILT_MODULE_NAME\[[0-9]*\]="\(.*\)"$/\1/p' dkms.conf)
missing=
if make -s KVER="$kver" INSTALL_MOD_PATH="$plain" install >"$log" 2>&1; then
	for m in $mods; do
		[ -n "$(find "$plain/lib/modules/$kver/updates" -name "$m.ko*")" ] ||
			missing="$missing $m"
	done
else
	missing=" (make install failed)"
fi
make -s KVER="$kver" INSTALL_MOD_PATH="$plain" uninstall >>"$log" 2>&1 || true
left=$(find "$plain" -name '*.ko*' -printf ' %f' 2>/dev/null || true)
if [ -n "$missing$left" ]; then
	cat "$log"
	echo "# make install missed:${missing:- nothing}; make uninstall left:${left:- nothing}"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "# make install: $(wc -w <<<"$mods") modules under updates/; make uninstall: none left"
KVER=$kver scripts/vm/run.sh -- scripts/dkms-guest.sh \
	"$inst/$kver/updates/dkms" "$src/vdpa-oot-vendor-$ver/dkms.conf"
