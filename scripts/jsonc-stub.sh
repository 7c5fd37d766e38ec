#!/usr/bin/env bash
# Link-time stand-in for OpenWrt's libjson-c.so.5, for cross-building the
# respondd module where no json-c for the router's CPU can be had (Debian has
# none for big-endian MIPS). It defines exactly the functions the module
# declares in respondd/src/jsonc.rs, as empty bodies, under the real soname,
# so the module links as it would against the SDK's library; it is never
# loaded or shipped. Usage: jsonc-stub.sh <rust target>; prints the folder.
set -euo pipefail
cd "$(dirname "$0")/.."
target=$1
dir=target/jsonc-stub/$target
mkdir -p "$dir"
names=$(sed -n 's/^ *fn \(json_[a-z_]*\)(.*/\1/p' respondd/src/jsonc.rs)
[ -n "$names" ] || { echo "jsonc-stub: no json-c functions found in respondd/src/jsonc.rs" >&2; exit 1; }
for name in $names; do printf 'void %s(void) {}\n' "$name"; done >"$dir/stub.c"
case $target in
  aarch64-*) zig_target=aarch64-linux-musl ;;
  armv7-*hf) zig_target=arm-linux-musleabihf ;;
  mipsel-*) zig_target=mipsel-linux-musleabi ;;
  mips-*) zig_target=mips-linux-musleabi ;;
  *) echo "jsonc-stub: no zig target for $target" >&2; exit 1 ;;
esac
python3 -m ziglang cc -target "$zig_target" -shared -fPIC -Wl,-soname,libjson-c.so.5 \
  -o "$dir/libjson-c.so" "$dir/stub.c"
echo "$dir"
