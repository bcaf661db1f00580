#!/usr/bin/env bash
# Usage: run-in-vm.sh OUTDIR -- COMMAND [ARG...]
#
# Boots the installed Debian kernel in qemu (TCG) with a cached busybox
# initramfs, chroots into the host's / (9p, read-only) with cgroup v2 mounted
# at /sys/fs/cgroup (all controllers enabled in the root), and runs COMMAND as
# root with cwd = the caller's cwd. OUTDIR (created if needed) is shared
# writable at the same path. Results: OUTDIR/exit-code, OUTDIR/console.log
# (command stdout+stderr, also echoed here), OUTDIR/vm-serial.log (whole VM
# console), OUTDIR/dmesg.log. Exit status = the command's exit status;
# 124 = VM timeout, 125 = VM failed (boot, mounts, ...).
#
# Environment (all optional):
#   BERTH_VM_TIMEOUT=1200        seconds for the whole VM run
#   BERTH_VM_MEM=2048 BERTH_VM_CPUS=2
#   BERTH_VM_WORKDIR=/var/tmp/berth-vm   initramfs cache + job files
#   BERTH_VM_KERNEL_VERSION=...  default: newest /boot/vmlinuz-* with /lib/modules
#   BERTH_VM_JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
#   BERTH_VM_PASS_ENV="CI ..."   names of host variables to pass to COMMAND
#   BERTH_VM_EXTRA_MODULES="..." additional kernel modules for the initramfs
#   BERTH_VM_APPEND="..."        extra kernel command line
#   BERTH_VM_PVH=0               boot the compressed bzImage instead of the extracted vmlinux
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
usage() { echo "usage: $0 OUTDIR -- COMMAND [ARG...]" >&2; exit 2; }
(($# >= 3)) && [[ $2 == -- ]] || usage
mkdir -p "$1"
OUTDIR=$(cd "$1" && pwd -P)
shift 2
CWD=$(pwd -P)

WORK=${BERTH_VM_WORKDIR:-/var/tmp/berth-vm}
TIMEOUT=${BERTH_VM_TIMEOUT:-1200}
MEM=${BERTH_VM_MEM:-2048}
CPUS=${BERTH_VM_CPUS:-2}
VM_JAVA_HOME=${BERTH_VM_JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
PASS_ENV=${BERTH_VM_PASS_ENV:-CI}
REQUIRED_MODULES=(virtio_pci 9pnet_virtio 9p)
read -r -a EXTRA_MODULES <<<"${BERTH_VM_EXTRA_MODULES:-}"  # e.g. BERTH_VM_EXTRA_MODULES=ext4
OPTIONAL_MODULES=(overlay loop "${EXTRA_MODULES[@]}")

log() { echo "[run-in-vm] $*" >&2; }
die() { log "ERROR: $*"; exit 125; }

for t in qemu-system-x86_64 cpio modprobe timeout; do
  command -v "$t" >/dev/null || die "$t not found; run .ci/vm/install-deps.sh"
done
BUSYBOX=/bin/busybox
[[ -x $BUSYBOX ]] && ! ldd "$BUSYBOX" >/dev/null 2>&1 \
  || die "static $BUSYBOX not found; run .ci/vm/install-deps.sh (busybox-static)"
[[ -x $VM_JAVA_HOME/bin/java ]] || log "warning: $VM_JAVA_HOME/bin/java not found on the host"

# --- kernel -----------------------------------------------------------------
KVER=${BERTH_VM_KERNEL_VERSION:-}
if [[ -z $KVER ]]; then
  KVER=$(for k in /boot/vmlinuz-*; do
           v=${k#/boot/vmlinuz-}; [[ -f /lib/modules/$v/modules.dep ]] && echo "$v"
         done | sort -V | tail -n 1) || true
fi
KERNEL=/boot/vmlinuz-$KVER
[[ -n $KVER && -r $KERNEL && -d /lib/modules/$KVER ]] \
  || die "no readable /boot/vmlinuz-* with matching /lib/modules found; run .ci/vm/install-deps.sh"

# Under TCG the bzImage's self-decompression (plus real-mode setup) costs
# several seconds per boot. If the kernel supports PVH, boot the extracted,
# uncompressed vmlinux (ELF with a PVH note) instead; cached next to the initramfs.
extract_vmlinux() {  # $1 = bzImage, $2 = output; true if $2 is an ELF image
  local spec magic cmd off
  for spec in '\xfd7zXZ\x00:xz -dcq --single-stream' '\x28\xb5\x2f\xfd:zstd -qdc' \
              '\x1f\x8b\x08:gzip -dcq'; do
    magic=${spec%%:*}; cmd=${spec#*:}
    command -v "${cmd%% *}" >/dev/null || continue
    for off in $(LC_ALL=C grep -obUaP "$magic" "$1" 2>/dev/null | head -n 5 | cut -d: -f1); do
      # shellcheck disable=SC2086  # $cmd is a command line
      tail -c +$((off + 1)) "$1" | $cmd > "$2" 2>/dev/null
      [[ $(head -c 4 "$2" 2>/dev/null) == $'\x7fELF' ]] && return 0
    done
  done
  rm -f "$2"; return 1
}
BOOT_KERNEL=$KERNEL
if [[ ${BERTH_VM_PVH:-1} != 0 ]] && grep -qx 'CONFIG_PVH=y' "/boot/config-$KVER" 2>/dev/null; then
  VMLINUX=$WORK/vmlinux-$KVER-$(stat -c '%s-%Y' "$KERNEL")
  mkdir -p "$WORK"
  if [[ ! -s $VMLINUX ]]; then
    log "extracting uncompressed kernel for PVH boot ($VMLINUX)"
    if extract_vmlinux "$KERNEL" "$VMLINUX.tmp"; then
      mv "$VMLINUX.tmp" "$VMLINUX"
      find "$WORK" -maxdepth 1 -name 'vmlinux-*' ! -name "${VMLINUX##*/}" -mmin +1440 -delete
    else
      log "note: cannot extract vmlinux from $KERNEL; booting the bzImage"
    fi
  fi
  [[ -s $VMLINUX ]] && BOOT_KERNEL=$VMLINUX
fi

# --- initramfs (cached; key = kernel, module files, busybox, init script) ----
mkdir -p "$WORK"
modlist() {  # prints module files in load order (deduplicated), one per line
  local m out
  for m in "$@"; do
    if ! out=$(modprobe -S "$KVER" --show-depends "$m" 2>/dev/null); then
      echo "MISSING $m"; continue
    fi
    awk '$1 == "insmod" { print $2 }' <<<"$out"
  done | awk '!seen[$0]++'
}
REQ_FILES=$(modlist "${REQUIRED_MODULES[@]}")
if grep -q '^MISSING' <<<"$REQ_FILES"; then
  die "kernel $KVER lacks required modules: $(grep '^MISSING' <<<"$REQ_FILES" | cut -d' ' -f2 | xargs)"
fi
OPT_FILES=$(modlist "${OPTIONAL_MODULES[@]}")
{ grep "^MISSING" <<<"$OPT_FILES" || true; } | while read -r _ m; do log "note: module $m not available for $KVER (skipped)"; done
MOD_FILES=$(printf '%s\n%s\n' "$REQ_FILES" "$OPT_FILES" | grep -v '^MISSING' | awk 'NF && !seen[$0]++')

KEY=$( { echo "v1 $KVER"; sha256sum "$BUSYBOX" "$SCRIPT_DIR/guest-init.sh";
         xargs -r stat -c '%n %s %Y' <<<"$MOD_FILES"; } | sha256sum | cut -c1-16)
INITRD=$WORK/initramfs-$KEY.cpio
if [[ ! -s $INITRD ]]; then
  log "building initramfs for kernel $KVER ($INITRD)"
  STAGE=$(mktemp -d "$WORK/stage.XXXXXX")
  trap 'rm -rf "$STAGE"' EXIT
  mkdir -p "$STAGE"/{bin,dev,proc,sys,modules}
  cp "$BUSYBOX" "$STAGE/bin/busybox"
  cp "$SCRIPT_DIR/guest-init.sh" "$STAGE/init"
  chmod 755 "$STAGE/init"
  mknod -m 600 "$STAGE/dev/console" c 5 1 2>/dev/null || true
  : > "$STAGE/modules.list"
  while read -r f; do
    [[ -n $f ]] || continue
    b=$(basename "$f"); b=${b%.xz}; b=${b%.zst}; b=${b%.gz}
    case $f in
      *.ko.xz)  xz -dc "$f" > "$STAGE/modules/$b" ;;
      *.ko.zst) zstd -qdc "$f" > "$STAGE/modules/$b" ;;
      *.ko.gz)  gzip -dc "$f" > "$STAGE/modules/$b" ;;
      *)        cp "$f" "$STAGE/modules/$b" ;;
    esac
    echo "$b" >> "$STAGE/modules.list"
  done <<<"$MOD_FILES"
  (cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"
  rm -rf "$STAGE"; trap - EXIT
  find "$WORK" -maxdepth 1 -name 'initramfs-*.cpio' ! -name "initramfs-$KEY.cpio" -mmin +1440 -delete
fi

# --- job ----------------------------------------------------------------------
q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
[[ $WORK != *[[:space:]]* ]] || die "BERTH_VM_WORKDIR must not contain whitespace: $WORK"
mkdir -p "$WORK/jobs"
JOB=$(mktemp -d "$WORK/jobs/job.XXXXXX")
cleanup() {  # stop the qemu this script started (if still running), drop the job dir
  local pid
  pid=$(cat "$JOB/qemu.pid" 2>/dev/null || true)
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$JOB"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM HUP
{
  echo "OUTDIR=$(q "$OUTDIR")"
  echo "CWD=$(q "$CWD")"
} > "$JOB/job.env"
{
  echo '#!/bin/bash'
  echo "export JAVA_HOME=$(q "$VM_JAVA_HOME")"
  echo "export PATH=$(q "$VM_JAVA_HOME/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")"
  echo "export HOME=/root LANG=C.UTF-8 TERM=dumb TMPDIR=/tmp XDG_CACHE_HOME=/tmp/.cache BERTH_CI_VM=1"
  for v in $PASS_ENV; do
    [[ -v $v ]] && echo "export $v=$(q "${!v}")"
  done
  echo "cd -- $(q "$CWD") || { echo 'run-in-vm: cwd $CWD not available in the VM' >&2; exit 125; }"
  printf 'exec'; for a in "$@"; do printf ' %s' "$(q "$a")"; done; echo
} > "$JOB/job.sh"
printf '%s ' "$@" > "$JOB/cmdline"

rm -f "$OUTDIR/exit-code" "$OUTDIR/console.log" "$OUTDIR/vm-error" "$OUTDIR/dmesg.log"
SM=passthrough; [[ $(id -u) -eq 0 ]] || SM=none

# --- boot ---------------------------------------------------------------------
# Fast-boot options (each measured to save time under TCG): skip the delay-loop
# calibration (lpj from the host's bogomips; the guest TSC runs at host rate),
# the timer check, i8042 probing, crypto self-tests; expedited RCU also speeds
# up cgroup removal.
APPEND="console=ttyS0 quiet loglevel=4 panic=-1 mitigations=off no_timer_check"
APPEND+=" i8042.noaux i8042.nopnp i8042.dumbkbd cryptomgr.notests rcupdate.rcu_expedited=1 audit=0"
HZ=$(sed -n 's/^CONFIG_HZ=//p' "/boot/config-$KVER" 2>/dev/null)
BOGO=$(awk -F: '/^bogomips/ { gsub(/ /, "", $2); print $2; exit }' /proc/cpuinfo 2>/dev/null)
if [[ $HZ =~ ^[0-9]+$ && $BOGO =~ ^[0-9.]+$ ]]; then
  APPEND+=" lpj=$(awk -v b="$BOGO" -v hz="$HZ" 'BEGIN { printf "%d", b * 500000 / hz }')"
fi
APPEND+=" berth.job=$JOB ${BERTH_VM_APPEND:-}"
log "booting kernel $KVER (timeout ${TIMEOUT}s, ${CPUS} cpus, ${MEM} MiB)"
START=$(date +%s%N)
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
  -accel tcg,thread=multi -smp "$CPUS" -m "$MEM" -nographic -no-reboot \
  -no-user-config -nic none -pidfile "$JOB/qemu.pid" \
  -kernel "$BOOT_KERNEL" -initrd "$INITRD" \
  -append "$APPEND" \
  -virtfs "local,path=/,mount_tag=host,security_model=passthrough,readonly=on,multidevs=remap" \
  -virtfs "local,path=$OUTDIR,mount_tag=out,security_model=$SM,multidevs=remap" \
  </dev/null > >(sed -u -e 's/\r$//' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' \
                    | tee "$OUTDIR/vm-serial.log") 2>&1 &
set +e
wait $!; QRC=$?
set -e
sleep 0.2   # let tee flush
ELAPSED=$(awk -v a="$START" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')

if [[ -s $OUTDIR/exit-code ]]; then
  RC=$(cat "$OUTDIR/exit-code")
  log "VM finished in ${ELAPSED}s; command exit code $RC"
  exit "$RC"
fi
if ((QRC == 124 || QRC == 137)); then
  log "ERROR: VM timed out after ${TIMEOUT}s (set BERTH_VM_TIMEOUT); see $OUTDIR/vm-serial.log"
  exit 124
fi
if [[ -s $OUTDIR/vm-error ]]; then
  die "VM setup failed: $(cat "$OUTDIR/vm-error")"
fi
if grep -q 'BERTH-VM COMMAND START' "$OUTDIR/vm-serial.log" 2>/dev/null; then
  die "VM stopped before the command finished (qemu exit $QRC); see $OUTDIR/vm-serial.log"
fi
die "VM failed to boot (qemu exit $QRC); last console lines:
$(tail -n 20 "$OUTDIR/vm-serial.log" 2>/dev/null)"
