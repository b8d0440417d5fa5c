#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Management plane through the real client: iproute2 6.1's `vdpa -j` (parsed
# with jq) against both simulators, every rejection the tool can express
# with its errno and extack text, then tools/bin/vdpa-nl-probe for the
# malformed messages the tool cannot send, as root, as nobody and as root
# of a user namespace (both without CAP_NET_ADMIN in the initial one).
source "$(dirname "$0")/lib.sh"

VDPA=$(command -v vdpa || echo /sbin/vdpa)
PROBE=$TOOLS/bin/vdpa-nl-probe
NET=vdpasim_net
BLK=vdpasim_blk
NET_MAX_VQP=8

[ -x "$VDPA" ] || t_skip_all "iproute2 vdpa tool not installed"
command -v jq >/dev/null || t_skip_all "jq not installed"

# A bound virtio_vdpa would negotiate features behind our back.
for m in virtio_vdpa vhost_vdpa; do
	[ -d "/sys/module/$m" ] && rmmod "$m"
done

# nl_refuse DESC ERRTEXT MSGRE CMD...: CMD must fail, print the errno text
# ERRTEXT (strerror) and an extack message matching MSGRE (extended regex,
# any case; "" skips the message check).
nl_refuse() {
	local desc=$1 errtext=$2 msgre=$3 out
	shift 3
	if out=$("$@" 2>&1); then
		t_fail "$desc (succeeded)"
	elif ! grep -qF -- "$errtext" <<<"$out"; then
		t_fail "$desc (no \"$errtext\")"
	elif [ -n "$msgre" ] && ! grep -qiE -- "$msgre" <<<"$out"; then
		t_fail "$desc (no /$msgre/)"
	else
		t_ok "$desc"
		return 0
	fi
	printf '%s\n' "$out" | sed 's/^/#   /'
	return 1
}

# nl_refuse_out DESC ERRTEXT MSGRE CMD...: like nl_refuse for commands whose
# exit status says nothing: iproute2 6.1 `vdpa dev vstats show` exits 0
# even when the kernel refuses.  The kernel's answer must be in the output.
nl_refuse_out() {
	local desc=$1 errtext=$2 msgre=$3 out
	shift 3
	out=$("$@" 2>&1)
	if ! grep -qF -- "kernel answers: $errtext" <<<"$out"; then
		t_fail "$desc (no \"kernel answers: $errtext\")"
	elif [ -n "$msgre" ] && ! grep -qiE -- "$msgre" <<<"$out"; then
		t_fail "$desc (no /$msgre/)"
	else
		t_ok "$desc"
		return 0
	fi
	printf '%s\n' "$out" | sed 's/^/#   /'
	return 1
}

# userns_run CMD...: run CMD as root of a new user namespace (so without
# any capability in the initial one).  The test VM runs everything in a
# chroot, where unshare(CLONE_NEWUSER) is refused; there, step out to the
# initramfs root (pid 1's) and use its busybox to unshare and chroot back.
userns_run() {
	local cmd
	if unshare -r true 2>/dev/null; then
		unshare -r "$@"
		return
	fi
	[ -x /proc/1/root/bin/busybox ] && [ -d /proc/1/root/newroot/usr ] ||
		return 125
	cmd=$(printf '%q ' "$@")
	nsenter --root=/proc/1/root /bin/busybox sh -c \
		"mount -t proc proc /proc || exit 125
		 /bin/busybox unshare -r /bin/busybox chroot /newroot \
			/bin/sh -c 'cd / && exec $cmd'
		 rc=\$?
		 umount /proc
		 exit \$rc"
}

# jq_eq DESC JSON FILTER WANT: one value out of a JSON document.
jq_eq() {
	local got
	got=$(jq -r "$3" <<<"$2" 2>&1)
	t_eq "$1" "$got" "$4"
}

# run_probe PREFIX CMD...: run vdpa-nl-probe and fold its TAP lines into
# ours, each prefixed; a non-zero exit without a failed line is a failure.
run_probe() {
	local prefix=$1 line out rc nok=0
	shift
	out=$("$@" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) t_ok "$prefix: ${line#ok * - }" ;;
		"not ok "*)
			t_fail "$prefix: ${line#not ok * - }"
			nok=$((nok + 1))
			;;
		"#"*|"Bail out!"*) echo "$line" ;;
		esac
	done <<<"$out"
	if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
		t_fail "$prefix: probe exited $rc"
		printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'
	fi
}

cfg() {
	"$VDPA" -j dev config show "$1" | jq -c ".config[\"$1\"]"
}

# check_net_dev NAME MAC MTU MAX_VQP: the device reports what it was given
# (MAC "" means "not provisioned": only its format is checked).
check_net_dev() {
	local d=$1 mac=$2 mtu=$3 vqp=$4 show one conf link
	show=$("$VDPA" -j dev show | jq -c ".dev[\"$d\"]")
	one=$("$VDPA" -j dev show "$d" | jq -c ".dev[\"$d\"]")
	t_eq "$d: dev show dump and single show agree" "$one" "$show"
	jq_eq "$d: type network" "$one" .type network
	jq_eq "$d: mgmtdev $NET" "$one" .mgmtdev "$NET"
	jq_eq "$d: vendor_id is a number" "$one" '.vendor_id | type' number
	jq_eq "$d: max_vqs = 2*max_vqp+1" "$one" .max_vqs $((2 * vqp + 1))
	jq_eq "$d: max_vq_size is a positive number" "$one" \
		'.max_vq_size | (type == "number" and . > 0)' true
	conf=$(cfg "$d")
	if [ "$conf" = null ] || [ -z "$conf" ]; then
		t_fail "$d: dev config show reports it (mac, mtu, max_vqp, link unchecked)"
		"$VDPA" -j dev config show "$d" 2>&1 | sed 's/^/#   /'
		return
	fi
	t_ok "$d: dev config show reports it"
	t_eq "$d: config show dump and single show agree" "$conf" \
		"$("$VDPA" -j dev config show | jq -c ".config[\"$d\"]")"
	if [ -n "$mac" ]; then
		jq_eq "$d: config mac" "$conf" .mac "$mac"
	else
		jq_eq "$d: default mac is locally administered unicast" "$conf" \
			'.mac | test("^[0-9a-f][26ae](:[0-9a-f]{2}){5}$")' true
	fi
	jq_eq "$d: config mtu" "$conf" .mtu "$mtu"
	jq_eq "$d: config max_vq_pairs" "$conf" .max_vq_pairs "$vqp"
	# iproute2 6.1 names the key "link " (trailing blank).
	link=$(jq -r '(.link // ."link ")' <<<"$conf")
	t_eq "$d: config link up" "$link" up
	t_diag "$d: $one $conf"
}

check_gone() {
	local d=$1
	t_check "$d: dev del" "$VDPA" dev del "$d"
	if vdpa_dev_exists "$d"; then
		t_fail "$d: sysfs entry gone"
	else
		t_ok "$d: sysfs entry gone"
	fi
	nl_refuse "$d: dev show after del" "No such device" "device not found" \
		"$VDPA" dev show "$d"
}

test_mgmtdev() {
	local all one
	all=$("$VDPA" -j mgmtdev show)
	t_diag "mgmtdev show: $all"
	jq_eq "mgmtdev show lists $NET" "$all" ".mgmtdev | has(\"$NET\")" true
	jq_eq "mgmtdev show lists $BLK" "$all" ".mgmtdev | has(\"$BLK\")" true
	jq_eq "$NET class is net" "$all" \
		".mgmtdev[\"$NET\"].supported_classes | join(\",\")" net
	jq_eq "$BLK class is block" "$all" \
		".mgmtdev[\"$BLK\"].supported_classes | join(\",\")" block
	jq_eq "$NET max_supported_vqs is 2*$NET_MAX_VQP+1" "$all" \
		".mgmtdev[\"$NET\"].max_supported_vqs" $((2 * NET_MAX_VQP + 1))
	jq_eq "$BLK max_supported_vqs is 1" "$all" \
		".mgmtdev[\"$BLK\"].max_supported_vqs" 1
	jq_eq "$NET features include VERSION_1 and ACCESS_PLATFORM" "$all" \
		".mgmtdev[\"$NET\"].dev_features | index(\"VERSION_1\") != null and index(\"ACCESS_PLATFORM\") != null" \
		true
	jq_eq "$NET features include MAC, MTU, MQ and CTRL_VQ" "$all" \
		"[.mgmtdev[\"$NET\"].dev_features[] | select(. == \"MAC\" or . == \"MTU\" or . == \"MQ\" or . == \"CTRL_VQ\")] | length" \
		4
	jq_eq "$BLK features include VERSION_1 and ACCESS_PLATFORM" "$all" \
		".mgmtdev[\"$BLK\"].dev_features | index(\"VERSION_1\") != null and index(\"ACCESS_PLATFORM\") != null" \
		true
	one=$("$VDPA" -j mgmtdev show "$NET")
	jq_eq "mgmtdev show $NET shows only it" "$one" '.mgmtdev | keys | join(",")' \
		"$NET"
	t_eq "mgmtdev show $NET agrees with the dump" \
		"$(jq -c ".mgmtdev[\"$NET\"]" <<<"$one")" \
		"$(jq -c ".mgmtdev[\"$NET\"]" <<<"$all")"
	t_check "mgmtdev show (text, pretty)" "$VDPA" -p mgmtdev show
	nl_refuse "mgmtdev show of a missing one" "No such device" "" \
		"$VDPA" mgmtdev show nlt-nosuch
}

test_provisioning() {
	t_check "dev add nlt0 (defaults)" "$VDPA" dev add name nlt0 mgmtdev "$NET"
	# Documentation/simulators.rst: max_vqp 1, mtu 1500 and a random locally
	# administered unicast MAC unless provisioned.
	local defvqp=1
	check_net_dev nlt0 "" 1500 "$defvqp"
	t_check "dev add nlt1 mac mtu max_vqp" "$VDPA" dev add name nlt1 \
		mgmtdev "$NET" mac 02:11:22:33:44:55 mtu 9000 max_vqp 4
	check_net_dev nlt1 02:11:22:33:44:55 9000 4
	t_check "dev add nlt2 mac only" "$VDPA" dev add name nlt2 \
		mgmtdev "$NET" mac 52:54:00:ab:cd:ef
	check_net_dev nlt2 52:54:00:ab:cd:ef 1500 "$defvqp"
	t_check "dev add nlt3 mtu 68 max_vqp $NET_MAX_VQP" "$VDPA" dev add \
		name nlt3 mgmtdev "$NET" mtu 68 max_vqp "$NET_MAX_VQP"
	check_net_dev nlt3 "" 68 "$NET_MAX_VQP"
	t_check "dev add nlt4 max_vqp 2 mtu 4000" "$VDPA" dev add name nlt4 \
		mgmtdev "$NET" max_vqp 2 mtu 4000
	check_net_dev nlt4 "" 4000 2

	t_check "dev add nltb0 (block)" "$VDPA" dev add name nltb0 mgmtdev "$BLK"
	local one
	one=$("$VDPA" -j dev show nltb0 | jq -c '.dev.nltb0')
	t_diag "nltb0: $one"
	jq_eq "nltb0: type block" "$one" .type block
	jq_eq "nltb0: mgmtdev $BLK" "$one" .mgmtdev "$BLK"
	jq_eq "nltb0: max_vqs 1" "$one" .max_vqs 1
	t_eq "nltb0: dev show dump and single show agree" "$one" \
		"$("$VDPA" -j dev show | jq -c '.dev.nltb0')"
	t_check "nltb0: config show works" "$VDPA" -j dev config show nltb0

	local n
	n=$("$VDPA" -j dev show | jq '.dev | keys | length')
	t_eq "dev show dump lists the 6 devices" "$n" 6
	for d in nlt0 nlt1 nlt2 nlt3 nlt4 nltb0; do
		if vdpa_dev_exists "$d"; then
			t_ok "$d: in /sys/bus/vdpa/devices"
		else
			t_fail "$d: in /sys/bus/vdpa/devices"
		fi
	done
	t_check "dev show (text)" "$VDPA" dev show
	t_check "dev config show (text, pretty)" "$VDPA" -p dev config show
}

test_rejections() {
	local long63 long64
	long63=$(printf 'n%.0s' {1..63})
	long64=${long63}n
	nl_refuse "dev add on a missing mgmtdev" "No such device" \
		"management device not found" \
		"$VDPA" dev add name nltx mgmtdev nlt-nosuch
	nl_refuse "dev add with an existing name" "File exists" \
		"device name already exists" \
		"$VDPA" dev add name nlt1 mgmtdev "$NET"
	nl_refuse "dev add with an existing name on another mgmtdev" \
		"File exists" "device name already exists" \
		"$VDPA" dev add name nlt1 mgmtdev "$BLK"
	nl_refuse "block dev add with mac" "Operation not supported" \
		"not supported by the management device" \
		"$VDPA" dev add name nltx mgmtdev "$BLK" mac 02:00:00:00:00:01
	nl_refuse "block dev add with mtu" "Operation not supported" \
		"not supported by the management device" \
		"$VDPA" dev add name nltx mgmtdev "$BLK" mtu 1500
	nl_refuse "block dev add with max_vqp" "Operation not supported" \
		"not supported by the management device" \
		"$VDPA" dev add name nltx mgmtdev "$BLK" max_vqp 1
	nl_refuse "dev add with a multicast mac" "Invalid argument" "unicast" \
		"$VDPA" dev add name nltx mgmtdev "$NET" mac 01:00:5e:00:00:01
	nl_refuse "dev add with the broadcast mac" "Invalid argument" "unicast" \
		"$VDPA" dev add name nltx mgmtdev "$NET" mac ff:ff:ff:ff:ff:ff
	nl_refuse "dev add with a zero mac" "Invalid argument" "unicast" \
		"$VDPA" dev add name nltx mgmtdev "$NET" mac 00:00:00:00:00:00
	nl_refuse "dev add with mtu 67" "Invalid argument" "mtu" \
		"$VDPA" dev add name nltx mgmtdev "$NET" mtu 67
	nl_refuse "dev add with mtu 0" "Invalid argument" "mtu" \
		"$VDPA" dev add name nltx mgmtdev "$NET" mtu 0
	nl_refuse "dev add with max_vqp 0" "Invalid argument" "max_vqp" \
		"$VDPA" dev add name nltx mgmtdev "$NET" max_vqp 0
	nl_refuse "dev add with max_vqp $((NET_MAX_VQP + 1))" \
		"Invalid argument" "max_vqp" \
		"$VDPA" dev add name nltx mgmtdev "$NET" max_vqp $((NET_MAX_VQP + 1))
	nl_refuse "dev add with an empty name" "Invalid argument" "name" \
		"$VDPA" dev add name "" mgmtdev "$NET"
	nl_refuse "dev add with '/' in the name" "Invalid argument" "name" \
		"$VDPA" dev add name nlt/x mgmtdev "$NET"
	nl_refuse "dev add named '.'" "Invalid argument" "not '\.' or '\.\.'" \
		"$VDPA" dev add name . mgmtdev "$NET"
	nl_refuse "dev add named '..'" "Invalid argument" "not '\.' or '\.\.'" \
		"$VDPA" dev add name .. mgmtdev "$NET"
	if out=$("$VDPA" dev add name "$long64" mgmtdev "$NET" 2>&1); then
		t_fail "dev add with a 64-byte name (succeeded)"
	elif grep -qE "Invalid argument|Numerical result out of range" <<<"$out"; then
		t_ok "dev add with a 64-byte name"
	else
		t_fail "dev add with a 64-byte name (wrong errno)"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
	t_check "dev add with a 63-byte name" "$VDPA" dev add name "$long63" \
		mgmtdev "$NET"
	t_check "dev del of the 63-byte name" "$VDPA" dev del "$long63"
	nl_refuse "dev del of a missing device" "No such device" \
		"device not found" "$VDPA" dev del nlt-nosuch
	nl_refuse "dev show of a missing device" "No such device" \
		"device not found" "$VDPA" dev show nlt-nosuch
	nl_refuse "dev config show of a missing device" "No such device" \
		"device not found" "$VDPA" dev config show nlt-nosuch
	nl_refuse_out "dev vstats show of a missing device" "No such device" \
		"device not found" "$VDPA" dev vstats show nlt-nosuch qidx 0
	nl_refuse_out "dev vstats show before a driver negotiated features" \
		"Resource temporarily unavailable" "" \
		"$VDPA" dev vstats show nlt1 qidx 0
	t_eq "rejected adds left no device behind" \
		"$("$VDPA" -j dev show | jq -c '.dev | keys')" \
		'["nlt0","nlt1","nlt2","nlt3","nlt4","nltb0"]'
}

# The probe binary must be readable by nobody: run a private copy.
test_unprivileged() {
	local dir probe
	dir=$(mktemp -d)
	chmod 755 "$dir"
	cp "$PROBE" "$dir/" && chmod 755 "$dir/vdpa-nl-probe"
	probe=$dir/vdpa-nl-probe
	local -a nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups
			 --inh-caps=-all)

	t_check "dev add nltu0 (root)" "$VDPA" dev add name nltu0 mgmtdev "$NET"
	t_check "nobody: mgmtdev show" "${nobody[@]}" "$VDPA" -j mgmtdev show
	t_check "nobody: dev show" "${nobody[@]}" "$VDPA" -j dev show nltu0
	t_check "nobody: dev config show" "${nobody[@]}" "$VDPA" -j dev config show
	nl_refuse "nobody: dev add" "Operation not permitted" "" \
		"${nobody[@]}" "$VDPA" dev add name nltu1 mgmtdev "$NET"
	nl_refuse "nobody: dev del" "Operation not permitted" "" \
		"${nobody[@]}" "$VDPA" dev del nltu0
	nl_refuse_out "nobody: dev vstats show" "Operation not permitted" "" \
		"${nobody[@]}" "$VDPA" dev vstats show nltu0 qidx 0
	nl_refuse "userns root: dev add" "Operation not permitted" "" \
		userns_run "$VDPA" dev add name nltu1 mgmtdev "$NET"
	nl_refuse "userns root: dev del" "Operation not permitted" "" \
		userns_run "$VDPA" dev del nltu0
	t_check "userns root: dev show" userns_run "$VDPA" -j dev show nltu0
	nl_refuse_out "userns root: dev vstats show" "Operation not permitted" "" \
		userns_run "$VDPA" dev vstats show nltu0 qidx 0
	run_probe "probe as nobody" "${nobody[@]}" "$probe" --unpriv --dev nltu0
	run_probe "probe in userns" userns_run "$probe" --unpriv --dev nltu0
	if vdpa_dev_exists nltu0 && ! vdpa_dev_exists nltu1; then
		t_ok "unprivileged requests changed nothing"
	else
		t_fail "unprivileged requests changed nothing"
	fi
	t_check "dev del nltu0 (root)" "$VDPA" dev del nltu0
	rm -rf "$dir"
}

t_check "load vdpa_sim_net" modprobe vdpa_sim_net
t_check "load vdpa_sim_blk" modprobe vdpa_sim_blk
if ! [ -d /sys/module/vdpa_sim_net ] || ! [ -d /sys/module/vdpa_sim_blk ]; then
	unload_all
	t_done
fi

test_mgmtdev
test_provisioning
test_rejections
for d in nlt0 nlt1 nlt2 nlt3 nlt4 nltb0; do
	check_gone "$d"
done
t_eq "dev show lists nothing" "$("$VDPA" -j dev show | jq -c '.dev | length')" 0

if [ -x "$PROBE" ]; then
	run_probe "probe" "$PROBE" --dev nlp0 --mgmtdev "$NET" --blk-mgmtdev "$BLK"
	test_unprivileged
else
	t_fail "tools/bin/vdpa-nl-probe not built (make tools)"
fi

# Leave nothing behind.
for d in /sys/bus/vdpa/devices/*; do
	[ -e "$d" ] && "$VDPA" dev del "${d##*/}"
done
unload_all
t_done
