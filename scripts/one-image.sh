#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One image everywhere, inside the test VM: the same container image, run
# by podman with the same arguments, on the three kinds of host of
# Documentation/one-image.rst:
#   on-prem     a vDPA NIC (the net simulator stands in for it: its frames
#               come back as from a wire looped back)
#   bare-metal  QEMU's virtio-net behind QEMU's IOMMU, through the virtio-pci
#               adapter with the bare-metal NIC's quirks given by quirks=;
#               its hub peer returns every frame (tc mirred)
#   aws         the mediator over a veth, its peer in another namespace
#               returning every frame, as the network would
# The operator's commands are not written here: each row runs the blocks
# of the guide (the literal block after a ".. one-image: NAME" comment),
# with the variables the guide names set to this VM's devices.  What is
# here is what a real host has already: cgroups, container storage, the
# peers.
#
# Usage: scripts/one-image.sh [ROW...]   (default: all three)
# Prints each step, then a table; one line "ONE-IMAGE-ROW {json}" per row.
# Exit status 0 only when every row passed.
set -u
cd "$(dirname "$0")/.."
# wait_for; vp_* (the VM's emulated NICs).
source selftests/lib.sh
source selftests/virtio_pci_lib.sh

GUIDE=Documentation/one-image.rst
IMAGE=$(cat build/image/name) || exit 1
ARCHIVE=build/image/oci.tar
NS=one-image-peer
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# guide_block NAME: the commands of the guide's block NAME.
guide_block() {
	awk -v name="$1" '
		$0 == ".. one-image: " name { found = 1; next }
		found == 1 && /::$/ { found = 2; next }
		found == 2 && /^    / { sub(/^    /, ""); print; body = 1; next }
		found == 2 && body && /^[^ ]/ { exit }' "$GUIDE"
}

# run_block NAME: run the guide's block NAME, each command shown first.
run_block() {
	local cmd cmds

	cmds=$(guide_block "$1")
	[ -n "$cmds" ] || { echo "one-image: $GUIDE has no block $1"; return 1; }
	while IFS= read -r cmd <&3; do
		echo "\$ $cmd"
		eval "$cmd" </dev/null || {
			echo "one-image: failed: $cmd"
			return 1
		}
	done 3<<<"$cmds"
}

# show VAR...: the values a row gives the guide's variables.
show() {
	local v

	for v in "$@"; do
		echo "\$ $v=${!v}"
	done
}

# reflect NS DEV: DEV (in namespace NS) sends every frame it receives back
# out, whatever its destination.
reflect() {
	ip -n "$1" link set "$2" promisc on up &&
	tc -n "$1" qdisc add dev "$2" ingress &&
	tc -n "$1" filter add dev "$2" ingress matchall \
		action mirred egress redirect dev "$2"
}

# --- what a host has before the guide starts ------------------------------
host_setup() {
	modprobe -a overlay veth sch_ingress cls_matchall act_mirred || return 1
	mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup
	# The VM's root is an overlay: container storage needs a file system
	# of its own, and there is no systemd to manage cgroups.
	mkdir -p /var/lib/containers /etc/containers
	mountpoint -q /var/lib/containers ||
		mount -t tmpfs tmpfs /var/lib/containers
	printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' \
		>/etc/containers/containers.conf
	echo "\$ podman load -i $ARCHIVE"
	podman load -q -i "$ARCHIVE" || return 1
	run_block host
}

# --- the rows -------------------------------------------------------------
row_on_prem() {
	MGMT=vdpasim_net
	show MGMT
	run_block on-prem && run_block run
}

undo_on_prem() {
	vdpa dev del v0 2>/dev/null
	modprobe -r vdpa_sim_net
}

row_bare_metal() {
	local peer

	[ -e "/sys/bus/pci/devices/$VP_MODERN" ] && [ -n "$(ls /sys/class/iommu)" ] ||
		{ echo "one-image: needs $VP_MODERN behind an IOMMU (run.sh --iommu)"; return 1; }
	modprobe virtio_net
	wait_for 10 vp_netdev_at "$VP_MODERN_PEER" &&
	peer=$(vp_peer_up "$VP_MODERN_PEER" "") && reflect "$VP_NS" "$peer" ||
		{ echo "one-image: no reflector on $VP_MODERN_PEER"; return 1; }
	BDF=$VP_MODERN
	QUIRKS=1af4:1041:mqn
	show BDF QUIRKS
	run_block bare-metal && run_block run
}

undo_bare_metal() {
	vp_cleanup
	modprobe -r vdpa_virtio_pci
}

row_aws() {
	ip netns add "$NS" &&
	ip link add med0 type veth peer name med0p netns "$NS" &&
	ip link set med0 up && reflect "$NS" med0p ||
		{ echo "one-image: no veth with a reflector"; return 1; }
	LOWER=med0
	MGMT=med0
	show LOWER MGMT
	run_block aws && run_block run
}

undo_aws() {
	vdpa dev del v0 2>/dev/null
	modprobe -r vdpa_mediator
	ip link del med0 2>/dev/null
	ip netns del "$NS" 2>/dev/null
}

# --- run, tabulate ---------------------------------------------------------
declare -A title=([on-prem]="on-prem vDPA NIC (vdpa_sim_net)"
	[bare-metal]="bare-metal virtio-pci (vdpa_virtio_pci)"
	[aws]="AWS, no virtio NIC (vdpa_mediator)")
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(on-prem bare-metal aws)
table=()
failed=0

if ! host_setup; then
	echo "one-image: the host set-up failed"
	exit 1
fi
for row in "${rows[@]}"; do
	fn=row_${row//-/_}
	declare -F "$fn" >/dev/null || { echo "one-image: no row $row"; exit 2; }
	echo
	echo "=== ${title[$row]}"
	"$fn" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	"undo_${row//-/_}" >/dev/null 2>&1
	json=$(sed -n 's/^ECHO-JSON //p' "$log" | tail -n 1)
	[ -n "$json" ] || json='{}'
	digest=$(podman image inspect --format '{{.Digest}}' "$IMAGE")
	pass=false
	[ "$rc" -eq 0 ] && pass=true
	$pass || failed=$((failed + 1))
	json=$(jq -c --arg row "$row" --arg d "$digest" --argjson p "$pass" \
		'{row: $row, digest: $d, pass: $p} + .' <<<"$json")
	echo "ONE-IMAGE-ROW $json"
	table+=("$(jq -r --arg t "${title[$row]}" '[$t, .digest[0:19],
		.sent // "-", .received // "-", .intact // "-",
		.rate // "-", (if .pass then "pass" else "FAIL" end)] |
		map(tostring) | @tsv' <<<"$json")")
done
echo 0 >/proc/sys/vm/nr_hugepages

echo
echo "One image, three hosts: $IMAGE"
fmt='%-40s %-19s %7s %8s %7s %8s %s\n'
# shellcheck disable=SC2059
printf "$fmt" backend "image digest" sent received intact frames/s result
for line in "${table[@]}"; do
	IFS=$'\t' read -r -a f <<<"$line"
	# shellcheck disable=SC2059
	printf "$fmt" "${f[@]}"
done
[ "$failed" -eq 0 ]
