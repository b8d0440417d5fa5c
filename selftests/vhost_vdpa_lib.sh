# SPDX-License-Identifier: GPL-2.0
# Helpers shared by the vhost-vdpa selftests (sourced, not run: this file is
# not executable, so selftests/run.sh skips it).  Source lib.sh first.

VV_NET=$TOOLS/bin/vhost-vdpa-net
VV_IOCTL=$TOOLS/bin/vhost-vdpa-ioctl

# vv_require CMD...: skip the whole test unless every command exists.
vv_require() {
	local c

	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] ||
			t_skip_all "$c not available (make tools; scripts/deps.sh)"
	done
}

# vv_load: our bus, vhost_vdpa and both simulators; nothing else may bind.
vv_load() {
	[ -d /sys/module/virtio_vdpa ] && rmmod virtio_vdpa
	modprobe vhost_vdpa && modprobe vdpa_sim_net && modprobe vdpa_sim_blk
}

# vv_unload: delete every vDPA device, unload vhost_vdpa and our modules.
vv_unload() {
	local d

	for d in /sys/bus/vdpa/devices/*; do
		[ -e "$d" ] && vdpa dev del "$(basename "$d")"
	done
	[ -d /sys/module/vhost_vdpa ] && rmmod vhost_vdpa
	unload_all
	[ -d /sys/module/vhost ] && rmmod vhost 2>/dev/null
	return 0
}

# vv_node VDPA_DEV: /dev path of the vhost-vdpa node of a vDPA device.
vv_node() {
	local c tries=50

	while [ "$tries" -gt 0 ]; do
		for c in /sys/bus/vdpa/devices/"$1"/vhost-vdpa/vhost-vdpa-*; do
			if [ -e "$c" ] && [ -c "/dev/$(basename "$c")" ]; then
				echo "/dev/$(basename "$c")"
				return 0
			fi
		done
		tries=$((tries - 1))
		sleep 0.1
	done
	return 1
}

# vv_add NAME MGMTDEV [ARGS...]: create a device; print its node.
vv_add() {
	local name=$1 mgmt=$2

	shift 2
	vdpa dev add name "$name" mgmtdev "$mgmt" "$@" >&2 || return 1
	vv_node "$name"
}

# vv_tap CMD...: run a program that prints "ok - X" / "not ok - X" lines
# and record each as a result of this test; comments pass through.
vv_tap() {
	local line nok=0 out

	out=$(mktemp)
	"$@" >"$out" 2>&1
	echo "vv-exit $?" >>"$out"
	while IFS= read -r line; do
		case $line in
		"ok - "*) t_ok "${line#ok - }" ;;
		"not ok - "*) t_fail "${line#not ok - }"; nok=$((nok + 1)) ;;
		"vv-exit 0") ;;
		"vv-exit "*)
			[ "$nok" -eq 0 ] && t_fail "$(basename "$1") $2 exited ${line#vv-exit }"
			;;
		"#"*) echo "$line" ;;
		*) t_diag "$line" ;;
		esac
	done <"$out"
	rm -f "$out"
	return 0
}

# vv_hugepages: reserve the 256 MiB of 2 MiB huge pages testpmd runs in;
# fails (and reserves nothing) if fewer than 128 are free.
vv_hugepages() {
	echo 256 >/proc/sys/vm/nr_hugepages
	[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 128 ] && return 0
	echo 0 >/proc/sys/vm/nr_hugepages
	return 1
}

# vv_testpmd_start NODE QUEUES LOG: dpdk-testpmd with DPDK's virtio-user
# on NODE, interactive, its output in LOG and its commands read from fd 7;
# succeeds once it shows its prompt (on a debug kernel its start-up alone
# takes longer than any fixed delay would allow).  VV_TESTPMD is its pid.
# virtio-user puts virtual addresses in the rings, so the IOVAs it maps
# must be virtual addresses too: --iova-mode=va.
vv_testpmd_start() {
	local fifo=/tmp/testpmd.in.$$

	rm -f "$fifo"
	mkfifo "$fifo"
	timeout 300 stdbuf -oL dpdk-testpmd -l 0-1 --no-pci --iova-mode=va \
		--file-prefix=vvdpdk \
		--vdev="net_virtio_user0,path=$1,queues=$2,queue_size=256" \
		-- -i --nb-cores=1 --rxq="$2" --txq="$2" \
		--total-num-mbufs=8192 <"$fifo" >"$3" 2>&1 &
	VV_TESTPMD=$!
	exec 7>"$fifo"
	rm -f "$fifo"
	wait_for 120 vv_prompt_or_gone "$3" "$VV_TESTPMD"
	grep -q "testpmd>" "$3"
}

# vv_prompt_or_gone LOG PID: testpmd shows its prompt, or has exited.
vv_prompt_or_gone() {
	grep -q "testpmd>" "$1" || ! kill -0 "$2"
}

# vv_testpmd_stop: stop forwarding, show the port's counters, quit.
vv_testpmd_stop() {
	if kill -0 "$VV_TESTPMD" 2>/dev/null; then
		echo "stop" >&7
		sleep 2
		echo "show port stats 0" >&7
		sleep 1
		echo "quit" >&7
	fi
	exec 7>&-
	wait "$VV_TESTPMD"
}

# vv_pins: pages pinned with FOLL_PIN and not released yet, system wide.
# The counters are per CPU until folded; an idle CPU may hold its share
# for minutes, so fold them first.
vv_pins() {
	echo 1 >/proc/sys/vm/stat_refresh
	awk '$1 == "nr_foll_pin_acquired" { a = $2 }
	     $1 == "nr_foll_pin_released" { r = $2 }
	     END { print a - r }' /proc/vmstat
}

# vv_wait_gone PID SECONDS: wait for a process to exit; its status, or 124.
vv_wait_gone() {
	local pid=$1 tries=$(($2 * 10))

	while kill -0 "$pid" 2>/dev/null; do
		tries=$((tries - 1))
		if [ "$tries" -le 0 ]; then
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 124
		fi
		sleep 0.1
	done
	wait "$pid"
}

# vv_skip DESC REASON: record one TAP result skipped for REASON.
vv_skip() {
	t_count=$((t_count + 1))
	echo "ok $t_count - $1 # SKIP $2"
}

# vv_bg_within SECONDS DESC CMD...: run CMD in the background and pass when
# it ends successfully within SECONDS.  A CMD still running then is a
# failure; its pid is added to vv_stuck for the caller to reap later (a
# task blocked on a kernel lock cannot be killed, only waited for).
vv_stuck=""
vv_bg_within() {
	local secs=$1 desc=$2 pid out rc

	shift 2
	out=$(mktemp)
	"$@" >"$out" 2>&1 &
	pid=$!
	if ! wait_for "$secs" sh -c "! kill -0 $pid"; then
		t_fail "$desc (still running after $secs s)"
		vv_stuck="$vv_stuck $pid"
		rm -f "$out"
		return 1
	fi
	wait "$pid"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		t_ok "$desc"
	else
		t_fail "$desc (exit $rc)"
		sed 's/^/#   /' "$out"
	fi
	rm -f "$out"
	return "$rc"
}
