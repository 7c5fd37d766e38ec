#!/usr/bin/env bash
# Prints the flash cost of the release binary: stripped size, size after
# `xz -9e` (a rough squashfs figure) and the largest crates (cargo bloat).
# With --check, fails when the budget of the foundation issue is exceeded.
set -euo pipefail
cd "$(dirname "$0")/.."

STRIPPED_BUDGET=2500000   # bytes, stripped x86_64 release binary
XZ_BUDGET=1000000         # bytes, the same after xz -9e

cargo build --release --locked -p mesh-vpn-wg
bin=target/release/mesh-vpn-wg
stripped=$(stat -c %s "$bin")
compressed=$(xz -9e -T1 -c "$bin" | wc -c)
printf 'stripped release binary: %d bytes (budget %d)\n' "$stripped" "$STRIPPED_BUDGET"
printf 'after xz -9e:            %d bytes (budget %d)\n' "$compressed" "$XZ_BUDGET"

if command -v cargo-bloat >/dev/null 2>&1 || cargo install --locked -q cargo-bloat 2>/dev/null; then
  echo "largest crates (.text, unstripped release build):"
  # cargo bloat needs symbols: build a non-stripped copy in its own target dir.
  CARGO_PROFILE_RELEASE_STRIP=false CARGO_TARGET_DIR=target/bloat \
    cargo bloat --release --locked -p mesh-vpn-wg --crates -n 12 2>/dev/null | sed -n '/File/,$p'
else
  echo "cargo bloat is not available (cargo install cargo-bloat failed); crate list skipped"
fi

if [ "${1:-}" = "--check" ]; then
  if [ "$stripped" -gt "$STRIPPED_BUDGET" ] || [ "$compressed" -gt "$XZ_BUDGET" ]; then
    echo "size budget exceeded" >&2
    exit 1
  fi
  echo "size budget holds"
fi
