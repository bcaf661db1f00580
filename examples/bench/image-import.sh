#!/usr/bin/env bash
# Cold import + unpack of a realistic two-layer image -- a debootstrap minbase Debian
# layer plus a JDK layer, built here with umoci -- against `umoci unpack` and two
# `tar -xzf` runs of the same gzip layers, in one run. Medians of RUNS runs each; the
# store, bundle and target directory are fresh every run, the page cache is warm for all,
# and a sync before each timed run keeps one tool's writeback out of the next one's time.
# Needs root, debootstrap, umoci and a build (mvn install -DskipTests).
# Usage: examples/bench/image-import.sh [REPORT.md]     env: RUNS (3), BERTH_BENCH_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
W=${BERTH_BENCH_DIR:-/var/tmp/berth-bench}
RUNS=${RUNS:-3}
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

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
berth_in=(); berth_cli=(); umoci_t=(); tar_t=()
for r in $(seq "$RUNS"); do
  # each tool starts with no writeback of another tool's files in flight
  rm -rf "$W/store"; sync; t0=$(now)
  ms=$(java -cp "$CP" dev.berth.examples.bench.ImageImportBenchmark "$W/layout" "$W/store")
  berth_cli+=($(( ($(now) - t0) / 1000000 ))); berth_in+=("$ms")
  rm -rf "$W/bundle"; sync; t0=$(now); umoci unpack --image "$W/layout:t" "$W/bundle" >/dev/null; umoci_t+=($(( ($(now) - t0) / 1000000 )))
  rm -rf "$W/tar"; mkdir -p "$W/tar"; sync; t0=$(now); tar -xzf "$L1" -C "$W/tar"; tar -xzf "$L2" -C "$W/tar"; tar_t+=($(( ($(now) - t0) / 1000000 )))
  echo "[bench] run $r: berth ${berth_in[-1]} ms in-JVM (${berth_cli[-1]} ms with JVM start), umoci ${umoci_t[-1]} ms, tar ${tar_t[-1]} ms" >&2
done
files=$(find "$W/tar" | wc -l); size=$(du -sm "$W/tar" | cut -f1)
rm -rf "$W/store" "$W/bundle" "$W/tar"
bi=$(printf '%s\n' "${berth_in[@]}" | median); bc=$(printf '%s\n' "${berth_cli[@]}" | median)
um=$(printf '%s\n' "${umoci_t[@]}" | median); ta=$(printf '%s\n' "${tar_t[@]}" | median)
report=$(cat <<MD
Cold import + unpack of a two-layer image (Debian bookworm minbase + JDK 17; ${gz} MiB gzip, ${size} MiB / ${files} files unpacked), median of ${RUNS} runs ($(date -u +%F), $(nproc) cores)

| tool | median ms |
|---|---:|
| berth import + unpack (in the JVM) | $bi |
| berth, whole process (JVM start included) | $bc |
| umoci unpack | $um |
| tar -xzf layer 1; tar -xzf layer 2 | $ta |

- berth / umoci = $(awk "BEGIN{printf \"%.2f\", $bi/$um}") (whole process: $(awk "BEGIN{printf \"%.2f\", $bc/$um}"))
- berth / two tar -xzf = $(awk "BEGIN{printf \"%.2f\", $bi/$ta}") (whole process: $(awk "BEGIN{printf \"%.2f\", $bc/$ta}"))
MD
)
echo "$report"
if [ $# -gt 0 ]; then echo "$report" > "$1"; fi
