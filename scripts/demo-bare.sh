#!/usr/bin/env bash
# Catches a missing install step for the README's main command: runs the demo
# with a PATH that holds only what a fresh Debian 12 has (its Essential
# packages) plus what `install-deps.sh demo` installs, so a tool the demo or
# the daemon needs but install-deps.sh does not install (e.g. ip6tables)
# fails here even though this machine has it. Needs root; exits non-zero
# when the demo does not connect and fail over.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "demo-bare.sh: needs root (the demo builds network namespaces)" >&2
  exit 1
fi

scripts/install-deps.sh demo
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build -q --locked -p mesh-vpn-wg -p testkit --bin mesh-vpn-wg --bin demo

bare=$(mktemp -d)
trap 'rm -rf "$bare"' EXIT
mapfile -t packages < <(
  dpkg-query -W -f='${Package} ${Essential}\n' | awk '$2 == "yes" {print $1}'
  scripts/install-deps.sh --list demo
)
for pkg in "${packages[@]}"; do
  dpkg -L "$pkg" 2>/dev/null | grep -E '^(/usr)?/s?bin/[^/]+$' || true
done | while IFS= read -r tool; do
  [ -x "$tool" ] && [ ! -d "$tool" ] && ln -sf "$tool" "$bare/$(basename "$tool")"
done
echo "demo-bare.sh: PATH holds $(find "$bare" -mindepth 1 | wc -l) tools from ${#packages[@]} packages"
for tool in ip6tables iptables nft; do
  if [ -e "$bare/$tool" ]; then
    echo "demo-bare.sh: $tool is on the bare PATH; the check would not notice a firewall dependency" >&2
  fi
done

env -i PATH="$bare" HOME="${HOME:-/root}" \
  timeout 300 "$CARGO_TARGET_DIR/debug/demo" --daemon "$CARGO_TARGET_DIR/debug/mesh-vpn-wg"
