#!/usr/bin/env bash
# Browser test of luci-app-mesh-vpn-wg (issue 7): installs Debian's chromium
# and nodejs when missing (as root), the `ws` package from npm, builds the
# daemon and the test ubusd, then runs drive.mjs. Screenshots go to
# tests/artifacts/. Skips visibly when chromium cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=tests/browser

skip() { echo "SKIP: browser test: $*"; exit 0; }

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing ${missing[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; } \
      || echo "apt-get could not install ${missing[*]}"
  fi
fi
command -v chromium >/dev/null 2>&1 || skip "chromium is not installed and could not be installed"
command -v node >/dev/null 2>&1 || skip "node is not installed and could not be installed"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"

if [ ! -f "$here/node_modules/ws/package.json" ]; then
  npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$here" ws@8 >/dev/null \
    || skip "the ws package could not be installed from npm"
fi

cargo build --locked -q -p mesh-vpn-wg -p testkit --bins
bin_dir="${CARGO_TARGET_DIR:-target}/debug"

exec node "$here/drive.mjs" "$bin_dir" tests/artifacts
