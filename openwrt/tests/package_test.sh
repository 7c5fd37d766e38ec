#!/bin/sh
# The package's conventions that no build here can exercise (there is no
# OpenWrt tree): what the Makefile and files/ must and must not contain.
set -u

dir="$(dirname "$0")/../mesh-vpn-wg"
makefile="$dir/Makefile"
failures=0
# Usage: <condition>; result "what" $?
result() {
	if [ "$2" -eq 0 ]; then
		echo "ok    package: $1"
	else
		echo "FAIL  package: $1"
		failures=$((failures + 1))
	fi
}
has() { grep -Eq "$1" "$makefile"; }
line_of() { grep -nE "$1" "$makefile" | head -n 1 | cut -d: -f1; }

has "^PKG_LICENSE:=[A-Za-z0-9.-]+$" && has "^PKG_MAINTAINER:=."
result "SPDX license and maintainer" $?
[ "$(line_of "include .*/gluon\.mk")" -lt "$(line_of "include .*/rust-package\.mk")" ]
result "gluon.mk is included before rust-package.mk" $?
has "^define Build/Compile$" && has "call Build/Compile/Cargo" && has "call Gluon/Build/Compile"
result "Build/Compile runs cargo and Gluon's step" $?
has "CARGO_PROFILE_RELEASE_PANIC=abort" && has "CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=false"
result "the release profile is set back to panic=abort without overflow checks" $?
[ "$(line_of "^define Package/mesh-vpn-wg/install")" -lt "$(line_of "BuildPackageGluon")" ] && has "Gluon/Build/Install"
result "install is defined before BuildPackageGluon and keeps Gluon's install" $?
has "RUST_ARCH_DEPENDS" && has "\+kmod-wireguard" && has "\+kmod-vxlan"
result "architectures and kernel modules" $?
has "^  CONFLICTS:=.*ffmuc-mesh-vpn-wireguard-vxlan"
result "conflicts with the package it replaces" $?
[ ! -e "$dir/files/usr/lib/micron.d" ]
result "no micrond cron entry" $?
[ -f "$dir/files/lib/gluon/mesh-vpn/provider/wireguard" ]
result "provider registered" $?
[ -x "$dir/files/etc/init.d/mesh-vpn-wg" ]
result "init script is executable" $?
[ -x "$dir/luasrc/lib/gluon/upgrade/400-mesh-vpn-wireguard" ]
result "upgrade script is executable" $?
[ "$failures" -eq 0 ]

