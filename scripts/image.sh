#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the one-image demo's container image from what this Debian host
# has installed: tools/bin/dpdk-echo (a DPDK application on the virtio-user
# PMD) and the shared libraries it loads, as an OCI archive that
# `podman load` takes.  No registry is involved.
#
# The archive is a function of its inputs (files sorted, owners and times
# fixed), so its digest is the same wherever the same packages are
# installed.  It is cached under ~/.cache/vdpa-oot/images by that input and
# copied to build/image/oci.tar; build/image/digest holds its manifest
# digest, which `podman images --digests` shows after loading it.
#
# Usage: scripts/image.sh   (after `make tools`); prints the digest.
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=localhost/vdpa-oot/echo:1
bin=tools/bin/dpdk-echo
out=build/image
cache=${XDG_CACHE_HOME:-$HOME/.cache}/vdpa-oot/images
[ -x "$bin" ] || { echo "image: $bin is missing: make tools" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs

# The root file system: the program, stripped, and its libraries at the
# paths the dynamic linker found them, plus the directories DPDK uses.
mkdir -p "$root"/{usr/local/bin,etc,tmp,run,var,dev,proc,sys}
ln -s ../run "$root/var/run"
strip -o "$root/usr/local/bin/dpdk-echo" "$bin"
for lib in $(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
			       $1 ~ /^\// { print $1 }'); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

# sha256 FILE: the hex digest.
sha256() {
	sha256sum "$1" | cut -d' ' -f1
}

# The cache key: this script and every file of the root, by content.
key=$( (cat scripts/image.sh; cd "$root" && find . -type f -print0 |
	sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16)
if [ ! -s "$cache/$key.tar" ]; then
	blobs=$work/oci/blobs/sha256
	mkdir -p "$blobs"
	tar -C "$root" --sort=name --mtime=@0 --owner=0 --group=0 \
		--numeric-owner --format=gnu -cf "$work/layer.tar" .
	layer=$(sha256 "$work/layer.tar")
	mv "$work/layer.tar" "$blobs/$layer"
	jq -cn --arg l "sha256:$layer" '{
		architecture: "amd64", os: "linux",
		config: {
			Entrypoint: ["/usr/local/bin/dpdk-echo"],
			Env: ["PATH=/usr/local/bin:/usr/bin:/bin",
			      "LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu"]
		},
		rootfs: { type: "layers", diff_ids: [$l] }
	}' >"$work/config.json"
	config=$(sha256 "$work/config.json")
	jq -cn --arg c "sha256:$config" --arg l "sha256:$layer" \
		--argjson cs "$(stat -c %s "$work/config.json")" \
		--argjson ls "$(stat -c %s "$blobs/$layer")" '{
		schemaVersion: 2,
		mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: { mediaType: "application/vnd.oci.image.config.v1+json",
			  digest: $c, size: $cs },
		layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar",
			   digest: $l, size: $ls }]
	}' >"$work/manifest.json"
	manifest=$(sha256 "$work/manifest.json")
	mv "$work/config.json" "$blobs/$config"
	mv "$work/manifest.json" "$blobs/$manifest"
	jq -cn --arg m "sha256:$manifest" --arg n "$NAME" \
		--argjson ms "$(stat -c %s "$blobs/$manifest")" '{
		schemaVersion: 2,
		manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json",
			      digest: $m, size: $ms,
			      annotations: { "org.opencontainers.image.ref.name": $n } }]
	}' >"$work/oci/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
	mkdir -p "$cache"
	tar -C "$work/oci" --sort=name --mtime=@0 --owner=0 --group=0 \
		--numeric-owner -cf "$cache/$key.tar.new" .
	echo "sha256:$manifest" >"$cache/$key.digest"
	mv "$cache/$key.tar.new" "$cache/$key.tar"
	echo "image: built $NAME, $(du -h "$cache/$key.tar" | cut -f1)" >&2
fi
mkdir -p "$out"
cp "$cache/$key.tar" "$out/oci.tar"
cp "$cache/$key.digest" "$out/digest"
echo "$NAME" >"$out/name"
cat "$out/digest"
