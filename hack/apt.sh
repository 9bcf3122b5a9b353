#!/usr/bin/env bash
# Installs the Debian packages the tests need (idempotent; only missing packages are fetched).
set -euo pipefail
packages=(ca-certificates curl openssl git lua5.4
  # libvirt, qemu, iPXE and the test guest (hack/libvirt.sh, hack/testguest.sh)
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils ipxe-qemu ipxe
  busybox-static qemu-guest-agent cpio genisoimage netcat-openbsd)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[apt] installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
