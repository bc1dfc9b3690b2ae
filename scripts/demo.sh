#!/usr/bin/env bash
# demo.sh [MOUNTPOINT] - from a fresh Debian 12 machine to a mounted cluster:
# installs what esfs needs, builds it, starts a local OpenSearch node on
# 127.0.0.1:9200 (fetched from Maven Central) with a demo repository and three
# snapshots, and mounts it on MOUNTPOINT (default /mnt/esfs). Run as root.
# Stop with: fusermount3 -u MOUNTPOINT; scripts/engine.sh stop opensearch 9200
set -euo pipefail
cd "$(dirname "$0")/.."

mnt=${1:-/mnt/esfs}
url=http://127.0.0.1:9200

scripts/install-deps.sh
scripts/build.sh
scripts/engine.sh start opensearch 9200 >/dev/null
scripts/seed-demo.sh "$url" demo >/dev/null

if mountpoint -q "$mnt"; then
	fusermount3 -u "$mnt"
fi
mkdir -p "$mnt"
build/esfs "$url" "$mnt"

cat <<EOT

esfs: $url is mounted on $mnt. Try:

  ls -lt $mnt/demo                  snapshots, newest first
  cat $mnt/demo/nightly-1/state     SUCCESS
  cat $mnt/demo/nightly-1/progress
  cat $mnt/demo/nightly-1/indices
  jq .shards $mnt/demo/nightly-1/info.json
  cat $mnt/_cluster/health $mnt/_esfs/stats

Unmount with: fusermount3 -u $mnt
EOT
ls -lt "$mnt/demo"
