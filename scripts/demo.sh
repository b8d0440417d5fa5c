#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The README's main job, run inside the test VM by `make demo`: install the
# modules the way an operator would, create a simulated net and block
# device with the unmodified iproute2 vdpa tool, and show what users see.
set -e
cd "$(dirname "$0")/.."

step() {
	echo
	echo "\$ $*"
	"$@"
}

if ! make -s modules_install >/tmp/install.log 2>&1; then
	cat /tmp/install.log
	exit 1
fi

step modprobe vdpa_sim_net
step modprobe vdpa_sim_blk
step vdpa mgmtdev show
step vdpa dev add name net0 mgmtdev vdpasim_net mac 02:00:00:00:00:01 mtu 1500 max_vqp 2
step vdpa dev add name blk0 mgmtdev vdpasim_blk
step vdpa dev show
step vdpa dev config show
step ls /sys/bus/vdpa/devices
step vdpa dev del net0
step vdpa dev del blk0
step modprobe -r vdpa_sim_net vdpa_sim_blk
echo
echo "demo: done"
