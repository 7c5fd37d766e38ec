#!/usr/bin/env bash
# Kernel lab: boots Debian's own kernel under QEMU (software emulation: the
# hosts' /dev/kvm cannot run a stock kernel) with the host's root visible
# read-only and copy-on-write, runs ONE command as root inside, and returns
# its stdout, stderr and exit code. Recipe: shared/reference/kernel-lab.md.
#
#   kernel-lab.sh [-o OUTDIR] [--] command [args...]   run a command in the guest
#   kernel-lab.sh --test                               build and run tests/kernel_lab.rs,
#                                                      tests/kernel_lab_uplink.rs and
#                                                      tests/counters_alloc.rs in one boot
#   kernel-lab.sh --bench-liveness                     build and run the liveness benchmark
#                                                      (tests/kernel_lab_liveness.rs; not in --test)
#
# -o OUTDIR is writable inside the guest at the same path; everything else the
# guest writes is discarded. Exit code 125: the guest gave none (panic, hang).
# Settings: KERNEL_LAB_ACCEL=tcg|kvm, KERNEL_LAB_MEM (MiB, 1024),
# KERNEL_LAB_CPUS (2), KERNEL_LAB_TIMEOUT (s, 600), KERNEL_LAB_CONSOLE=1 (print
# the guest kernel log), KERNEL_LAB_CACHE (unpacked kernels), KERNEL_LAB_NO_PVH=1.
# The benchmark reads MESH_VPN_WG_LIVENESS_SECS (600), _NETEM (netem arguments)
# and _BOTH_WAYS=1, passed into the guest; its timeout defaults to SECS + 900.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
ACCEL=${KERNEL_LAB_ACCEL:-tcg}
MEM=${KERNEL_LAB_MEM:-1024}
CPUS=${KERNEL_LAB_CPUS:-2}
TIMEOUT=${KERNEL_LAB_TIMEOUT:-600}
CACHE=${KERNEL_LAB_CACHE:-/var/cache/mesh-vpn-wg/kernel-lab}
mkdir -p "$CACHE" 2>/dev/null || CACHE=${CARGO_TARGET_DIR:-$REPO/target}/kernel-lab
START=$(date +%s.%N)

say() { echo "kernel-lab: $*" >&2; }
skip() { echo "SKIP: kernel lab: $*"; exit 0; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(date +%s.%N)"; }

# The kernel ABI name (6.1.0-NN-amd64) changes with point releases: never hard-coded.
newest_kver() { find "$KDIR/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n1; }

kernel_package() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}'; }

# Debian's kernel package, unpacked (never installed: no initramfs-tools, no /boot writes).
# Runs in a `|| skip` context, where set -e is off: every step checks itself.
fetch_kernel() {
  local pkg work
  pkg=$(kernel_package)
  [ -n "$pkg" ] || { apt-get update -qq && pkg=$(kernel_package); } || return 1
  [ -n "$pkg" ] || return 1
  KDIR=$CACHE/$pkg
  if [ ! -f "$KDIR/.complete" ]; then
    say "fetching $pkg into $KDIR"
    work=$(mktemp -d) || return 1
    if ! unpack_kernel "$pkg" "$work"; then rm -rf "$work" "$KDIR"; return 1; fi
    rm -rf "$work"
  fi
  KVER=$(newest_kver)
  VMLINUZ=$KDIR/boot/vmlinuz-$KVER
  [ -n "$KVER" ] && [ -f "$VMLINUZ" ]
}

unpack_kernel() {
  local pkg=$1 work=$2
  (cd "$work" && { apt-get download -q "$pkg" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get download -q "$pkg" >/dev/null; }; }) || return 1
  rm -rf "$KDIR" && mkdir -p "$KDIR" || return 1
  dpkg-deb -x "$work/$pkg"_*.deb "$KDIR" || return 1
  KVER=$(newest_kver)
  [ -n "$KVER" ] && depmod -b "$KDIR" "$KVER" && touch "$KDIR/.complete"
}

# The uncompressed ELF vmlinux boots through PVH and skips ~3 s of in-guest xz.
extract_vmlinux() {
  local out=$KDIR/vmlinux
  [ -f "$out" ] && { echo "$out"; return; }
  python3 - "$VMLINUZ" "$out.tmp" <<'PY' && mv "$out.tmp" "$out" && echo "$out"
import lzma, sys
data = open(sys.argv[1], "rb").read()
start = data.find(b"\xfd7zXZ\x00")
if start < 0:
    sys.exit(1)
elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[start:])
if elf[:4] != b"\x7fELF":
    sys.exit(1)
open(sys.argv[2], "wb").write(elf)
PY
}

# Copies busybox, the pre-root modules (in load order) and /init into $1.
build_initramfs() {
  local root=$1 mod line ko name
  mkdir -p "$root"/{bin,sbin,lib/modules,dev,proc,sys,host}
  cp /bin/busybox "$root/bin/busybox"
  : >"$root/lib/modules/order"
  for mod in virtio_pci virtio_console virtio_rng 9pnet_virtio 9p overlay; do
    while read -r line; do
      [[ $line == insmod* ]] || continue
      ko=${line#insmod }; ko=${ko%% *}
      name=$(basename "$ko"); name=${name%%.ko*}.ko
      grep -qxF "$name" "$root/lib/modules/order" && continue
      case $ko in
        *.xz) xz -dc "$ko" >"$root/lib/modules/$name" ;;
        *.zst) zstd -qdc "$ko" >"$root/lib/modules/$name" ;;
        *) cp "$ko" "$root/lib/modules/$name" ;;
      esac
      echo "$name" >>"$root/lib/modules/order"
    done < <(modprobe -d "$KDIR" -S "$KVER" --show-depends "$mod" 2>/dev/null)
  done
  cp "$REPO/tests/kernel_lab/guest-init.sh" "$root/init"
  chmod +x "$root/init"
  # The kernel's module autoloader runs in the initramfs root, not in the chroot.
  printf '#!/bin/busybox sh\nexec /bin/busybox chroot /host /sbin/modprobe "$@"\n' >"$root/sbin/modprobe"
  chmod +x "$root/sbin/modprobe"
}

run_guest() {
  local work; work=$(mktemp -d)
  local result=${OUTDIR:-$work/out}
  mkdir -p "$result" "$work/root"
  build_initramfs "$work/root"
  printf '%q ' "$@" >"$work/root/command"
  pwd >"$work/root/cwd"
  printf '%s\n%s\n%s\n' "$result" "$KDIR" "$KVER" >"$work/root/paths"
  (cd "$work/root" && find . | cpio -o -H newc --quiet) >"$work/initrd"
  local kernel=$VMLINUZ
  if [ -z "${KERNEL_LAB_NO_PVH:-}" ]; then kernel=$(extract_vmlinux || echo "$VMLINUZ"); fi
  local cpu=() accel=(-accel tcg)
  [ "$ACCEL" = kvm ] && { accel=(-accel kvm); cpu=(-cpu "host,-arch-capabilities"); }
  local rc=0
  # QEMU re-opens /proc/self/fd/1 and 2: give it pipes so the streams cannot clobber each other.
  timeout -k 10 "$TIMEOUT" qemu-system-x86_64 "${accel[@]}" "${cpu[@]}" -m "$MEM" -smp "$CPUS" \
    -nodefaults -no-user-config -display none -no-reboot -monitor none \
    -serial "file:$work/console.log" \
    -device virtio-serial-pci \
    -chardev file,id=out,path=/proc/self/fd/1 -device virtserialport,chardev=out,name=lab.stdout \
    -chardev file,id=err,path=/proc/self/fd/2 -device virtserialport,chardev=err,name=lab.stderr \
    -device virtio-rng-pci \
    -fsdev local,id=hostroot,path=/,readonly=on,security_model=none,multidevs=remap \
    -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
    -fsdev "local,id=out,path=$result,security_model=none,multidevs=remap" \
    -device virtio-9p-pci,fsdev=out,mount_tag=out \
    -kernel "$kernel" -initrd "$work/initrd" \
    -append "console=ttyS0 loglevel=4 panic=-1 rdinit=/init" \
    </dev/null 2> >(cat >&2) | cat || rc=$?
  [ -n "${KERNEL_LAB_CONSOLE:-}" ] && cat "$work/console.log" >&2
  local code=125
  if [ -f "$result/.lab-exit" ]; then
    code=$(cat "$result/.lab-exit")
    [ -f "$result/.lab-timing" ] && say "$(cat "$result/.lab-timing")"
  else
    say "guest gave no exit code (qemu rc=$rc)"
    tail -n 40 "$work/console.log" >&2 || true
  fi
  rm -f "$result/.lab-exit" "$result/.lab-timing"
  rm -rf "$work"
  return "$code"
}

LAB_TESTS=(kernel_lab kernel_lab_uplink counters_alloc)
# Minutes long: run on request only, never with --test (CI time).
BENCH_TESTS=(kernel_lab_liveness)

# Builds the guest-side test binaries named as arguments on the host (one path
# a line, in that order); the guest needs no cargo.
build_test_binaries() {
  cd "$REPO"
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
  cargo test --locked --no-run "${@/#/--test=}" --message-format=json 2>/dev/null |
    python3 -c '
import json, sys
wanted, found = sys.argv[1:], {}
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] in wanted and msg.get("executable"):
        found[msg["target"]["name"]] = msg["executable"]
for name in wanted:
    print(found.get(name, ""))' "$@"
}

# Runs every test binary given, even after a failure; fails if any failed.
# shellcheck disable=SC2016
RUN_ALL='rc=0; for t in "$@"; do echo "kernel-lab: running ${t##*/}" >&2; "$t" --test-threads=1 --nocapture || rc=1; done; exit $rc'

# The benchmark's settings, as `env NAME=VALUE` words: the guest starts the
# command with a clean environment.
bench_env() {
  local name
  printf '%s\n' env
  while read -r name; do
    printf '%s=%s\n' "$name" "${!name}"
  done < <(compgen -e | grep '^MESH_VPN_WG_LIVENESS_' || true)
}

main() {
  OUTDIR=
  local test_mode='' tests=()
  while [ $# -gt 0 ]; do
    case $1 in
      -o) OUTDIR=$(realpath -m "$2"); shift 2 ;;
      --test) test_mode=1; tests=("${LAB_TESTS[@]}"); shift ;;
      --bench-liveness)
        test_mode=1; tests=("${BENCH_TESTS[@]}"); shift
        TIMEOUT=${KERNEL_LAB_TIMEOUT:-$((${MESH_VPN_WG_LIVENESS_SECS:-600} + 900))} ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  [ -n "$test_mode" ] || [ $# -gt 0 ] || { sed -n '2,19p' "$0" >&2; exit 2; }
  [ "$(uname -m)" = x86_64 ] || skip "needs an x86_64 host"
  "$REPO/scripts/install-deps.sh" lab >&2 || skip "cannot install QEMU and tools (scripts/install-deps.sh lab)"
  command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing"
  fetch_kernel || skip "cannot fetch the Debian kernel package (apt-get download linux-image-*)"
  say "kernel $KVER, accel $ACCEL, setup $(elapsed "$START") s"
  if [ -n "$test_mode" ]; then
    local binaries binary prefix=()
    mapfile -t binaries < <(build_test_binaries "${tests[@]}")
    for binary in "${binaries[@]}"; do
      [ -x "$binary" ] || { say "cannot build the tests ${tests[*]}"; exit 1; }
    done
    [ "${#binaries[@]}" -eq "${#tests[@]}" ] || { say "cannot build the tests ${tests[*]}"; exit 1; }
    say "test binaries built at $(elapsed "$START") s"
    [ "${tests[*]}" = "${BENCH_TESTS[*]}" ] && mapfile -t prefix < <(bench_env)
    set -- "${prefix[@]}" bash -c "$RUN_ALL" lab "${binaries[@]}"
  fi
  local rc=0
  run_guest "$@" || rc=$?
  say "exit $rc, total $(elapsed "$START") s"
  return "$rc"
}

main "$@"
