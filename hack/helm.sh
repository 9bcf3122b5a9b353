#!/usr/bin/env bash
# Builds helm from its Go module (cached outside the repo, like the control plane) and prints
# its path. Usage: HELM="$(hack/helm.sh)"
set -euo pipefail
HELM_VERSION="${BOOTPLANE_HELM_VERSION:-3.19.2}"
CACHE="${BOOTPLANE_CACHE:-$HOME/.cache/bootplane}"
bin="$CACHE/bin/helm-v$HELM_VERSION"
if [ ! -x "$bin" ]; then
  echo "[helm] building helm v$HELM_VERSION from helm.sh/helm/v3" >&2
  mkdir -p "$CACHE/bin"
  tmp="$(mktemp -d)"
  GOBIN="$tmp" GOFLAGS=-mod=mod go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION" >&2
  mv "$tmp/helm" "$bin"
  rm -rf "$tmp"
fi
echo "$bin"
