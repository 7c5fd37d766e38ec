#!/usr/bin/env bash
# Builds mesh-vpn-wg for the C library and CPUs of Gluon routers and proves
# the result, since everything else here runs on glibc x86_64:
#   1. each router target's static binary runs `explain --json` on the
#      example node under qemu-user and must print the native output byte for
#      byte (key, link-local and VNI derivations, JSON, on big-endian MIPS too);
#   2. each target is built again as OpenWrt builds it (musl linked
#      dynamically, -crt-static, the respondd module too), stripped as
#      OpenWrt's default sstrip would (every non-loadable section dropped),
#      and its flash cost printed; --check fails when a budget is exceeded;
#   3. the unit tests of the main crate, ubus-wire and testkit run on a
#      big-endian CPU (powerpc under qemu-user; the std for MIPS is not served).
# Usage: cross.sh [--check]
set -euo pipefail
cd "$(dirname "$0")/.."

# Budgets, bytes, of the daemon as OpenWrt builds it, after stripping: every
# target's build here, and MIPS (ath79, the tightest flash) with a prebuilt std.
BUDGET=2000000
MIPS_BUDGET=2000000

section() { printf '\n--- %s ---\n' "$*"; }

scripts/install-deps.sh cross
zigbuild="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/cargo-zigbuild"
llvm_bin="$(rustc +nightly --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin"
export CARGO_TARGET_DIR=target/cross
example=examples/ffmuc-node

# target  qemu  toolchain  (build-std where rustup serves no std)
targets=(
  "aarch64-unknown-linux-musl aarch64 stable"
  "armv7-unknown-linux-musleabihf arm nightly-build-std"
  "mips-unknown-linux-musl mips nightly-build-std"
)

# cargo zigbuild for one target: build <target> <toolchain> <rustflags> <cargo args..>.
# zig links with its own musl: rustc has no self-contained objects for
# build-std targets, and zig's are the same musl OpenWrt ships.
build() {
  local target=$1 toolchain=$2 flags="-C link-self-contained=no $3"
  shift 3
  local args=(--quiet --release --locked --target "$target")
  if [ "$toolchain" = nightly-build-std ]; then
    # The nightly linter reports zig's search path notes as warnings.
    RUSTFLAGS="$flags -A linker_messages" RUSTUP_TOOLCHAIN=nightly \
      "$zigbuild" zigbuild "${args[@]}" -Zbuild-std=std,panic_abort "$@"
  else
    RUSTFLAGS="$flags" RUSTUP_TOOLCHAIN=stable "$zigbuild" zigbuild "${args[@]}" "$@"
  fi
}

# OpenWrt-like build of the daemon and the respondd module into target dir
# $3: dynamic musl (-crt-static; zig links static unless told), then every
# non-loadable section dropped, as OpenWrt's default sstrip does.
openwrt_build() {
  local target=$1 toolchain=$2 dir=$3 stub_dir
  stub_dir=$(scripts/jsonc-stub.sh "$target")
  CARGO_TARGET_DIR=$dir build "$target" "$toolchain" \
    "-C target-feature=-crt-static -C link-arg=-dynamic -L native=$stub_dir" \
    -p mesh-vpn-wg -p respondd-mesh-vpn-wg || return 1
  for file in mesh-vpn-wg librespondd_mesh_vpn_wg.so; do
    "$llvm_bin/llvm-objcopy" --strip-all "$dir/$target/release/$file" "$dir/$target/release/$file.sstrip"
  done
}

size_row() {
  local file=$1 label=$2
  printf '%-44s %-28s %10d %10d\n' "$label" "$(basename "$file" .sstrip)" \
    "$(stat -c %s "$file")" "$(xz -9e -T1 -c "$file" | wc -c)"
}

section "native reference: explain --json on $example"
cargo build --release --locked -q -p mesh-vpn-wg
native=$("$CARGO_TARGET_DIR"/release/mesh-vpn-wg --root "$example" explain --json)

failed=()
sizes=()
for row in "${targets[@]}"; do
  read -r target qemu toolchain <<<"$row"

  section "$target: static build, explain --json under qemu-$qemu"
  static_bin=$CARGO_TARGET_DIR/$target/release/mesh-vpn-wg
  if ! build "$target" "$toolchain" "" -p mesh-vpn-wg; then
    failed+=("$target: static build")
    continue
  fi
  emulated=$("qemu-$qemu-static" "$static_bin" --root "$example" explain --json) || true
  if [ "$emulated" = "$native" ]; then
    echo "$target: explain --json matches x86_64 byte for byte"
  else
    diff <(echo "$native") <(echo "$emulated") | head -20 || true
    failed+=("$target: explain output differs from x86_64")
  fi

  section "$target: as OpenWrt builds it (dynamic musl), daemon and respondd module"
  if ! openwrt_build "$target" "$toolchain" target/cross-openwrt; then
    failed+=("$target: OpenWrt-like build")
    continue
  fi
  for file in mesh-vpn-wg librespondd_mesh_vpn_wg.so; do
    sizes+=("$(size_row "target/cross-openwrt/$target/release/$file.sstrip" "$target")")
  done
done

# OpenWrt links the std its rust/host package built (opt-level 3, unwind
# tables), not one rebuilt at our opt-level z. rustup serves no MIPS std, so
# the difference is measured where both exist (aarch64) and applied to MIPS.
section "prebuilt std vs rebuilt std (aarch64), applied to the MIPS figure"
mips_bin=target/cross-openwrt/mips-unknown-linux-musl/release/mesh-vpn-wg.sstrip
if openwrt_build aarch64-unknown-linux-musl nightly-build-std target/cross-rebuilt-std && [ -f "$mips_bin" ]; then
  rebuilt=target/cross-rebuilt-std/aarch64-unknown-linux-musl/release/mesh-vpn-wg.sstrip
  prebuilt=target/cross-openwrt/aarch64-unknown-linux-musl/release/mesh-vpn-wg.sstrip
  sizes+=("$(size_row "$rebuilt" "aarch64 (std rebuilt at opt-level z)")")
  estimate=$(($(stat -c %s "$mips_bin") * $(stat -c %s "$prebuilt") / $(stat -c %s "$rebuilt")))
  printf 'aarch64: prebuilt std %d B, rebuilt std %d B; MIPS with a prebuilt std: about %d B (budget %d)\n' \
    "$(stat -c %s "$prebuilt")" "$(stat -c %s "$rebuilt")" "$estimate" "$MIPS_BUDGET"
  [ "$estimate" -le "$MIPS_BUDGET" ] || failed+=("mips: about $estimate bytes with a prebuilt std, budget $MIPS_BUDGET")
else
  failed+=("prebuilt-std estimate")
fi
for file in target/cross-openwrt/*/release/mesh-vpn-wg.sstrip; do
  [ "$(stat -c %s "$file")" -le "$BUDGET" ] || failed+=("$file: over $BUDGET bytes")
done

section "unit tests on a big-endian CPU (powerpc-unknown-linux-gnu under qemu-ppc)"
export CARGO_TARGET_POWERPC_UNKNOWN_LINUX_GNU_LINKER=powerpc-linux-gnu-gcc
export CARGO_TARGET_POWERPC_UNKNOWN_LINUX_GNU_RUNNER="qemu-ppc-static -L /usr/powerpc-linux-gnu"
export CC_powerpc_unknown_linux_gnu=powerpc-linux-gnu-gcc
be_test() { cargo test --quiet --locked --target powerpc-unknown-linux-gnu "$@"; }
# ubus-wire whole (codec, fixtures, client, server); the others' unit tests
# (their integration tests need namespaces and root, not a CPU).
if ! be_test -p ubus-wire || ! be_test -p mesh-vpn-wg -p testkit --lib; then
  failed+=("big-endian unit tests")
fi

section "flash cost, OpenWrt-like builds (dynamic musl, sstrip-like)"
printf '%-44s %-28s %10s %10s\n' target file stripped "xz -9e"
printf '%s\n' "${sizes[@]}"

if [ ${#failed[@]} -gt 0 ]; then
  printf 'cross: FAILED: %s\n' "${failed[@]}" >&2
  [ "${1:-}" = --check ] && exit 1
  exit 0
fi
echo "cross: all router targets build, behave like x86_64 and fit their budgets"
