#!/usr/bin/env bash
# Installs the Debian packages and cargo tools a job needs, skipping what is
# already there so repeated runs are fast.
# Usage: install-deps.sh [--list] test|size|fuzz|demo|lab|cross
# --list prints the job's packages, one a line, and installs nothing (the
# bare-PATH demo check builds its PATH from them).
set -euo pipefail

list=false
if [ "${1:-}" = "--list" ]; then list=true; shift; fi

need_apt=()
want_pkg() {
  if $list; then echo "$1"; return; fi
  dpkg -s "$1" >/dev/null 2>&1 || need_apt+=("$1")
}

case "${1:-test}" in
  # wireguard-go/-tools: userspace WireGuard for the data-plane netns tests
  # (no kernel module on CI hosts); nftables/iptables: the firewall rule;
  # batctl: batman-adv tooling for the kernel lab; libjson-c-dev: the respondd
  # module links json-c.
  test) for p in xz-utils iproute2 iputils-ping wireguard-go wireguard-tools nftables iptables batctl libjson-c-dev; do want_pkg "$p"; done ;;
  size) want_pkg xz-utils ;;
  fuzz) ;;
  # The demo's site: namespaces and gateways with userspace WireGuard. No
  # firewall tool: the daemon connects without one (nothing to open).
  demo) for p in iproute2 wireguard-go wireguard-tools; do want_pkg "$p"; done ;;
  # kernel lab (scripts/kernel-lab.sh): QEMU, static busybox for the initramfs, tools the guest runs.
  lab) for p in qemu-system-x86 busybox-static cpio kmod xz-utils iproute2 iputils-ping wireguard-tools batctl iptables; do want_pkg "$p"; done ;;
  # Router cross-builds (scripts/cross.sh): qemu-user runs the binaries,
  # powerpc's cross gcc links the big-endian unit tests.
  cross) for p in qemu-user-static xz-utils gcc-powerpc-linux-gnu libc6-dev-powerpc-cross; do want_pkg "$p"; done ;;
  *) echo "install-deps.sh: unknown job '$1'" >&2; exit 2 ;;
esac
$list && exit 0

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: need root to install: ${need_apt[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ "${1:-}" = cross ]; then
  # The std rustup serves: aarch64 musl (tier 2) and powerpc (big-endian).
  # MIPS and armv7 musl have none: nightly rebuilds std from rust-src.
  rustup target add --toolchain stable aarch64-unknown-linux-musl powerpc-unknown-linux-gnu >/dev/null
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal >/dev/null
  rustup component add --toolchain nightly rust-src llvm-tools >/dev/null
  # zig: a C compiler, linker and musl for every router CPU, from PyPI.
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore ziglang==0.17.1 cargo-zigbuild==0.24.1
fi
