#!/usr/bin/env bash
# For users with Docker: create a kind cluster, build and load the bootplane image, and install
# the Helm chart. (The development machines here have no Docker engine; tests use
# hack/control-plane.sh instead.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
CLUSTER="${KIND_CLUSTER:-bootplane}"
kind get clusters | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER"
docker build -t bootplane:dev .
kind load docker-image bootplane:dev --name "$CLUSTER"
helm upgrade --install bootplane charts/bootplane --namespace bootplane-system --create-namespace \
  --set image.repository=bootplane --set image.tag=dev --set image.pullPolicy=Never \
  --set bootServer.service.type=NodePort
kubectl -n bootplane-system rollout status deploy/bootplane --timeout=120s
