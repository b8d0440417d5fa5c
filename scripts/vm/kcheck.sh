#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Fail (status 1) if a kernel log holds a BUG/WARNING/Oops, a lockdep,
# KASAN, UBSAN, kmemleak or refcount report, a hung task or an RCU stall.
# Use-after-free and double free are KASAN or SLUB ("BUG kmalloc-64 (...)")
# reports.  Unsigned out-of-tree modules taint the kernel; that line is
# expected.
# Usage: kcheck.sh LOG...
bad='BUG:|WARNING:|Oops|general protection fault|kernel BUG|Kernel panic'
bad="$bad|possible circular locking|possible recursive locking"
bad="$bad|inconsistent lock state|suspicious RCU usage|lock held when returning"
bad="$bad|KASAN|UBSAN|unreferenced object|suspected memory leak"
bad="$bad|refcount_t:|blocked for more than"
bad="$bad|rcu_sched detected stall|rcu: INFO|soft lockup|hard LOCKUP"
bad="$bad|list_add corruption|list_del corruption|BUG [^ ]+ \\("
status=0
for f in "$@"; do
	[ -r "$f" ] || continue
	if grep -E "$bad" "$f" | grep -v 'module verification failed' |
	   grep -q .; then
		echo "kcheck: kernel report in $f:"
		grep -E -A 20 "$bad" "$f" | head -n 60
		status=1
	fi
done
exit $status
