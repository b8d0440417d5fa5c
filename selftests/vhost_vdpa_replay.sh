#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Contract A: a reset (status 0) makes the parent forget every mapping, and
# vhost_vdpa gives them back: through set_map to set_map parents, range by
# range through dma_map to parents that have only dma_map/dma_unmap
# (vdpa_swdev map_ops=dma).  The user-space driver maps its memory once, then
# resets and sets the rings up again without any IOTLB message: frames must
# still loop back intact.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vhost_vdpa_lib.sh"

vv_require vdpa modinfo "$VV_IOCTL" "$VV_NET"
trap vv_unload EXIT
ulimit -l unlimited

pins0=$(vv_pins)
t_check "load vhost_vdpa and the simulators" vv_load
net=$(vv_add vvr0 vdpasim_net) || t_fail "net device"
t_diag "set_map parent (vdpa_swdev default)"
vv_tap "$VV_IOCTL" replay "$net"
t_check "delete the device" vdpa dev del vvr0

if modinfo -F parm vdpa_swdev 2>/dev/null | grep -q '^map_ops:'; then
	t_check "unload the simulators" \
		rmmod vdpa_sim_blk vdpa_sim_net vdpa_swdev
	t_check "load vdpa_swdev with map_ops=dma" modprobe vdpa_swdev map_ops=dma
	t_check "load the net and blk simulators" \
		sh -c 'modprobe vdpa_sim_net && modprobe vdpa_sim_blk'
	t_eq "map_ops reads back dma" \
		"$(cat /sys/module/vdpa_swdev/parameters/map_ops)" dma
	net=$(vv_add vvr1 vdpasim_net) || t_fail "net device (dma_map only)"
	blk=$(vv_add vvr2 vdpasim_blk) || t_fail "blk device (dma_map only)"
	t_diag "dma_map-only parent"
	vv_tap "$VV_IOCTL" replay "$net"
	t_check "dma_map only: 2000 frames of 1500 bytes" \
		"$VV_NET" -n 2000 -s 1500 "$net"
	t_check "dma_map only: blk writes and reads back 64 x 4 KiB" \
		"$VV_NET" -n 64 -s 4096 "$blk"
	t_check "dma_map only: blk data survives a reopen (reset on open)" \
		"$VV_NET" -n 16 -s 512 "$blk"
	t_check "delete the devices" \
		sh -c 'vdpa dev del vvr1 && vdpa dev del vvr2'
else
	vv_skip "replay to a dma_map-only parent" \
		"vdpa_swdev has no map_ops parameter (contract E)"
fi

t_check "rmmod vhost_vdpa" rmmod vhost_vdpa
t_eq "no pages left pinned" "$(vv_pins)" "$pins0"
t_done
