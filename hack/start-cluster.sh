#!/usr/bin/env bash
# The controller against a local Kubernetes control plane. Brings up the test control plane (kube-apiserver
# + etcd built from Go modules, cached under ~/.cache/bootplane), installs the CRDs and runs the
# controller against it. Apply examples/ from a second terminal with the printed KUBECONFIG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
hack/control-plane.sh up
eval "$(hack/control-plane.sh env)"
export KUBECONFIG
kubectl apply --server-side --force-conflicts -k crds/ >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd -l app.kubernetes.io/part-of=bootplane >/dev/null
kubectl create namespace bootplane-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
cat <<MSG

  bootplane controller is starting against the local control plane.
  In another terminal:
    export KUBECONFIG=$KUBECONFIG
    kubectl apply -f examples/
    kubectl get bootplane -A
  Metrics: http://127.0.0.1:8080/metrics   Health: http://127.0.0.1:8081/readyz

MSG
exec tsx src/cli/main.ts controller --metrics-addr 127.0.0.1:8080 --health-addr 127.0.0.1:8081 "$@"
