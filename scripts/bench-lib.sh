# SPDX-License-Identifier: GPL-2.0
# Shared by the benchmarks that run inside the test VM (sourced):
# progress lines, medians, and dpdk-testpmd driven through a FIFO, one
# command at a time.  The caller provides $tmp (a scratch directory) and
# $tp_pid (testpmd's pid, empty when it does not run).

# say MSG: a progress line (on stderr: stdout carries measurements).
say() {
	echo "bench: $*" >&2
}

# stats FILE: "median min max" of the numbers in FILE, one per line.
stats() {
	sort -g "$1" | awk '{ v[NR] = $1 }
		END {
			if (NR == 0) { print "null null null"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.1f %.1f %.1f\n", m, v[1], v[NR]
		}'
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

# tp_start DEV: start testpmd on DEV, up to its first prompt.
tp_start() {
	rm -f "$tmp/tp.in" "$tmp/tp.out"
	mkfifo "$tmp/tp.in"
	: >"$tmp/tp.out"
	# Line-buffered, or its output lags behind the prompts counted.
	stdbuf -oL dpdk-testpmd -l 0-1 --no-pci --iova-mode=va --file-prefix=vvbench \
		--vdev="net_virtio_user0,path=$1,queues=1,queue_size=256" \
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
