#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Data through /dev/vhost-vdpa-N with the user-space test driver: frames
# over the net simulator's loopback checked byte for byte (sizes, queue
# sizes, a second queue pair, huge pages), sectors written to the block
# simulator and read back, and the device deleted or the driver killed
# while traffic runs.  Nothing may stay pinned afterwards.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/vhost_vdpa_lib.sh"

vv_require vdpa "$VV_NET"
trap vv_unload EXIT
ulimit -l unlimited

pins0=$(vv_pins)
t_check "load vhost_vdpa and the simulators" vv_load
net=$(vv_add vvt0 vdpasim_net max_vqp 2) || t_fail "net device with 2 queue pairs"
blk=$(vv_add vvt1 vdpasim_blk) || t_fail "blk device"

t_check "net: 5000 frames of 64 bytes" "$VV_NET" -n 5000 -s 64 "$net"
t_check "net: 2000 frames of 1500 bytes" "$VV_NET" -n 2000 -s 1500 "$net"
t_check "net: 2000 frames of 1514 bytes, queue size 64" \
	"$VV_NET" -n 2000 -s 1514 -q 64 "$net"
t_check "net: queue size 16" "$VV_NET" -n 3000 -q 16 "$net"
t_check "net: queue pair 1" "$VV_NET" -n 2000 -p 1 "$net"
t_refuse "net: queue pair 2 does not exist" "no queue pair" \
	"$VV_NET" -n 10 -p 2 "$net"
echo 16 >/proc/sys/vm/nr_hugepages
if [ "$(cat /proc/sys/vm/nr_hugepages)" -ge 2 ]; then
	t_check "net: rings and buffers in huge pages" \
		"$VV_NET" -H -n 2000 -s 1000 "$net"
else
	t_diag "no huge pages available: skipping the huge page run"
fi
echo 0 >/proc/sys/vm/nr_hugepages

t_check "blk: write and read back 256 x 4 KiB" "$VV_NET" -n 256 -s 4096 "$blk"
t_check "blk: write and read back 64 x 64 KiB" \
	"$VV_NET" -n 64 -s 65536 -q 64 "$blk"
t_check "blk: data survives a reopen" "$VV_NET" -n 16 -s 512 "$blk"

# Delete the device under running traffic: the driver sees it go away.
"$VV_NET" -n 100000000 -t 30 -Q "$net" 2>/tmp/vvt.err &
pid=$!
sleep 3
t_check "traffic still running before the deletion" kill -0 "$pid"
t_check "delete the net device under traffic" timeout 30 vdpa dev del vvt0
vv_wait_gone "$pid" 40
rc=$?
t_eq "the driver exits with 'device removed' (3)" "$rc" 3
sed 's/^/# /' /tmp/vvt.err
t_eq "the deleted device left nothing pinned" "$(vv_pins)" "$pins0"

# Kill the driver under traffic: release cleans up.
net=$(vv_add vvt0 vdpasim_net)
"$VV_NET" -n 100000000 -t 30 -Q "$net" &
pid=$!
sleep 3
kill -9 "$pid"
vv_wait_gone "$pid" 20
t_eq "the killed driver left nothing pinned" "$(vv_pins)" "$pins0"
t_check "the device works after its user was killed" \
	"$VV_NET" -n 1000 "$net"

t_check "delete the devices" sh -c 'vdpa dev del vvt0 && vdpa dev del vvt1'
t_check "rmmod vhost_vdpa" rmmod vhost_vdpa
t_eq "no pages left pinned" "$(vv_pins)" "$pins0"
t_done
