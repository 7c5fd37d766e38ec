#!/bin/busybox sh
# shellcheck shell=dash
# /init of the kernel lab's initramfs (scripts/kernel-lab.sh packs it). Mounts
# the host root over 9p with tmpfs overlays (the guest can write, the host
# never changes), runs the one command as root, stores its exit code in the
# result directory and powers off. Busybox only: nothing else exists yet.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin

fail() { echo "lab-init: $*" >/dev/console; poweroff -f; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r module; do
  insmod "/lib/modules/$module" 2>/dev/console || echo "lab-init: insmod $module failed" >/dev/console
done </lib/modules/order

{ read -r RESULT; read -r KDIR; read -r KVER; } </paths
H=/host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot $H ||
  fail "cannot mount the host root"

mount -t proc proc $H/proc
mount -t sysfs sysfs $H/sys
mount -t devtmpfs devtmpfs $H/dev
mkdir -p $H/dev/pts $H/dev/shm
mount -t devpts devpts $H/dev/pts
mount -t tmpfs tmpfs $H/dev/shm
ln -sf /proc/self/fd $H/dev/fd
ln -sf fd/0 $H/dev/stdin; ln -sf fd/1 $H/dev/stdout; ln -sf fd/2 $H/dev/stderr
mount -t debugfs debugfs $H/sys/kernel/debug 2>/dev/null
mount -t tmpfs tmpfs $H/run

# Copy-on-write overlays over every writable top-level directory.
mkdir -p /cow && mount -t tmpfs -o size=70% tmpfs /cow
overlay() {
  mkdir -p "/cow/$1/upper" "/cow/$1/work"
  mount -t overlay overlay -o "lowerdir=$H/$1,upperdir=/cow/$1/upper,workdir=/cow/$1/work" "$H/$1" ||
    echo "lab-init: overlay on /$1 failed" >/dev/console
}
for dir in "$H"/*; do
  name=${dir#"$H"/}
  if [ ! -d "$dir" ] || [ -L "$dir" ]; then continue; fi
  case $name in dev|proc|sys|run|usr|boot|lost+found) continue ;; esac
  overlay "$name"
done

# The unpacked kernel's modules appear where modprobe looks for them.
if [ ! -d "$H/usr/lib/modules/$KVER" ]; then
  overlay usr/lib
  mkdir -p "$H/usr/lib/modules/$KVER"
  mount --bind "$H$KDIR/lib/modules/$KVER" "$H/usr/lib/modules/$KVER"
fi
echo /sbin/modprobe >/proc/sys/kernel/modprobe

mkdir -p "$H$RESULT"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out "$H$RESULT" ||
  fail "cannot mount the result directory"

hostname lab
# No udev: name the virtio ports ourselves.
for port in /sys/class/virtio-ports/*; do
  [ -f "$port/name" ] && ln -sf "/dev/${port##*/}" "/dev/$(cat "$port/name")"
done
# A virtio port opens once; the command may reopen its stdout, so relay FIFOs.
mkfifo /lab.out /lab.err
out=/dev/lab.stdout; [ -e $out ] || out=/dev/console
err=/dev/lab.stderr; [ -e $err ] || err=/dev/console
cat /lab.out >$out & relay_out=$!
cat /lab.err >$err & relay_err=$!

started=$(cut -d' ' -f1 /proc/uptime)
chroot $H /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root TERM=dumb LANG=C.UTF-8 RUST_BACKTRACE=1 MESH_VPN_WG_KERNEL_LAB=1 \
  /bin/bash -c "cd '$(cat /cwd)' || cd /; $(cat /command)" </dev/null >/lab.out 2>/lab.err
code=$?
ended=$(cut -d' ' -f1 /proc/uptime)
echo "guest booted in $started s, command ran $(awk "BEGIN{print $ended - $started}") s" >"$H$RESULT/.lab-timing"
echo $code >"$H$RESULT/.lab-exit"

# Background processes the command left may hold the FIFOs open: bounded drain.
for _ in $(seq 50); do
  kill -0 $relay_out 2>/dev/null || kill -0 $relay_err 2>/dev/null || break
  sleep 0.1
done
sync
poweroff -f
