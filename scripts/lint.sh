#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Lint the tree the way a kernel maintainer would: checkpatch --strict on
# every source file, then one build with W=1 and sparse (C=2).  Any finding
# in our files fails the run.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
KDIR=${KDIR:-/lib/modules/$("$top/scripts/kver.sh")/build}
status=0

# checkpatch.pl ships in the kernel source tarball; unpack just its scripts.
cp_dir=$top/build/checkpatch
checkpatch=$cp_dir/linux-source-6.1/scripts/checkpatch.pl
if [ ! -x "$checkpatch" ]; then
	mkdir -p "$cp_dir"
	tar -C "$cp_dir" -xJf /usr/src/linux-source-6.1.tar.xz \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch || exit 1
fi

mapfile -t files < <(git ls-files -co --exclude-standard \
	'*.c' '*.h' | grep -v '^build/')
if [ ${#files[@]} -gt 0 ]; then
	echo "lint: checkpatch --strict on ${#files[@]} files"
	if ! "$checkpatch" --strict --no-tree --quiet --show-types \
	     --ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG \
	     -f "${files[@]}"; then
		status=1
	fi
fi

echo "lint: W=1 C=2 build"
log=$(mktemp)
make -C "$KDIR" M="$top" W=1 C=2 modules >"$log" 2>&1 || status=1
# Findings in our own files; the kernel's headers are not ours to fix.
if grep -E '(warning|error):' "$log" | grep -vE '^/usr/src/|^\./include/' |
   grep -q .; then
	grep -E '(warning|error):' "$log" | grep -vE '^/usr/src/'
	status=1
fi
rm -f "$log"

if [ "$status" -eq 0 ]; then
	echo "lint: clean"
else
	echo "lint: findings above"
fi
exit "$status"
