#!/usr/bin/env bash
# The demo: a small Freifunk site in network namespaces (test wgkex broker,
# two gateways on wireguard-go with VXLAN and an HTTP responder, test ubusd)
# and the mesh-vpn-wg daemon on a node. It connects, the chosen gateway is
# killed, the node fails over, the times are printed, everything is removed.
# Run as root on Debian 12: installs wireguard-go, wireguard-tools and
# iproute2 if missing, builds, runs. Under two minutes once built.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh: needs root (network namespaces, WireGuard interfaces)" >&2
  exit 1
fi

scripts/install-deps.sh demo
if ! command -v cargo >/dev/null; then
  echo "demo.sh: cargo not found; install Rust (1.85 or newer) with rustup: https://rustup.rs" >&2
  exit 1
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
echo "== Building mesh-vpn-wg and the demo (cargo build)"
cargo build -q --locked -p mesh-vpn-wg -p testkit --bin mesh-vpn-wg --bin demo

# The demo removes what it made, also on Ctrl-C; this only catches a demo
# that was killed outright. Its namespaces are named mvwan-, mvnode-, mvgw1-,
# mvgw2- followed by the demo's process id.
demo_pid=""
leftovers() {
  [ -n "$demo_pid" ] || return 0
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    case "$ns" in
      mvwan-"$demo_pid"*|mvnode-"$demo_pid"*|mvgw1-"$demo_pid"*|mvgw2-"$demo_pid"*)
        ip netns del "$ns" 2>/dev/null || true ;;
    esac
  done
}
trap leftovers EXIT
# Ctrl-C goes to the demo, which stops its daemon and removes the site itself.
trap '' INT

"$CARGO_TARGET_DIR/debug/demo" --daemon "$CARGO_TARGET_DIR/debug/mesh-vpn-wg" &
pid=$!
demo_pid=$(( pid % 100000 ))
wait "$pid"
