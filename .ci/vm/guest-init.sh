#!/bin/busybox sh
# /init of the initramfs built by run-in-vm.sh (runs as PID 1 in the VM).
# Loads modules, mounts the host's / (9p, read-only) at /host, prepares a
# chroot with fresh /proc /sys /dev, cgroup2, tmpfs on /tmp /run /var/tmp,
# the writable OUTDIR share, runs the job, records its exit code, powers off.
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /host /job /cwd-ro
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
[ -c /dev/console ] && exec </dev/null >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

R=/host
OUT_MOUNTED=
log() { echo "[berth-vm] $*"; }
die() {
  log "FATAL: $*"
  if [ -n "$OUT_MOUNTED" ]; then echo "$*" > "$R$OUTDIR/vm-error" 2>/dev/null; sync; fi
  poweroff -f
  exit 1
}

# Kernel messages (OOM kills, ...) go to dmesg.log, not into the test output.
echo 1 > /proc/sys/kernel/printk

while read -r m; do
  [ -n "$m" ] || continue
  insmod "/modules/$m" 2>/dev/null || log "note: insmod $m failed (ignored)"
done < /modules.list

P9="trans=virtio,version=9p2000.L,msize=262144"
mount -t 9p -o "$P9,ro,cache=loose" host "$R" || die "cannot mount host root over 9p"
# The job (job.env, job.sh, cmdline) sits in a host dir named on the kernel
# command line; copy it before the tmpfs mounts below can hide it.
JOBDIR=
for a in $(cat /proc/cmdline); do
  case $a in berth.job=*) JOBDIR=${a#berth.job=} ;; esac
done
[ -n "$JOBDIR" ] || die "no berth.job= on the kernel command line"
cp "$R$JOBDIR/job.env" "$R$JOBDIR/job.sh" "$R$JOBDIR/cmdline" /job/ || die "cannot read job files from $JOBDIR"
. /job/job.env   # OUTDIR, CWD

ip link set lo up || log "warning: cannot bring up lo"

# The working directory may be hidden by the tmpfs mounts below: keep a handle.
CWD_BOUND=
mount -o bind "$R$CWD" /cwd-ro 2>/dev/null && CWD_BOUND=1 || log "warning: cwd $CWD not visible in the VM"

mount -t proc proc "$R/proc" || die "mount proc"
mount -t sysfs sysfs "$R/sys" || die "mount sysfs"
mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup" || die "mount cgroup2"
for c in $(cat "$R/sys/fs/cgroup/cgroup.controllers"); do
  echo "+$c" > "$R/sys/fs/cgroup/cgroup.subtree_control" || log "warning: cannot enable controller $c"
done
mount -t devtmpfs devtmpfs "$R/dev" || die "mount devtmpfs"
mkdir -p "$R/dev/pts" "$R/dev/shm" "$R/dev/mqueue"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
mount -t mqueue mqueue "$R/dev/mqueue" 2>/dev/null
for d in /tmp /var/tmp; do mount -t tmpfs -o mode=1777 tmpfs "$R$d" || die "mount tmpfs $d"; done
mount -t tmpfs -o mode=0755 tmpfs "$R/run" || die "mount tmpfs /run"

if [ ! -d "$R$CWD" ] && [ -n "$CWD_BOUND" ]; then
  mkdir -p "$R$CWD" && mount -o bind /cwd-ro "$R$CWD"
fi
mkdir -p "$R$OUTDIR" 2>/dev/null
mount -t 9p -o "$P9" out "$R$OUTDIR" || die "cannot mount OUTDIR share at $OUTDIR"
OUT_MOUNTED=1

mkdir -p "$R/run/berth-vm"
cp /job/job.sh "$R/run/berth-vm/job.sh" || die "cannot stage job script"
log "ready after $(cut -d' ' -f1 /proc/uptime)s uptime; kernel $(uname -r); controllers: $(cat "$R/sys/fs/cgroup/cgroup.subtree_control")"
log "running in $CWD: $(cat /job/cmdline)"
echo "=== BERTH-VM COMMAND START ==="

rm -f /rc /tee-done
# Not a plain chroot: the kernel refuses to create user namespaces in a chrooted process (EPERM from
# clone/unshare(CLONE_NEWUSER), which rootless tests need). In a mount namespace of its own the job
# moves the host root (with its submounts) onto / and chroots into it from inside, so its root is its
# namespace's root (switch_root's way, without replacing this PID 1).
( ( unshare -m sh -c "cd '$R' && mount --move . / && exec chroot . /bin/bash /run/berth-vm/job.sh" </dev/null
    echo $? > /rc.tmp; mv /rc.tmp /rc ) 2>&1 \
    | tee "$R$OUTDIR/console.log"; touch /tee-done ) &
while [ ! -f /rc ]; do sleep 0.2; done
rc=$(cat /rc)
# Give tee a moment to drain (processes the command left behind may keep the
# pipe open); then kill everything that is left.
i=0
while [ $i -lt 20 ] && [ ! -f /tee-done ]; do sleep 0.1; i=$((i + 1)); done
[ -f /tee-done ] || log "note: killing processes the command left running"
kill -9 -1 2>/dev/null
echo "=== BERTH-VM COMMAND END (exit $rc) ==="
log "command finished at $(cut -d' ' -f1 /proc/uptime)s uptime, exit code $rc"

dmesg > "$R$OUTDIR/dmesg.log" 2>/dev/null
echo "$rc" > "$R$OUTDIR/exit-code"
sync
umount "$R$OUTDIR" 2>/dev/null
poweroff -f
