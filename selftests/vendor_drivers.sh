#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The distribution's own vDPA vendor drivers (ifcvf, eni_vdpa, mlx5_vdpa),
# built unmodified from linux-source-6.1 by `make vendor-drivers`, load with
# modprobe on this tree's core, stay idle without their hardware (no
# management device, no vDPA device) and unload cleanly.
source "$(dirname "$0")/lib.sh"

kver=$(uname -r)
built=$TOP/build/vendor/$kver
dest=/lib/modules/$kver/updates/vendor
VENDOR="ifcvf eni_vdpa mlx5_vdpa"

ls "$built"/*/*.ko >/dev/null 2>&1 ||
	t_skip_all "no vendor drivers built for $kver (make vendor-drivers)"

mkdir -p "$dest"
cp "$built"/*/*.ko "$dest/"
depmod -a

modprobe vdpa
before=$(vdpa -j mgmtdev show 2>/dev/null)
for m in $VENDOR; do
	t_check "modprobe $m" modprobe "$m"
	# A module's drivers show up as /sys/module/M/drivers/BUS:NAME.
	drv=$(ls "/sys/module/$m/drivers" 2>/dev/null | tr '\n' ' ')
	if [ -n "$drv" ]; then
		t_ok "$m registered its driver ($drv)"
	else
		t_fail "$m registered no driver"
	fi
done
if [ "$(vdpa -j mgmtdev show 2>/dev/null)" = "$before" ]; then
	t_ok "no management device without hardware"
else
	t_fail "a management device appeared without hardware"
fi
if [ -z "$(ls /sys/bus/vdpa/devices 2>/dev/null)" ]; then
	t_ok "no vDPA device without hardware"
else
	t_fail "vDPA devices appeared: $(ls /sys/bus/vdpa/devices)"
fi
for m in $VENDOR; do
	t_check "modprobe -r $m" modprobe -r "$m"
	if [ -d "/sys/module/$m" ]; then
		t_fail "$m still loaded"
	else
		t_ok "$m unloaded"
	fi
done
rm -rf "$dest"
depmod -a
t_done
