#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install what building and testing vdpa-oot needs on Debian 12.
# Idempotent: apt runs only when a package is missing.
# Usage: deps.sh [KVER|cloud]   also the image and headers of kernel KVER,
#                               or of Debian's newest cloud kernel
set -eu

pkgs="build-essential bc kmod cpio xz-utils pkg-config
linux-image-amd64 linux-headers-amd64 linux-source-6.1
qemu-system-x86 busybox-static iproute2 ethtool e2fsprogs jq socat
sparse strace dkms libnl-3-dev libnl-genl-3-dev dpdk dpdk-dev podman
flex bison libelf-dev libssl-dev"
case ${1:-} in
"") ;;
cloud) pkgs="$pkgs linux-image-cloud-amd64 linux-headers-cloud-amd64" ;;
*) pkgs="$pkgs linux-image-$1 linux-headers-$1" ;;
esac

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
