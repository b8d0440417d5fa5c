#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build (once per machine) the debug kernel `make check-debug` runs the tests
# on: Debian's linux-source-6.1 with KASAN, UBSAN, kmemleak, lockdep and
# object debugging, configured from debug.config.  The result is cached
# outside the repository, keyed by the configuration and the source
# package, and its directory is printed on stdout:
#   DIR/linux-source-6.1   the built tree (KDIR for our modules)
#   DIR/bzImage            the kernel
#   DIR/kernelrelease      its version string
#   DIR/modroot            its modules.builtin & co, for depmod in the guest
# With --cached it builds nothing and fails unless the kernel is cached.
set -eu -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
tarball=/usr/src/linux-source-6.1.tar.xz
cache=${VDPA_OOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vdpa-oot}
[ -r "$tarball" ] || { echo "debug-kernel: $tarball missing" >&2; exit 1; }

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
# Bump when the build steps below change what gets built.
recipe=1
key=$( { echo "$srcver $recipe"; cat "$here/debug.config"; } | sha256sum | cut -c1-12)
dir=$cache/debug-kernel-$key
if [ -e "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi
# --cached: only say whether it is built.
[ "${1:-}" = --cached ] && exit 1

echo "debug-kernel: building $dir (once per machine; about 30 min on 2 cores)" >&2
# Built where it stays: a half-built directory has no .done and starts over.
rm -rf "$dir"
mkdir -p "$dir"
log=$dir/build.log
tar -C "$dir" -xJf "$tarball"
src=$dir/linux-source-6.1
(
	cd "$src"
	make x86_64_defconfig
	scripts/kconfig/merge_config.sh -m .config \
		kernel/configs/kvm_guest.config "$here/debug.config"
	make olddefconfig
	make -j"$(($(nproc) + 1))" bzImage modules
	make -s kernelrelease >"$dir/kernelrelease"
	make INSTALL_MOD_PATH="$dir/modroot" modules_install
) >"$log" 2>&1 || {
	tail -n 30 "$log" >&2
	echo "debug-kernel: build failed, log in $log" >&2
	exit 1
}
cp "$src/arch/x86/boot/bzImage" "$dir/bzImage"
touch "$dir/.done"
echo "$dir"
