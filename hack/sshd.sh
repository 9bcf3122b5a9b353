#!/usr/bin/env bash
# Provides an OpenSSH server binary for tests of the libvirt SSH transport, without installing
# the openssh-server package (whose postinst would start a system sshd on port 22): Debian's
# openssh-server and libwrap0 are unpacked into a cache directory, and the privilege-separation
# user sshd needs is created. Tests start their own sshd on loopback with their own config.
# Idempotent. Prints the directory; run sshd as
#   LD_LIBRARY_PATH=DIR/usr/lib/x86_64-linux-gnu DIR/usr/sbin/sshd -f CONFIG -D -e
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DIR=${BOOTPLANE_SSHD_DIR:-${BOOTPLANE_CACHE:-$HOME/.cache/bootplane}/sshd}
if [ ! -x "$DIR/usr/sbin/sshd" ] || [ ! -e "$DIR/usr/lib/x86_64-linux-gnu/libwrap.so.0" ]; then
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  chmod 755 "$work"
  ( cd "$work" && apt-get download -q openssh-server libwrap0 >/dev/null 2>&1 ) || { apt-get update -qq && ( cd "$work" && apt-get download -q openssh-server libwrap0 >/dev/null ); }
  mkdir -p "$DIR"
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$DIR"; done
fi
getent passwd sshd >/dev/null || useradd --system --home-dir /run/sshd --shell /usr/sbin/nologin sshd
mkdir -p /run/sshd && chmod 755 /run/sshd
echo "$DIR"
