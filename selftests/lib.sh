# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the shell selftests: TAP output and vdpa plumbing.
# A test sources this file, calls the t_* helpers, and ends with t_done.

t_count=0
t_failed=0
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=$TOP/tools

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local tries=$(($1 * 10))

	shift
	while ! "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		[ "$tries" -le 0 ] && return 1
		sleep 0.1
	done
}

# kmsg_mark: the time of the kernel log's last message (seconds since
# boot), for kmsg_since.  A count of dmesg lines is no mark: the log is a
# ring that drops its oldest lines once full (seen late in a full suite).
kmsg_mark() {
	dmesg | awk -F'[][]' '{ t = $2 } END { gsub(/ /, "", t); print t == "" ? 0 : t }'
}

# kmsg_since MARK: the kernel log's messages after kmsg_mark gave MARK.
kmsg_since() {
	dmesg | awk -F'[][]' -v m="$1" '$2 + 0 > m + 0'
}

# child_of VDPA_DEV CLASS: the CLASS (net, block) device that the virtio
# driver created on top of a vDPA device.  virtio_vdpa hangs the virtio
# device on the vDPA device's DMA device: the vDPA device itself for a
# software device, its PCI function (the vDPA device's parent) for the
# virtio-pci adapter.
child_of() {
	local d vdpa

	vdpa=$(readlink -f "/sys/bus/vdpa/devices/$1") || return 1
	for d in "$vdpa"/virtio*/"$2"/* "$vdpa"/../virtio*/"$2"/*; do
		[ -e "$d" ] && { basename "$d"; return 0; }
	done
	return 1
}

# disk_of / netdev_of VDPA_DEV: its disk or its network interface.
disk_of() {
	child_of "$1" block
}

netdev_of() {
	child_of "$1" net
}

# no_ipv6 IFACE: no IPv6 autoconfiguration chatter on IFACE (a kernel
# without IPv6, such as the debug kernel, has none anyway).
no_ipv6() {
	[ -d /proc/sys/net/ipv6 ] || return 0
	sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"
}

# t_ok DESC / t_fail DESC: record one TAP result.
t_ok() {
	t_count=$((t_count + 1))
	echo "ok $t_count - $*"
}

t_fail() {
	t_count=$((t_count + 1))
	t_failed=$((t_failed + 1))
	echo "not ok $t_count - $*"
}

# t_diag MSG: a TAP comment.
t_diag() {
	echo "# $*"
}

# t_check DESC CMD...: pass when CMD succeeds; show its output when not.
t_check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		t_ok "$desc"
	else
		t_fail "$desc"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

# t_refuse DESC PATTERN CMD...: pass when CMD fails and its output
# matches the extended regex PATTERN (an errno text or extack message).
t_refuse() {
	local desc=$1 pattern=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		t_fail "$desc (succeeded)"
	elif printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
		t_ok "$desc"
		return 0
	else
		t_fail "$desc (no /$pattern/)"
	fi
	printf '%s\n' "$out" | sed 's/^/#   /'
}

# t_eq DESC GOT WANT: pass when two strings are equal.
t_eq() {
	if [ "$2" = "$3" ]; then
		t_ok "$1"
	else
		t_fail "$1"
		t_diag "  got:  $2"
		t_diag "  want: $3"
	fi
}

# t_done: print the plan and exit 0 only if nothing failed.
t_done() {
	echo "1..$t_count"
	[ "$t_failed" -eq 0 ]
	exit
}

# t_skip_all REASON: nothing can run here.
t_skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

# Modules of this tree, in the order they can be unloaded (dependents first).
VDPA_MODULES="irqbypass_test vdpa_hold vhost_vdpa virtio_vdpa vdpa_mediator vdpa_virtio_pci vdpa_sim_blk vdpa_sim_net vdpa_swdev vdpa vringh"

# unload_all: remove every module of this tree that is loaded.
unload_all() {
	local m
	for m in $VDPA_MODULES; do
		[ -d "/sys/module/$m" ] && rmmod "$m"
	done
	return 0
}

# vdpa_dev_exists NAME: whether the bus has a device called NAME.
vdpa_dev_exists() {
	[ -e "/sys/bus/vdpa/devices/$1" ]
}

# jkey JSON KEY: the first value of KEY anywhere in a JSON document.
jkey() {
	printf '%s\n' "$1" |
		jq -c "[.. | objects | .\"$2\"? // empty][0] // empty" 2>/dev/null
}

# slab_objects CACHE: active objects of one slab cache.
slab_objects() {
	awk -v c="$1" '$1 == c { print $2 }' /proc/slabinfo
}
