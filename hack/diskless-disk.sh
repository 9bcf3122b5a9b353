#!/usr/bin/env bash
# Builds the golden image of the diskless tests: a FAT disk (no partition table, so the FAT boot
# sector is the disk's first sector) with syslinux installed by mtools (no loop mount), the test
# guest's kernel and initramfs (hack/testguest.sh) and a syslinux.cfg that boots them with the
# serial console. A sanbooted machine runs syslinux from it and boots the guest to its ready line.
# Idempotent: rebuilt only when this script or the test guest changes.
#
#   hack/diskless-disk.sh    build (if needed) and print the image's path
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE=${BOOTPLANE_DISKLESS_DIR:-${BOOTPLANE_CACHE:-$HOME/.cache/bootplane}/diskless}
guest=$(hack/testguest.sh | tail -1)
key=$( (sha256sum "${BASH_SOURCE[0]}" "$guest/vmlinuz" "$guest/initrd.img"; dpkg-query -W syslinux mtools dosfstools) | sha256sum | cut -c1-16)
image="$CACHE/golden-fat.img"
if [ -f "$CACHE/.key" ] && [ "$(cat "$CACHE/.key")" = "$key" ] && [ -f "$image" ]; then
  echo "$image"; exit 0
fi
mkdir -p "$CACHE"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
size_kib=$(( ( $(stat -c %s "$guest/vmlinuz") + $(stat -c %s "$guest/initrd.img") ) / 1024 + 8192 ))
mkfs.fat -C -n BOOTPLANE "$work/disk.img" "$size_kib" >/dev/null
syslinux --install "$work/disk.img"
cat > "$work/syslinux.cfg" <<'CFG'
SERIAL 0 115200
DEFAULT guest
PROMPT 0
TIMEOUT 0
LABEL guest
  KERNEL vmlinuz
  APPEND initrd=initrd.img console=ttyS0 bootplane.diskless=1
CFG
mcopy -i "$work/disk.img" "$guest/vmlinuz" "$guest/initrd.img" "$work/syslinux.cfg" ::/
mv "$work/disk.img" "$image"
echo "$key" > "$CACHE/.key"
echo "$image"
