#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the target kernel under QEMU with the host root shared read-only and
# run a command as root inside it.  Exits with the command's status, or 1
# when the guest kernel reported a BUG/WARNING/Oops/lockdep/KASAN/hung task.
#
# Usage: run.sh [options] -- command [args...]
#   --kver VER       guest kernel (default: $KVER or scripts/kver.sh's)
#   --kernel FILE    kernel image (default: /boot/vmlinuz-VER)
#   --mem SIZE       guest memory (default: 2G)
#   --smp N          guest CPUs (default: 2)
#   --qemu ARG       extra QEMU argument (repeatable)
#   --append ARGS    extra kernel command line
#   --modroot DIR    DIR/lib/modules/VER has the kernel's modules.builtin &
#                    co (for a kernel not installed on the host)
#   --cpu MODEL      TCG CPU model (default: max)
#   --kvm            use KVM instead of TCG
#   --iommu          q35 with QEMU's Intel IOMMU (intel_iommu=on iommu=pt);
#                    the modern test NIC then goes through it
#   --timeout SEC    kill the guest after SEC seconds (default: 1800)
#   --rootfs FS      share the host root over 9p or virtiofs (default: 9p
#                    when the kernel has it, else virtiofs)
#   --logdir DIR     keep console, output and dmesg here
#                    (default: build/vm-logs/<date>-<pid>)
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
kver=${KVER:-}
kernel=
mem=2G
smp=2
accel=tcg
cpu=max
timeout=1800
logdir=
append=
modroot=
rootfs=
qemu_extra=()
iommu=

while [ $# -gt 0 ]; do
	case $1 in
	--kver) kver=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--qemu) qemu_extra+=("$2"); shift 2 ;;
	--append) append="$append $2"; shift 2 ;;
	--modroot) modroot=$(cd "$2" && pwd); shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	--kvm) accel=kvm; shift ;;
	--iommu) iommu=1; shift ;;
	--timeout) timeout=$2; shift 2 ;;
	--logdir) logdir=$2; shift 2 ;;
	--rootfs) rootfs=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || { echo "run.sh: no command" >&2; exit 2; }

if [ -z "$kver" ]; then
	kver=$("$top/scripts/kver.sh") || exit 2
fi
if [ -z "$kernel" ] && [ ! -r "/boot/vmlinuz-$kver" ]; then
	echo "run.sh: no kernel image /boot/vmlinuz-$kver;" \
		"install it: apt-get install linux-image-$kver" >&2
	exit 2
fi
kernel=${kernel:-/boot/vmlinuz-$kver}
[ -r "$kernel" ] || { echo "run.sh: no kernel $kernel" >&2; exit 2; }

logdir=${logdir:-$top/build/vm-logs/$(date +%Y%m%d-%H%M%S)-$$}
mkdir -p "$logdir"
logdir=$(cd "$logdir" && pwd)
rm -f "$logdir/rc" "$logdir/out" "$logdir/dmesg" "$logdir/console.log"

# Debian's cloud kernel has no 9p: it gets the host root over virtiofs.
# A kernel without /lib/modules (the debug kernel) has 9p built in.
if [ -z "$rootfs" ]; then
	rootfs=9p
	[ -d "/lib/modules/$kver" ] &&
		! modprobe -S "$kver" --show-depends 9p >/dev/null 2>&1 &&
		rootfs=virtiofs
fi
case $rootfs in
9p|virtiofs) ;;
*) echo "run.sh: --rootfs is 9p or virtiofs" >&2; exit 2 ;;
esac

initrd=$top/build/vm/initramfs-$kver-$rootfs.cpio.gz
if [ ! -s "$initrd" ] || [ "$here/init" -nt "$initrd" ] ||
   [ "$here/initramfs.sh" -nt "$initrd" ]; then
	mkdir -p "$(dirname "$initrd")"
	"$here/initramfs.sh" "$kver" "$initrd" "$rootfs" || exit 2
fi

# start_virtiofsd TAG DIR: serve DIR on $logdir/TAG.sock for the guest.
# The guest mounts the host root read-only; the job directory read-write.
virtiofsd_pids=()
start_virtiofsd() {
	rm -f "$logdir/$1.sock"
	/usr/lib/qemu/virtiofsd --socket-path="$logdir/$1.sock" \
		-o source="$2" -o sandbox=chroot -o cache=auto \
		-o log_level=err >>"$logdir/virtiofsd.log" 2>&1 &
	virtiofsd_pids+=($!)
	wait_socket "$logdir/$1.sock"
}

wait_socket() {
	local n
	for n in $(seq 50); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	echo "run.sh: virtiofsd did not start (see $logdir/virtiofsd.log)" >&2
	exit 2
}

stop_virtiofsd() {
	[ ${#virtiofsd_pids[@]} -gt 0 ] || return 0
	kill "${virtiofsd_pids[@]}" 2>/dev/null
	wait "${virtiofsd_pids[@]}" 2>/dev/null
}

cp "$here/stage2" "$logdir/stage2"
{
	printf 'VM_CWD=%q\n' "$PWD"
	printf 'VM_CMD=%q\n' "$*"
	printf 'export KVER=%q\n' "$kver"
	[ -n "${KDIR:-}" ] && printf 'export KDIR=%q\n' "$KDIR"
	printf 'VM_MODROOT=%q\n' "$modroot"
} >"$logdir/env"

accel_args=(-accel tcg,thread=multi -cpu "$cpu")
# Under TCG a vCPU stops whenever the host is busy, and the guest's clock
# jumps when it runs again: the lockup and RCU stall detectors then report
# CPUs that were merely not scheduled (seen in CI: "soft lockup ... 26s" in
# a page clear).  Widen them to their maximum (soft lockup after 120 s, RCU
# stall after 300 s): a real spin still trips them, host jitter does not.
# A real lockup then panics: the run ends at once instead of at its
# timeout, and the panic raises the console level, so the stacks of every
# CPU reach the console log (loglevel=4 hides the lockup report's own).
tcg_append="watchdog_thresh=60 rcupdate.rcu_cpu_stall_timeout=300"
tcg_append="$tcg_append softlockup_panic=1 softlockup_all_cpu_backtrace=1"
if [ "$accel" = kvm ]; then
	accel_args=(-accel kvm -cpu host)
	tcg_append=
fi

# One VM at a time on this machine: later callers wait their turn.
exec 9>/tmp/vdpa-oot-vm.lock
flock 9

share_args=(
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
	-virtfs local,path="$logdir",mount_tag=vmjob,security_model=none
)
if [ "$rootfs" = virtiofs ]; then
	trap stop_virtiofsd EXIT
	start_virtiofsd hostroot /
	start_virtiofsd vmjob "$logdir"
	share_args=(
		-object "memory-backend-memfd,id=mem,size=$mem,share=on"
		-numa node,memdev=mem
		-chardev "socket,id=hostroot,path=$logdir/hostroot.sock"
		-device vhost-user-fs-pci,chardev=hostroot,tag=hostroot
		-chardev "socket,id=vmjob,path=$logdir/vmjob.sock"
		-device vhost-user-fs-pci,chardev=vmjob,tag=vmjob
	)
fi

# The virtio-pci adapter's test functions (selftests/virtio_pci_adapter.sh):
# on hub 1 a modern virtio-net at 00:10.0 and its peer at 00:11.0, on hub 2
# a legacy one without CTRL_MAC_ADDR at 00:12.0 and its peer at 00:13.0.
# Until a test moves them they are ordinary NICs of virtio-pci.
# With --iommu the machine is a q35 with an Intel IOMMU in front of the
# modern one (its own DMA domain when vhost_vdpa gives it one; passthrough
# for everything else, so the other devices run as fast as before).
machine_args=()
dut0_opts=
if [ -n "$iommu" ]; then
	machine_args=(-M q35 -device intel-iommu,caching-mode=on,aw-bits=48)
	dut0_opts=,iommu_platform=on,ats=on
	append="$append intel_iommu=on iommu=pt"
fi
test_nics=(
	-netdev hubport,id=dut0,hubid=1
	-device virtio-net-pci,id=dut0,netdev=dut0,addr=10,disable-legacy=on,mac=52:54:00:56:00:10$dut0_opts
	-netdev hubport,id=peer0,hubid=1
	-device virtio-net-pci,id=peer0,netdev=peer0,addr=11,mac=52:54:00:56:00:11
	-netdev hubport,id=dut1,hubid=2
	-device virtio-net-pci,id=dut1,netdev=dut1,addr=12,disable-modern=on,ctrl_mac_addr=off,mac=52:54:00:56:00:12
	-netdev hubport,id=peer1,hubid=2
	-device virtio-net-pci,id=peer1,netdev=peer1,addr=13,mac=52:54:00:56:00:13
)

# And a multi-queue pair: a hub port has one queue, so a two-pair modern
# virtio-net at 00:14.0 and its peer at 00:15.0 sit on two-queue taps
# joined by a bridge on the host (one VM at a time: fixed names; a
# killed run's are replaced).  Left out where the host cannot make taps.
mq_links_del() {
	ip link del vvp-mq0 2>/dev/null
	ip link del vvp-mq1 2>/dev/null
	ip link del vvp-mqbr 2>/dev/null
	return 0
}
mq_links_add() {
	local t

	mq_links_del
	ip link add vvp-mqbr type bridge || return 1
	for t in vvp-mq0 vvp-mq1; do
		ip tuntap add dev $t mode tap multi_queue &&
			ip link set $t master vvp-mqbr &&
			ip link set $t up || return 1
	done
	ip link set vvp-mqbr up
}
if mq_links_add 2>/dev/null; then
	test_nics+=(
		-netdev tap,id=dut2,ifname=vvp-mq0,script=no,downscript=no,queues=2
		-device virtio-net-pci,id=dut2,netdev=dut2,addr=14,disable-legacy=on,mq=on,vectors=6,mac=52:54:00:56:00:14
		-netdev tap,id=peer2,ifname=vvp-mq1,script=no,downscript=no,queues=2
		-device virtio-net-pci,id=peer2,netdev=peer2,addr=15,mq=on,vectors=6,mac=52:54:00:56:00:15
	)
else
	mq_links_del
fi

# A test may ask for QEMU monitor commands (hot unplug and plug of the test
# NICs): it writes one QMP command to /run/vmjob/qmp.req and gets QEMU's
# answer in /run/vmjob/qmp.ans (selftests/virtio_pci_lib.sh: vp_qmp).
qmp_agent() {
	while sleep 0.2 && kill -0 $$ 2>/dev/null; do
		[ -s "$logdir/qmp.req" ] || continue
		{ echo '{"execute":"qmp_capabilities"}'; cat "$logdir/qmp.req"
		  sleep 1; } | socat -t 2 - "UNIX-CONNECT:$logdir/qmp.sock" \
			>"$logdir/qmp.ans.tmp" 2>&1
		rm -f "$logdir/qmp.req"
		mv "$logdir/qmp.ans.tmp" "$logdir/qmp.ans"
	done
}
qmp_agent &
qmp_pid=$!

timeout --foreground -k 10 "$timeout" \
	qemu-system-x86_64 "${machine_args[@]}" "${accel_args[@]}" \
	-m "$mem" -smp "$smp" \
	-nographic -no-reboot -nodefaults -serial stdio \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 loglevel=4 panic=-1 mitigations=off $tcg_append $append" \
	"${share_args[@]}" \
	-device virtio-rng-pci \
	"${test_nics[@]}" \
	-qmp "unix:$logdir/qmp.sock,server=on,wait=off" \
	"${qemu_extra[@]}" </dev/null 2>&1 | tee "$logdir/console.log" |
	grep --line-buffered -v '^vm: running:'
qemu_rc=${PIPESTATUS[0]}
kill $qmp_pid 2>/dev/null
stop_virtiofsd
mq_links_del
exec 9>&-

if [ ! -s "$logdir/rc" ]; then
	echo "run.sh: guest did not finish (qemu status $qemu_rc); log in $logdir" >&2
	"$here/kcheck.sh" "$logdir/console.log" >&2
	exit 1
fi
rc=$(cat "$logdir/rc")
if ! "$here/kcheck.sh" "$logdir/console.log" "$logdir/dmesg"; then
	echo "run.sh: kernel reported a problem; log in $logdir" >&2
	exit 1
fi
exit "$rc"
