#!/usr/bin/env bash
# Installs the Debian packages the tests need (idempotent; only missing packages are fetched).
set -euo pipefail
packages=(ca-certificates curl openssl git
  # Argo CD health checks are tested with a Lua interpreter
  lua5.4
  # network boot: iPXE binaries and ROMs, qemu for the PXE proof, DHCP servers to validate
  # generated configs, a TFTP client, a load generator for the ipxe benchmark
  ipxe ipxe-qemu qemu-system-x86 dnsmasq-base isc-dhcp-server kea-dhcp4-server tftp-hpa wrk
  # libvirt and the test guest (hack/libvirt.sh, hack/testguest.sh); isoinfo/blkid read seed ISOs
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-utils busybox-static qemu-guest-agent cpio
  genisoimage netcat-openbsd
  # UEFI firmware (OVMF): VMs created with firmware: uefi, and the UEFI PXE proof
  ovmf
  # a real NFS server for the guest agent tests (userspace: the kernel server cannot run here)
  nfs-ganesha nfs-ganesha-vfs rpcbind
  # the peer of the assets benchmark
  nginx-light
  # diskless sessions: the userspace iSCSI target, and the tools that build the bootable FAT
  # test disk without loop mounts
  tgt syslinux mtools dosfstools
  # the diskless benchmark measures reflink copies on an XFS filesystem in a loop-mounted file
  xfsprogs
  # the web console's browser tests, screenshots and benchmark (driven by playwright-core)
  chromium)
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
