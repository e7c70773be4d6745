#!/bin/bash
# An OCI image archive (image layout in a tar, as `ctr images import` takes it) of one
# uncompressed layer made from a directory, for the pod tests: no registry is reached.
#
# usage: make-image.sh ROOTFS_DIR IMAGE_NAME OUT.tar ENTRYPOINT_JSON CMD_JSON
#   IMAGE_NAME: the full reference containerd names it by (docker.io/library/x:tag)
set -euo pipefail
rootfs=$1 name=$2 out=$3 entrypoint=$4 cmd=$5
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/blobs/sha256"

# blob FILE: moves FILE into the layout under its digest; prints "DIGEST SIZE".
blob() {
	local sum size
	sum=$(sha256sum "$1" | cut -d' ' -f1)
	size=$(stat -c %s "$1")
	mv "$1" "$dir/blobs/sha256/$sum"
	echo "sha256:$sum $size"
}

tar -C "$rootfs" --numeric-owner --owner=0 --group=0 --sort=name -cf "$dir/layer" .
read -r layer layer_size < <(blob "$dir/layer")
jq -n --arg layer "$layer" --argjson ep "$entrypoint" --argjson cmd "$cmd" '{
	architecture: "amd64", os: "linux",
	config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
		Entrypoint: $ep, Cmd: $cmd, WorkingDir: "/"},
	rootfs: {type: "layers", diff_ids: [$layer]}}' >"$dir/config"
read -r config config_size < <(blob "$dir/config")
jq -n --arg c "$config" --argjson cs "$config_size" --arg l "$layer" --argjson ls "$layer_size" '{
	schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
	config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
	layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' \
	>"$dir/manifest"
read -r manifest manifest_size < <(blob "$dir/manifest")
jq -n --arg m "$manifest" --argjson ms "$manifest_size" --arg name "$name" '{
	schemaVersion: 2,
	manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m,
		size: $ms, platform: {architecture: "amd64", os: "linux"},
		annotations: {"io.containerd.image.name": $name,
			"org.opencontainers.image.ref.name": ($name | sub(".*:"; ""))}}]}' \
	>"$dir/index.json"
echo '{"imageLayoutVersion": "1.0.0"}' >"$dir/oci-layout"
tar -C "$dir" -cf "$out" oci-layout index.json blobs
