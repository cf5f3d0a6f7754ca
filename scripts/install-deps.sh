#!/bin/sh
# Installs the Debian 12 packages irqlab needs. Idempotent and quiet when
# everything is already there: apt is only called for what is missing.
set -e
PKGS="build-essential pkg-config clang libmnl-dev ethtool iproute2 memcached
libmemcached-tools gnuplot-nox perl valgrind procps util-linux liburing-dev strace
libjansson-dev openssh-server openssh-client"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
	command -v sudo >/dev/null || { echo "install-deps: missing:$missing (run as root)" >&2; exit 1; }
else
	SUDO=
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg (an unattended upgrade, a parallel build) instead
# of failing on its lock.
APT="apt-get -o DPkg::Lock::Timeout=600"
$SUDO $APT update -qq
$SUDO $APT install -y -qq --no-install-recommends $missing >/dev/null
# Debian starts memcached as a service on install; our tests start their own.
if command -v systemctl >/dev/null 2>&1; then
	$SUDO systemctl disable --now memcached >/dev/null 2>&1 || true
fi
