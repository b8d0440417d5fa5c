# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Shared by the host side of the benchmarks (sourced, from the top of the
# tree): boot the test VM on a guest script with the BENCH_* settings, take
# its result, save it and print its table.  The caller defines
# `table FILE`, which prints a saved result.

# bench_table_mode ARGS...: with "--table FILE", print FILE's table and
# exit; with no argument, return.
bench_table_mode() {
	[ $# -eq 0 ] && return 0
	if [ "$1" != --table ] || [ ! -r "${2:-}" ]; then
		echo "usage: $0 [--table FILE]" >&2
		exit 2
	fi
	table "$2"
	exit
}

# bench_vm NAME GUEST VARS [RUN.SH OPTIONS...]: run scripts/GUEST in the
# test VM, passing on the variables named in VARS, its progress shown and
# its log in build/vm-logs/NAME-<stamp>.  Sets $stamp, $logdir, $rc (the
# VM run's status) and $result: the guest's BENCH-JSON line with the date,
# the host's CPU model and count, the accelerator and the log added.
# Returns 1 with a message when the guest gave no usable result.
bench_vm() {
	local name=$1 guest=$2 vars=$3 v env= line accel=tcg
	shift 3

	stamp=$(date +%Y%m%d-%H%M%S)
	logdir=$PWD/build/vm-logs/$name-$stamp
	mkdir -p build/bench
	for v in $vars; do
		[ -n "${!v:-}" ] && env="$env $v=$(printf %q "${!v}")"
	done
	# shellcheck disable=SC2086
	scripts/vm/run.sh "$@" --logdir "$logdir" ${VMFLAGS:-} -- \
		"env$env scripts/$guest" | grep -v '^BENCH-JSON '
	rc=${PIPESTATUS[0]}

	line=$(sed -n 's/^BENCH-JSON //p' "$logdir/out" 2>/dev/null | tail -n 1)
	if [ -z "$line" ]; then
		echo "$name: no result from the VM (status $rc); log in $logdir" >&2
		return 1
	fi
	case " ${VMFLAGS:-} " in *" --kvm "*) accel=kvm ;; esac
	if ! result=$(jq -c --arg date "$(date -Iseconds)" --arg accel "$accel" \
		--arg cpu "$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)" \
		--argjson nproc "$(nproc)" --arg log "${logdir#"$PWD"/}" '
		{ date: $date, host_cpu: $cpu, host_nproc: $nproc,
		  accel: $accel } + . + { log: $log }' <<<"$line"); then
		echo "$name: malformed result from the VM; log in $logdir" >&2
		return 1
	fi
}

# bench_save NAME FILE LATEST JQ-PROGRAM: $result through JQ-PROGRAM (which
# adds the ratios) into FILE, copied to LATEST; then the caller's
# `table FILE`, and exit with the VM run's status.
bench_save() {
	local name=$1 file=$2 latest=$3

	if ! jq "$4" <<<"$result" >"$file.tmp"; then
		echo "$name: malformed result from the VM; log in $logdir" >&2
		rm -f "$file.tmp"
		exit 1
	fi
	mv "$file.tmp" "$file"
	cp "$file" "$latest"
	echo
	table "$file"
	echo
	echo "saved: $file (and $latest)"
	[ "$rc" -eq 0 ] ||
		echo "$name: the VM run exited with status $rc; log in $logdir" >&2
	exit "$rc"
}
