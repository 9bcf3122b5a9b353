#!/usr/bin/env bash
# Sets up libvirtd + virtlogd and qemu from Debian on this machine, as root and without systemd:
# the qemu user, the run/log directories, TCG when /dev/kvm is not usable, and a `default` dir
# storage pool. Idempotent: a second run only checks that everything is up.
#
#   hack/libvirt.sh          install (via hack/apt.sh), start the daemons, define the pool
#   hack/libvirt.sh status   print whether the daemons answer
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

POOL_DIR=${BOOTPLANE_LIBVIRT_POOL_DIR:-/var/lib/libvirt/images}
URI=qemu:///system

if [ "${1:-}" = status ]; then
  virsh -c "$URI" version
  exit 0
fi

[ "$(id -u)" = 0 ] || { echo "hack/libvirt.sh must run as root (it starts the system libvirtd)" >&2; exit 1; }

hack/apt.sh

# Without systemd nothing creates these; libvirtd refuses to start without the qemu user.
getent group kvm >/dev/null || groupadd --system kvm
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd --system --gid libvirt-qemu --groups kvm --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
getent group libvirt >/dev/null || groupadd --system libvirt
mkdir -p /var/log/libvirt/qemu /var/run/libvirt /var/lib/libvirt/qemu /var/cache/libvirt "$POOL_DIR"

# The qemu processes run as root here: test images live in root-owned cache directories and the
# machine has no other tenants. (Production hosts keep Debian's default libvirt-qemu user.)
qemu_conf=/etc/libvirt/qemu.conf
conf_changed=0
if ! grep -q '^# bootplane test host' "$qemu_conf" 2>/dev/null; then
  conf_changed=1
  printf '\n# bootplane test host\nuser = "root"\ngroup = "root"\ndynamic_ownership = 0\nremember_owner = 0\n' >>"$qemu_conf"
fi

# Which domain type tests should define. /dev/kvm exists here and SeaBIOS even runs under it,
# but a Linux guest hung without a line of output under nested KVM, so TCG is the default and
# KVM is opt-in (BOOTPLANE_LIBVIRT_KVM=1) on hosts where it is known to work.
STATE_DIR=${BOOTPLANE_CACHE:-$HOME/.cache/bootplane}/libvirt
mkdir -p "$STATE_DIR"
if [ "${BOOTPLANE_LIBVIRT_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then echo kvm >"$STATE_DIR/domain-type"; else echo qemu >"$STATE_DIR/domain-type"; fi
echo "[libvirt] test domains use type='$(cat "$STATE_DIR/domain-type")'"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if ! alive /var/run/virtlogd.pid; then
  echo "[libvirt] starting virtlogd"
  virtlogd --daemon --pid-file /var/run/virtlogd.pid
fi
if [ "$conf_changed" = 1 ] && alive /var/run/libvirtd.pid; then
  echo "[libvirt] restarting libvirtd to read $qemu_conf"
  kill "$(cat /var/run/libvirtd.pid)"
  for _ in $(seq 1 40); do alive /var/run/libvirtd.pid || break; sleep 0.25; done
fi
if ! alive /var/run/libvirtd.pid; then
  echo "[libvirt] starting libvirtd"
  libvirtd --daemon --pid-file /var/run/libvirtd.pid
fi
for _ in $(seq 1 60); do
  virsh -c "$URI" version >/dev/null 2>&1 && break
  sleep 0.5
done
virsh -c "$URI" version >/dev/null

if ! virsh -c "$URI" pool-info default >/dev/null 2>&1; then
  echo "[libvirt] defining storage pool default at $POOL_DIR"
  virsh -c "$URI" pool-define-as default dir --target "$POOL_DIR" >/dev/null
  virsh -c "$URI" pool-autostart default >/dev/null
fi
pool_info=$(virsh -c "$URI" pool-info default)
case "$pool_info" in *running*) ;; *) virsh -c "$URI" pool-start default >/dev/null ;; esac
virsh -c "$URI" pool-refresh default >/dev/null
echo "[libvirt] ready: $(virsh -c "$URI" version | sed -n 's/^Running hypervisor: //p')"
