#!/usr/bin/env bash
# All tests of the two web pages (issue 7), one command:
#   node unit tests of the LuCI page's decisions and catalogues,
#   lua5.1 tests of the Gluon config-mode page, then the browser test.
# Installs lua5.1 when missing (as root); skips visibly what cannot run.
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "== LuCI page: node unit tests"
if ! command -v node >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null; } \
    || echo "apt-get could not install nodejs"
fi
node --test luci-app-mesh-vpn-wg/tests/*.test.js tests/browser/standin.test.js

echo "== Gluon config-mode page: lua5.1 tests"
if ! command -v lua5.1 >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lua5.1 >/dev/null; } \
    || echo "apt-get could not install lua5.1"
fi
if command -v lua5.1 >/dev/null 2>&1; then
  gluon=openwrt/gluon-config-mode
  for t in "$gluon"/tests/*_test.lua; do
    LUA_PATH="$gluon/luasrc/usr/lib/lua/?.lua;;" lua5.1 "$t"
  done
else
  echo "SKIP: Gluon config-mode tests: lua5.1 is not installed and could not be installed"
fi

echo "== LuCI page: browser test"
tests/browser/run.sh
