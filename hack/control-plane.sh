#!/usr/bin/env bash
# A real Kubernetes control plane for tests, built the way controller-runtime's envtest gets one:
# kube-apiserver and etcd compiled from their official Go modules, cached outside the repo, and
# started on loopback with generated certificates, a service-account key and an admin kubeconfig.
#
#   hack/control-plane.sh build   build (or reuse cached) binaries
#   hack/control-plane.sh up      build if needed, start etcd + kube-apiserver (idempotent)
#   hack/control-plane.sh down    stop both
#   hack/control-plane.sh env     print KUBECONFIG=... for `eval`
#   hack/control-plane.sh restart-apiserver [seconds-down]
#   hack/control-plane.sh restart-etcd [seconds-down]   (same data directory: nothing is lost)
set -euo pipefail

K8S_VERSION="${BOOTPLANE_K8S_VERSION:-1.34.4}"
ETCD_VERSION="${BOOTPLANE_ETCD_VERSION:-3.6.16}"
CACHE="${BOOTPLANE_CACHE:-$HOME/.cache/bootplane}"
BIN="$CACHE/bin"
STATE="${BOOTPLANE_CP_STATE:-$CACHE/control-plane}"
ETCD_PORT="${BOOTPLANE_ETCD_PORT:-12379}"
ETCD_PEER_PORT="${BOOTPLANE_ETCD_PEER_PORT:-12380}"
API_PORT="${BOOTPLANE_API_PORT:-16443}"
APISERVER="$BIN/kube-apiserver-v$K8S_VERSION"
ETCD="$BIN/etcd-v$ETCD_VERSION"

log() { printf '[control-plane] %s\n' "$*" >&2; }

build_apiserver() {
  [ -x "$APISERVER" ] && return 0
  log "building kube-apiserver v$K8S_VERSION from k8s.io/kubernetes (several minutes on 2 cores)"
  local mod="$CACHE/build/kube-apiserver-$K8S_VERSION"
  mkdir -p "$mod" "$BIN"
  (
    cd "$mod"
    [ -f go.mod ] || go mod init bootplane.io/hack/kube-apiserver >/dev/null 2>&1
    local gomod
    gomod="$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    # k8s.io/kubernetes requires its staging modules at v0.0.0; pin each to the matching release.
    # utils and kube-openapi are pseudo-versions and must stay as they are.
    local minor="v0.${K8S_VERSION#*.}"
    {
      echo "module bootplane.io/hack/kube-apiserver"
      echo
      echo "go 1.24"
      echo
      echo "require k8s.io/kubernetes v$K8S_VERSION"
      echo
      grep -E '^\s+k8s\.io/[^ ]+ v0\.0\.0(\s|$)' "$gomod" | awk -v v="$minor" '{print "replace " $1 " => " $1 " " v}'
    } > go.mod
    cat > tools.go <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
    GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true
    local major="${K8S_VERSION%%.*}" rest="${K8S_VERSION#*.}"
    GOFLAGS=-mod=mod go build -o "$APISERVER.tmp" -ldflags "-s -w \
      -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION \
      -X k8s.io/component-base/version.gitMajor=$major \
      -X k8s.io/component-base/version.gitMinor=${rest%%.*}" k8s.io/kubernetes/cmd/kube-apiserver
    mv "$APISERVER.tmp" "$APISERVER"
  )
}

build_etcd() {
  [ -x "$ETCD" ] && return 0
  log "building etcd v$ETCD_VERSION from go.etcd.io/etcd/server/v3"
  local mod="$CACHE/build/etcd-$ETCD_VERSION"
  mkdir -p "$mod" "$BIN"
  (
    cd "$mod"
    [ -f go.mod ] || go mod init bootplane.io/hack/etcd >/dev/null 2>&1
    cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >/dev/null 2>&1
    go mod tidy >/dev/null 2>&1
    go build -ldflags "-s -w" -o "$ETCD.tmp" .
    mv "$ETCD.tmp" "$ETCD"
  )
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

gen_certs() {
  local pki="$STATE/pki"
  [ -f "$pki/sa.key" ] && return 0
  mkdir -p "$pki"
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=bootplane-test-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n' > "$pki/san.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 3650 -extfile "$pki/san.ext" -out "$pki/apiserver.crt" 2>/dev/null
  local admin user
  admin="$(openssl rand -hex 16)"; user="$(openssl rand -hex 16)"
  # A second, unprivileged user lets RBAC tests act as someone who is not cluster-admin.
  printf '%s,admin,admin,system:masters\n%s,tester,tester\n' "$admin" "$user" > "$pki/tokens.csv"
  echo "$admin" > "$pki/admin.token"
  echo "$user" > "$pki/tester.token"
}

write_kubeconfig() {
  local pki="$STATE/pki"
  cat > "$STATE/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: bootplane-test
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 < "$pki/ca.crt")
users:
- name: admin
  user:
    token: $(cat "$pki/admin.token")
- name: tester
  user:
    token: $(cat "$pki/tester.token")
contexts:
- name: admin
  context: {cluster: bootplane-test, user: admin}
- name: tester
  context: {cluster: bootplane-test, user: tester}
current-context: admin
KC
}

start_etcd() {
  alive "$STATE/etcd.pid" && return 0
  mkdir -p "$STATE/etcd-data"
  nohup "$ETCD" --name bootplane-test --data-dir "$STATE/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "bootplane-test=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --quota-backend-bytes=8589934592 \
    > "$STATE/etcd.log" 2>&1 &
  echo $! > "$STATE/etcd.pid"
}

start_apiserver() {
  alive "$STATE/apiserver.pid" && return 0
  local pki="$STATE/pki"
  nohup "$APISERVER" --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --secure-port="$API_PORT" --advertise-address=127.0.0.1 \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --token-auth-file="$pki/tokens.csv" --authorization-mode=RBAC \
    --service-cluster-ip-range=10.96.0.0/16 --endpoint-reconciler-type=none \
    --enable-priority-and-fairness=false --max-requests-inflight=1000 --max-mutating-requests-inflight=500 \
    > "$STATE/apiserver.log" 2>&1 &
  echo $! > "$STATE/apiserver.pid"
}

wait_ready() {
  local token; token="$(cat "$STATE/pki/admin.token")"
  for _ in $(seq 1 120); do
    if curl -fsS --cacert "$STATE/pki/ca.crt" -H "Authorization: Bearer $token" \
        "https://127.0.0.1:$API_PORT/readyz" >/dev/null 2>&1; then
      return 0
    fi
    alive "$STATE/apiserver.pid" || { log "kube-apiserver exited; see $STATE/apiserver.log"; tail -20 "$STATE/apiserver.log" >&2; return 1; }
    sleep 0.5
  done
  log "kube-apiserver not ready after 60 s; see $STATE/apiserver.log"; return 1
}

stop_pid() {
  local f="$1"
  if alive "$f"; then
    local pid; pid="$(cat "$f")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

case "${1:-}" in
  build) build_etcd; build_apiserver ;;
  up)
    build_etcd; build_apiserver
    mkdir -p "$STATE"; gen_certs; write_kubeconfig
    start_etcd; start_apiserver; wait_ready
    log "ready: KUBECONFIG=$STATE/kubeconfig" ;;
  down) stop_pid "$STATE/apiserver.pid"; stop_pid "$STATE/etcd.pid" ;;
  reset) stop_pid "$STATE/apiserver.pid"; stop_pid "$STATE/etcd.pid"; rm -rf "$STATE" ;;
  env) echo "KUBECONFIG=$STATE/kubeconfig" ;;
  restart-apiserver)
    stop_pid "$STATE/apiserver.pid"; sleep "${2:-0}"; start_apiserver; wait_ready ;;
  restart-etcd)
    stop_pid "$STATE/etcd.pid"; sleep "${2:-0}"; start_etcd; wait_ready ;;
  *) echo "usage: $0 build|up|down|reset|env|restart-apiserver|restart-etcd [seconds]" >&2; exit 2 ;;
esac
