#!/usr/bin/env bash
# Runs the ubus decoder fuzz target for a bounded time (seconds, default 60).
# cargo-fuzz needs a nightly toolchain; without one this says so and skips.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}

if [ ! -d ubus-wire/fuzz ]; then
  echo "SKIP fuzzing: no fuzz target yet (ubus-wire/fuzz)"
  exit 0
fi
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "SKIP fuzzing: no nightly toolchain on this machine (cargo-fuzz needs one)"
  exit 0
fi
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked -q cargo-fuzz
cd ubus-wire
cargo +nightly fuzz run decode -- -max_total_time="$seconds" -rss_limit_mb=1024
