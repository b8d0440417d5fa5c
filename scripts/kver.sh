#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the kernel version that the build and the test VM use by default:
# the newest installed kernel that has both its headers (to build for) and
# its image (to boot), the stock flavour before the cloud one.  KVER= on
# the make command line chooses another.
# Usage: kver.sh [cloud]    (cloud: the newest such cloud kernel)
set -u
best=
for b in $(ls -d /lib/modules/*/build 2>/dev/null | sort -V -r); do
	v=${b#/lib/modules/}
	v=${v%/build}
	[ -r "/boot/vmlinuz-$v" ] || continue
	case ${1:-}:$v in
	cloud:*-cloud-*) echo "$v"; exit 0 ;;
	cloud:*) ;;
	*:*-cloud-*) [ -n "$best" ] || best=$v ;;
	*) echo "$v"; exit 0 ;;
	esac
done
if [ -n "$best" ]; then
	echo "$best"
	exit 0
fi
echo "kver: no kernel with both headers and an image in /lib/modules and" \
	"/boot; scripts/deps.sh installs linux-image-amd64 and" \
	"linux-headers-amd64" >&2
exit 1
