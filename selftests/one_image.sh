#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One image everywhere: the rows of `make demo`'s finale as a test.  The
# demo's container image (make image), run by podman with the same
# arguments on the net simulator, on the virtio-pci adapter (QEMU's
# virtio-net behind its IOMMU, with the bare-metal quirks) and on the
# mediator over a veth, sends 10000 frames and gets each back intact, by
# the commands of Documentation/one-image.rst (scripts/one-image.sh runs
# them from there).  The digest is the same on every row and is the one
# make image printed; nothing is left behind.
source "$(dirname "$0")/lib.sh"

[ -n "$(ls /sys/class/iommu 2>/dev/null)" ] ||
	t_skip_all "no IOMMU (make check runs this in a VM with one)"
[ -s build/image/oci.tar ] || t_skip_all "no image: make image"
command -v podman >/dev/null || t_skip_all "no podman (scripts/deps.sh)"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
scripts/one-image.sh >"$out" 2>&1
rc=$?
want=$(cat build/image/digest)

# row NAME: check one row of the table.
row() {
	local j

	j=$(sed -n "s/^ONE-IMAGE-ROW //p" "$out" |
	    jq -c --arg r "$1" 'select(.row == $r)')
	if [ -z "$j" ]; then
		t_fail "$1: a row"
		return
	fi
	t_eq "$1: passed" "$(jq -r .pass <<<"$j")" true
	t_eq "$1: 10000 frames sent, received, intact" \
		"$(jq -r '"\(.sent) \(.received) \(.intact)"' <<<"$j")" \
		"10000 10000 10000"
	t_eq "$1: none corrupt, lost or twice" \
		"$(jq -r '"\(.corrupt) \(.lost) \(.dup)"' <<<"$j")" "0 0 0"
	t_eq "$1: the image of make image" "$(jq -r .digest <<<"$j")" "$want"
	t_diag "$1: $(jq -r '"\(.rate) frames/s, MAC \(.mac)"' <<<"$j")"
}

row on-prem
row bare-metal
row aws
t_eq "the demo script passes" "$rc" 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$out" | tail -n 40
t_check "the table has one digest" \
	test "$(sed -n 's/^ONE-IMAGE-ROW //p' "$out" | jq -r .digest |
		sort -u | wc -l)" = 1
t_eq "no vDPA device left" "$(ls /sys/bus/vdpa/devices)" ""
t_eq "no container left" "$(podman ps -aq)" ""
t_check "the guide's blocks are all used" bash -c '
	for b in $(sed -n "s/^\.\. one-image: //p" Documentation/one-image.rst); do
		grep -q "run_block $b\b" scripts/one-image.sh || exit 1
	done'
unload_all
t_done
