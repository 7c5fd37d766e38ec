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

# Budgets, bytes, OpenWrt-like build after stripping (see the README).
MIPS_BUDGET=2000000
OTHER_BUDGET=2000000

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
  stub_dir=$(scripts/jsonc-stub.sh "$target")
  # zig links static unless told; OpenWrt's musl is a shared library.
  if ! CARGO_TARGET_DIR=target/cross-openwrt build "$target" "$toolchain" \
    "-C target-feature=-crt-static -C link-arg=-dynamic -L native=$stub_dir" \
    -p mesh-vpn-wg -p respondd-mesh-vpn-wg; then
    failed+=("$target: OpenWrt-like build")
    continue
  fi
  out=target/cross-openwrt/$target/release
  for file in mesh-vpn-wg librespondd_mesh_vpn_wg.so; do
    "$llvm_bin/llvm-objcopy" --strip-all "$out/$file" "$out/$file.sstrip"
    stripped=$(stat -c %s "$out/$file.sstrip")
    xz=$(xz -9e -T1 -c "$out/$file.sstrip" | wc -c)
    sizes+=("$(printf '%-32s %-28s %10d %10d' "$target" "$file" "$stripped" "$xz")")
    budget=$OTHER_BUDGET
    case $target in mips*) budget=$MIPS_BUDGET ;; esac
    if [ "$file" = mesh-vpn-wg ] && [ "$stripped" -gt "$budget" ]; then
      failed+=("$target: $file is $stripped bytes, budget $budget")
    fi
  done
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
printf '%-32s %-28s %10s %10s\n' target file stripped "xz -9e"
printf '%s\n' "${sizes[@]}"

if [ ${#failed[@]} -gt 0 ]; then
  printf 'cross: FAILED: %s\n' "${failed[@]}" >&2
  [ "${1:-}" = --check ] && exit 1
fi
echo "cross: all router targets build, behave like x86_64 and fit their budgets"
