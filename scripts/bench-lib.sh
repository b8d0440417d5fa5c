# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2154
# Shared by the benchmarks that run inside the test VM (sourced):
# progress lines, medians, guest CPU time, measurement windows of pktgen
# on a netdev, and dpdk-testpmd driven through a FIFO, one command at a
# time.  The caller provides $tmp (a scratch directory) and $tp_pid
# (testpmd's pid, empty when it does not run); window() also needs $SECS
# and a function peer_rx that prints the frames received so far.

# say MSG: a progress line (on stderr: stdout carries measurements).
say() {
	echo "bench: $*" >&2
}

# stats FILE [DECIMALS]: "median min max" of the numbers in FILE, one per
# line, with DECIMALS (1) digits after the point.
stats() {
	sort -g "$1" | awk -v d="${2:-1}" '{ v[NR] = $1 }
		END {
			if (NR == 0) { print "null null null"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			f = "%." d "f"
			printf f " " f " " f "\n", m, v[1], v[NR]
		}'
}

# sizes_ok MIN MAX: every frame size of $SIZES is a number in MIN..MAX;
# says which one is not.
sizes_ok() {
	local s

	for s in $SIZES; do
		case $s in
		*[!0-9]* | ?????*) say "bad frame size '$s'"; return 1 ;;
		esac
		if [ "$s" -lt "$1" ] || [ "$s" -gt "$2" ]; then
			say "frame size $s outside $1..$2"
			return 1
		fi
	done
}

# busy: jiffies the guest's CPUs were busy, so far (user, nice, system,
# irq, softirq, steal: everything but idle and iowait, kernel threads
# included).
busy() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

# window NAME SIZE START STOP: one measurement; START begins sending,
# STOP ends it.  Appends "pps cpu" to $tmp/NAME-SIZE: frames peer_rx
# counted per second of window, and CPUs busy meanwhile.
window() {
	local rx0 rx1 b0 b1 t0 t1

	rx0=$(peer_rx)
	b0=$(busy)
	t0=$(date +%s%N)
	$3 || return 1
	sleep "$SECS"
	$4
	t1=$(date +%s%N)
	b1=$(busy)
	sleep 0.5
	rx1=$(peer_rx)
	awk -v f=$((rx1 - rx0)) -v ns=$((t1 - t0)) -v j=$((b1 - b0)) \
		-v hz="$(getconf CLK_TCK)" \
		'BEGIN { s = ns / 1e9; printf "%.1f %.2f\n", f / s, j / hz / s }' \
		>>"$tmp/$1-$2"
	say "$1, $2 B: $(tail -n 1 "$tmp/$1-$2") (pps, cpu)"
}

# --- pktgen on a netdev ------------------------------------------------

# pg_setup DEV SIZE IP MAC: pktgen thread 0 sends SIZE-byte frames (FCS
# counted) from DEV to IP at MAC, as fast as it can, until pg_stop.
pg_setup() {
	local pg=/proc/net/pktgen c

	echo "rem_device_all" >$pg/kpktgend_0
	echo "add_device $1" >$pg/kpktgend_0
	for c in "count 0" "delay 0" "clone_skb 0" "pkt_size $(($2 - 4))" \
		 "dst $3" "dst_mac $4"; do
		echo "$c" >"$pg/$1"
	done
}

pg_start() {
	(echo start >/proc/net/pktgen/pgctrl) 2>/dev/null &
	pg_pid=$!
}

pg_stop() {
	echo stop >/proc/net/pktgen/pgctrl
	wait "$pg_pid"
}

# --- dpdk-testpmd, driven through a FIFO ------------------------------

# tp_prompts: how many prompts testpmd has printed so far.
tp_prompts() {
	grep -o 'testpmd> ' "$tmp/tp.out" | wc -l
}

# tp_wait N SECONDS: wait until testpmd has printed N prompts.
tp_wait() {
	local want=$1 tries=$(($2 * 10))

	while [ "$(tp_prompts)" -lt "$want" ]; do
		kill -0 "$tp_pid" 2>/dev/null || return 1
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

# tp_cmd CMD: run one testpmd command; its output goes to $tmp/tp.last.
tp_cmd() {
	local n off

	n=$(tp_prompts)
	off=$(($(stat -c %s "$tmp/tp.out") + 1))
	echo "$*" >&7 || return 1
	tp_wait $((n + 1)) 60 || { say "testpmd: no answer to '$*'"; return 1; }
	tail -c +"$off" "$tmp/tp.out" >"$tmp/tp.last"
}

# tp_start DEV [EAL_ARG...]: start testpmd with virtio-user on DEV (a
# vhost-vdpa or vhost-net node, or a vhost-user socket), up to its first
# prompt; forwarding on CPU 1.
tp_start() {
	local dev=$1

	shift
	rm -f "$tmp/tp.in" "$tmp/tp.out"
	mkfifo "$tmp/tp.in"
	: >"$tmp/tp.out"
	# Line-buffered, or its output lags behind the prompts counted.
	stdbuf -oL dpdk-testpmd -l 0-1 --no-pci --iova-mode=va --file-prefix=vvbench "$@" \
		--vdev="net_virtio_user0,path=$dev,queues=1,queue_size=256" \
		-- -i --nb-cores=1 --rxq=1 --txq=1 --total-num-mbufs=8192 \
		<"$tmp/tp.in" >"$tmp/tp.out" 2>&1 &
	tp_pid=$!
	exec 7>"$tmp/tp.in"
	if ! tp_wait 1 180; then
		say "testpmd did not start:"
		tail -n 20 "$tmp/tp.out" | sed 's/^/bench:   /'
		return 1
	fi
}

tp_quit() {
	echo quit >&7
	exec 7>&-
	wait "$tp_pid"
	tp_pid=
}
