#!/usr/bin/env bash
# Builds the tiny Linux test guest from Debian packages into a cache directory outside the repo:
#   vmlinuz        Debian's cloud kernel
#   initrd.img     busybox-static + virtio modules + qemu-guest-agent with its shared libraries
#
# The guest has the NFS v3 client modules (busybox mount hands NFS options to the kernel, so an
# fstab line needs addr=<server address>,nolock), /etc/os-release and /etc/fstab.
# The guest brings up eth0 with DHCP (udhcpc), starts qemu-ga on the org.qemu.guest_agent.0
# virtio port, mounts /dev/vda at /mnt/disk when it holds a filesystem, and prints
# "bootplane-testguest ready" on the serial console. Kernel cmdline switches:
#   bootplane.format=1  mkfs the virtio disk first (busybox mke2fs) when it has no filesystem
# Idempotent: the build is keyed by the script's own hash and the package versions.
#
#   hack/testguest.sh        build (if needed) and print the cache directory
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE=${BOOTPLANE_TESTGUEST_DIR:-${BOOTPLANE_CACHE:-$HOME/.cache/bootplane}/testguest}
hack/apt.sh >/dev/null

kernel_pkg=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
[ -n "$kernel_pkg" ] || { echo "testguest: cannot resolve linux-image-cloud-amd64" >&2; exit 1; }
key=$( (sha256sum "${BASH_SOURCE[0]}"; echo "$kernel_pkg"; dpkg-query -W busybox-static qemu-guest-agent) | sha256sum | cut -c1-16)
# One directory per build key: worktrees with different versions of this script share the cache
# without replacing each other's guest under a running test.
CACHE="$CACHE/$key"
if [ -f "$CACHE/.key" ] && [ "$(cat "$CACHE/.key")" = "$key" ] && [ -f "$CACHE/vmlinuz" ] && [ -f "$CACHE/initrd.img" ]; then
  echo "$CACHE"; exit 0
fi

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$CACHE"
( cd "$work" && apt-get download -q "$kernel_pkg" >/dev/null 2>&1 ) || { apt-get update -qq && ( cd "$work" && apt-get download -q "$kernel_pkg" >/dev/null ); }
dpkg-deb -x "$work"/linux-image-*.deb "$work/kernel"
kver=$(ls "$work/kernel/lib/modules")
mods="$work/kernel/lib/modules/$kver/kernel"

root="$work/root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,run,tmp,mnt/disk,lib/modules,usr/share/udhcpc,var/run}
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"; done

# The order matters: virtio_net fails to load without the failover modules before it.
order=(net/core/failover drivers/net/net_failover drivers/virtio/virtio_ring drivers/virtio/virtio
  drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci
  drivers/char/virtio_console drivers/net/virtio_net drivers/block/virtio_blk
  drivers/scsi/scsi_common drivers/scsi/scsi_mod drivers/scsi/virtio_scsi fs/mbcache fs/jbd2/jbd2 lib/crc16 crypto/crc32c_generic fs/ext4/ext4
  drivers/cdrom/cdrom drivers/scsi/sr_mod fs/isofs/isofs
  net/sunrpc/sunrpc fs/nfs_common/grace fs/lockd/lockd fs/nfs_common/nfs_acl fs/netfs/netfs fs/fscache/fscache
  fs/nfs/nfs fs/nfs/nfsv3)
: >"$root/lib/modules/order"
for m in "${order[@]}"; do
  f=$(ls "$mods/$m.ko"* 2>/dev/null | head -1) || true
  [ -n "$f" ] || continue   # built into the kernel
  base=$(basename "$m")
  case "$f" in
    *.xz) xz -dc "$f" >"$root/lib/modules/$base.ko" ;;
    *.zst) zstd -qdc "$f" >"$root/lib/modules/$base.ko" ;;
    *) cp "$f" "$root/lib/modules/$base.ko" ;;
  esac
  echo "$base" >>"$root/lib/modules/order"
done

# qemu-ga and every shared library it links (the loader included).
cp /usr/sbin/qemu-ga "$root/sbin/qemu-ga"
for lib in $(ldd /usr/sbin/qemu-ga | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"
done

# What the guest agent tests read: os-release facts and an fstab bootplane adds its lines to.
cat >"$root/etc/os-release" <<'OSRELEASE'
NAME="bootplane test guest"
PRETTY_NAME="bootplane test guest (busybox)"
ID=bootplane-testguest
OSRELEASE
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
printf '# /etc/fstab of the bootplane test guest\nnone /mnt/scratch tmpfs noauto 0 0\n' >"$root/etc/fstab"

cat >"$root/usr/share/udhcpc/default.script" <<'SCRIPT'
#!/bin/sh
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
    : >/etc/resolv.conf; for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done ;;
esac
exit 0
SCRIPT
chmod +x "$root/usr/share/udhcpc/default.script"

cat >"$root/init" <<'INIT'
#!/bin/sh
# The kernel starts init without PATH; qemu-ga and the programs it runs inherit this one.
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
for m in $(cat /lib/modules/order); do insmod "/lib/modules/$m.ko" 2>/dev/null; done
echo "bootplane-testguest: modules loaded"
hostname bootplane-testguest
ip link set lo up
# Debian's busybox looks for /etc/udhcpc/default.script; ours is named explicitly.
if ip link show eth0 >/dev/null 2>&1; then ip link set eth0 up; udhcpc -i eth0 -q -n -t 5 -s /usr/share/udhcpc/default.script >/dev/null 2>&1 && echo "bootplane-testguest: eth0 $(ip -4 -o addr show eth0 | awk '{print $4}')"; fi
# The disk first: once the agent answers, /mnt/disk is ready for a test to use.
if [ -b /dev/vda ]; then
  if ! mount -t ext4 /dev/vda /mnt/disk 2>/dev/null && grep -q bootplane.format=1 /proc/cmdline; then
    mke2fs -q /dev/vda && mount /dev/vda /mnt/disk && echo "bootplane-testguest: formatted /dev/vda"
  fi
  grep -q ' /mnt/disk ' /proc/mounts && echo "bootplane-testguest: /dev/vda mounted on /mnt/disk"
fi
for p in /sys/class/virtio-ports/*; do
  [ "$(cat "$p/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] && qemu-ga -d -m virtio-serial -p "/dev/$(basename "$p")" && echo "bootplane-testguest: agent on /dev/$(basename "$p")"
done
echo "bootplane-testguest ready"
# A shell on the serial console when there is one; init must never exit (the kernel would panic).
while :; do setsid sh -c 'exec sh </dev/ttyS0 >/dev/ttyS0 2>&1' 2>/dev/null || sleep 3600; done
INIT
chmod +x "$root/init"

cp "$work/kernel/boot/vmlinuz-$kver" "$CACHE/vmlinuz.tmp"
( cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 ) >"$CACHE/initrd.img.tmp"
mv "$CACHE/vmlinuz.tmp" "$CACHE/vmlinuz"; mv "$CACHE/initrd.img.tmp" "$CACHE/initrd.img"
echo "$key" >"$CACHE/.key"
echo "$CACHE"
