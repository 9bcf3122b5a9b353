#!/usr/bin/env bash
# `npm start`: the embedded default. Standalone mode (no cluster) over examples/site with a local
# hypervisor: the libvirt daemon on this machine when one answers, otherwise the Proxmox VE
# simulator in-process. It prints what converged and the URLs to try. Ctrl-C stops it.
# For the controller against a local Kubernetes control plane instead: hack/start-cluster.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec tsx src/cli/main.ts standalone --dir examples/site --local-hypervisor "${BOOTPLANE_LOCAL_HYPERVISOR:-auto}" \
  --boot-addr 127.0.0.1:8082 --metrics-addr 127.0.0.1:8080 --health-addr 127.0.0.1:8081 "$@"
