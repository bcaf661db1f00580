#!/usr/bin/env bash
# Cold import + unpack of a realistic two-layer image -- a debootstrap minbase Debian
# layer plus a JDK layer, built here with umoci -- against `umoci unpack` and two
# `tar -xzf` runs of the same gzip layers, in one run. Medians of RUNS runs each.
#
# Every timed run writes to a fresh ext4 file system (journal on, as on most hosts) on a
# loop device, so no tool pays for another's writeback, and none for inodes deleted
# shortly before: ext4 scans recently freed inodes on every create, which made the same
# tar run take 1.7 s or 5.8 s on the root file system of these machines. The source
# layout's page cache is warm for all tools; the tools run in a rotating order.
#
# BERTH_BENCH_FS=dir runs on the file system of BERTH_BENCH_DIR instead: a fresh directory
# per timed run, nothing deleted until the end (the pathology above needs deletions).
#
# Two times per tool: ready (the files are there; what tar and umoci report) and durable
# (after a syncfs of the target; Berth's store closes only once its syncfs is done).
# Berth runs in a fresh JVM (what `berth import` costs) and, separately, in a JVM that
# has imported the image twice before (Berth embedded in a long-running service).
#
# Needs root, debootstrap, umoci, mkfs.ext4, losetup and a build (mvn install -DskipTests).
# Usage: examples/bench/image-import.sh [REPORT.md]     env: RUNS (5), BERTH_BENCH_DIR, BERTH_BENCH_FS (loop|dir)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
W=${BERTH_BENCH_DIR:-/var/tmp/berth-bench}
RUNS=${RUNS:-5}
FS=${BERTH_BENCH_FS:-loop}
CP="$here/target/classes:$here/target/lib/*"
mkdir -p "$W"

if [ ! -x "$W/debian/bin/sh" ]; then
  echo "[bench] debootstrap --variant=minbase bookworm (once; cached in $W/debian)" >&2
  debootstrap --variant=minbase bookworm "$W/debian" http://deb.debian.org/debian >"$W/debootstrap.log" 2>&1
fi
JDK=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
if [ ! -f "$W/layout/index.json" ]; then
  echo "[bench] building the two-layer image with umoci (Debian minbase + $JDK)" >&2
  rm -rf "$W/layout" "$W/B"
  (cd "$W" && umoci init --layout layout && umoci new --image layout:t \
     && umoci unpack --image layout:t B >/dev/null \
     && cp -a debian/. B/rootfs/ && umoci repack --image layout:t B && rm -rf B \
     && umoci unpack --image layout:t B >/dev/null \
     && mkdir -p "B/rootfs$JDK" && cp -a "$JDK/." "B/rootfs$JDK/" && umoci repack --image layout:t B && rm -rf B)
fi
manifest=$(grep -o '"digest":"sha256:[0-9a-f]*"' "$W/layout/index.json" | head -n1 | grep -o '[0-9a-f]\{64\}')
mapfile -t layers < <(grep -o '"digest":"sha256:[0-9a-f]*"' "$W/layout/blobs/sha256/$manifest" | tail -n +2 | grep -o '[0-9a-f]\{64\}')
[ "${#layers[@]}" = 2 ] || { echo "expected 2 layers, got ${#layers[@]}" >&2; exit 1; }
L1=$W/layout/blobs/sha256/${layers[0]}; L2=$W/layout/blobs/sha256/${layers[1]}
gz=$(( ($(stat -c %s "$L1") + $(stat -c %s "$L2")) / 1048576 ))
cat "$W"/layout/blobs/sha256/* >/dev/null # warm the source's page cache

M=$W/mnt
IMG=$W/scratch.img
LOOP=
n=0
unscratch() {
  if mountpoint -q "$W/mnt"; then umount "$W/mnt"; fi
  if [ -n "$LOOP" ]; then losetup -d "$LOOP" 2>/dev/null || true; LOOP=; fi
  rm -f "$IMG"
}
cleanup() { unscratch; rm -rf "$W/runs"; }
trap cleanup EXIT
scratch() {
  if [ "$FS" = dir ]; then
    n=$((n + 1)); M=$W/runs/$n; mkdir -p "$M"; sync; return
  fi
  unscratch
  truncate -s 8G "$IMG"
  mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$IMG"
  LOOP=$(losetup -f --show --direct-io=on "$IMG")
  mkdir -p "$M"
  mount "$LOOP" "$M"
  sync
}

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A T

run_berth() {
  scratch; local t0 out t1
  t0=$(now); out=$(java -cp "$CP" dev.berth.examples.bench.ImageImportBenchmark "$W/layout" "$M/store"); t1=$(now)
  T[berth_ready]+="${out% *} "; T[berth_durable]+="${out#* } "; T[berth_process]+="$(ms "$t0" "$t1") "
}
run_berth_warm() {
  scratch; local out
  out=$(java -cp "$CP" dev.berth.examples.bench.ImageImportBenchmark "$W/layout" "$M/store" --warmup 2)
  T[warm_ready]+="${out% *} "; T[warm_durable]+="${out#* } "
}
run_umoci() {
  scratch; local t0 t1 t2
  t0=$(now); umoci unpack --image "$W/layout:t" "$M/bundle" >/dev/null; t1=$(now); sync -f "$M"; t2=$(now)
  T[umoci_ready]+="$(ms "$t0" "$t1") "; T[umoci_durable]+="$(ms "$t0" "$t2") "
}
run_tar() {
  scratch; local t0 t1 t2
  mkdir "$M/tar"
  t0=$(now); tar -xzf "$L1" -C "$M/tar"; tar -xzf "$L2" -C "$M/tar"; t1=$(now); sync -f "$M"; t2=$(now)
  T[tar_ready]+="$(ms "$t0" "$t1") "; T[tar_durable]+="$(ms "$t0" "$t2") "
}

tools=(berth berth_warm umoci tar)
for r in $(seq "$RUNS"); do
  for k in 0 1 2 3; do
    run_"${tools[$(( (r + k) % 4 ))]}"
  done
  last() { echo "${T[$1]}" | awk '{print $NF}'; }
  echo "[bench] run $r: berth $(last berth_ready)/$(last berth_durable) ms (process $(last berth_process)), warm JVM $(last warm_ready)/$(last warm_durable), umoci $(last umoci_ready)/$(last umoci_durable), tar $(last tar_ready)/$(last tar_durable) (ready/durable)" >&2
done
scratch; mkdir "$M/tar"; tar -xzf "$L1" -C "$M/tar"; tar -xzf "$L2" -C "$M/tar"
files=$(find "$M/tar" | wc -l); size=$(du -sm "$M/tar" | cut -f1)
cleanup

med() { printf '%s\n' ${T[$1]} | median; }
ratio() { awk "BEGIN{printf \"%.2f\", $1/$2}"; }
br=$(med berth_ready); bd=$(med berth_durable); bp=$(med berth_process)
wr=$(med warm_ready); wd=$(med warm_durable)
ur=$(med umoci_ready); ud=$(med umoci_durable); tr=$(med tar_ready); td=$(med tar_durable)
report=$(cat <<MD
Cold import + unpack of a two-layer image (Debian bookworm minbase + JDK 17; ${gz} MiB gzip, ${size} MiB / ${files} files unpacked), median of ${RUNS} runs, $( [ "$FS" = dir ] && echo "each in a fresh directory of $(stat -f -c %T "$W") $(findmnt -n -o SOURCE --target "$W")" || echo "each on a fresh ext4 (loop device)") ($(date -u +%F), $(nproc) cores)

| tool | ready ms | durable ms |
|---|---:|---:|
| berth import, fresh JVM (what \`berth import\` costs) | $br | $bd |
| berth import, JVM that imported before (embedded use) | $wr | $wd |
| umoci unpack | $ur | $ud |
| tar -xzf layer 1; tar -xzf layer 2 | $tr | $td |

berth, whole process with the JVM's start and exit: $bp ms.

| ratio | ready | durable |
|---|---:|---:|
| berth fresh JVM / umoci | $(ratio "$br" "$ur") | $(ratio "$bd" "$ud") |
| berth fresh JVM / two tar -xzf | $(ratio "$br" "$tr") | $(ratio "$bd" "$td") |
| berth warm JVM / umoci | $(ratio "$wr" "$ur") | $(ratio "$wd" "$ud") |
| berth warm JVM / two tar -xzf | $(ratio "$wr" "$tr") | $(ratio "$wd" "$td") |
MD
)
echo "$report"
if [ $# -gt 0 ]; then echo "$report" > "$1"; fi
