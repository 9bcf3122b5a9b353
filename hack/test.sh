#!/usr/bin/env bash
# The test command (`npm test`): generated files are fresh, types check, lint passes, unit tests,
# then integration tests against a real kube-apiserver + etcd (hack/control-plane.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
echo "== type-check"; tsc -p tsconfig.json --noEmit
echo "== lint"; eslint --max-warnings 0 .
echo "== console assets"; tsx hack/build-console.ts
echo "== unit tests"; vitest run --project unit
# From an empty etcd: objects a benchmark or an earlier run left behind would be listed and
# reconciled by every controller the tests start (and the test control plane has no namespace
# controller to clean them up).
echo "== control plane"; hack/control-plane.sh reset; hack/control-plane.sh up
echo "== integration tests"; vitest run --project integration
