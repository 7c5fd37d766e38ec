#!/usr/bin/env bash
# Installs what the tests need and runs all of them. This is the README's test
# command and what CI (.ci/run) calls on a fresh Debian 12 machine as root.
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n=== %s ===\n' "$*"; }

section "installing test dependencies"
scripts/install-deps.sh test

section "format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

section "tests"
cargo test --workspace --locked

section "the demo on a bare PATH: only Debian's Essential packages and what install-deps.sh demo installs"
scripts/demo-bare.sh

section "kernel lab: the data plane and the daemon end to end on kernel WireGuard, VXLAN and batman-adv (Debian's kernel under QEMU)"
scripts/kernel-lab.sh --test

section "OpenWrt and Gluon package checks (shellcheck, luacheck, Lua tests, ACL, JSON)"
scripts/check-openwrt.sh

section "web pages: LuCI and Gluon config mode, unit and browser tests"
tests/browser/run-all.sh

section "size budget (release build)"
scripts/size.sh --check

section "router builds: musl on aarch64, armv7 and big-endian MIPS, explain under qemu-user, big-endian unit tests, flash budget"
scripts/cross.sh --check

section "ubus decoder fuzzing (bounded)"
scripts/fuzz.sh 60
