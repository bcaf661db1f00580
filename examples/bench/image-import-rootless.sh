#!/usr/bin/env bash
# Cold import + unpack of one image by an ordinary user (a rootless store) against the same
# import by root (a rootful store) and `umoci unpack --rootless` by the same user, in one run,
# in a rotating order. Medians of RUNS runs.
#
# The image is one layer built here with umoci from /usr/share/{doc,man,locale} (about 34,000
# entries), with doc/ chowned to 33:33 and man/ to 1000:1000, so a rootless store lists most
# entries in the layer's owners file (LayerOwners), the rootless unpack's extra work.
#
# Needs root (it runs the user's side with runuser), umoci, an unprivileged user (RL_USER,
# default berth-rootless, as .ci/rootless-suite.sh creates it) and a build of runtime-image and
# examples (mvn -o -pl examples -am package -DskipTests; the classpath is copied to where the user
# can read it). Usage: examples/bench/image-import-rootless.sh     env: RUNS (5), RL_USER, BERTH_BENCH_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
W=${BERTH_BENCH_DIR:-/var/tmp/berth-rootless-import}
RUNS=${RUNS:-5}
RL_USER=${RL_USER:-berth-rootless}
rm -rf "$W"
mkdir -p "$W/cp/lib" "$W/runs"
trap 'rm -rf "$W"' EXIT

(cd "$here" && mvn -B -ntp -o -q -pl runtime-image dependency:build-classpath -Dmdep.includeScope=runtime \
  -Dmdep.outputFile="$W/cp.txt" >/dev/null)
for j in $(tr ':' ' ' < "$W/cp.txt"); do cp "$j" "$W/cp/lib/"; done
cp -r "$here/runtime-image/target/classes" "$W/cp/classes"
mkdir -p "$W/cp/classes/dev/berth/examples/bench"
cp "$here/examples/target/classes/dev/berth/examples/bench/ImageImportBenchmark.class" "$W/cp/classes/dev/berth/examples/bench/"
CP="$W/cp/classes:$W/cp/lib/*"

echo "[bench] building the image with umoci" >&2
(cd "$W" && umoci init --layout layout >/dev/null && umoci new --image layout:t \
  && umoci unpack --image layout:t B >/dev/null && mkdir -p B/rootfs/usr/share \
  && cp -a /usr/share/doc /usr/share/man /usr/share/locale B/rootfs/usr/share/ \
  && chown -R 33:33 B/rootfs/usr/share/doc && chown -R 1000:1000 B/rootfs/usr/share/man \
  && umoci repack --image layout:t B && rm -rf B)
chmod -R a+rX "$W"
chmod 1777 "$W/runs"
cat "$W"/layout/blobs/sha256/* >/dev/null # warm the source's page cache

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A T
for i in $(seq 1 "$RUNS"); do
  for k in 0 1 2; do
    case $(( (i + k) % 3 )) in
      0) T[rootless]+="$(runuser -u "$RL_USER" -- java -cp "$CP" dev.berth.examples.bench.ImageImportBenchmark \
           "$W/layout" "$W/runs/u$i" 2>/dev/null | cut -d' ' -f1) " ;;
      1) T[rootful]+="$(java -cp "$CP" dev.berth.examples.bench.ImageImportBenchmark "$W/layout" "$W/runs/r$i" \
           2>/dev/null | cut -d' ' -f1) " ;;
      2) s=$(date +%s%N)
         runuser -u "$RL_USER" -- umoci unpack --rootless --image "$W/layout:t" "$W/runs/m$i" >/dev/null 2>&1
         T[umoci]+="$(( ($(date +%s%N) - s) / 1000000 )) " ;;
    esac
  done
  echo "[bench] run $i: rootless $(awk '{print $NF}' <<<"${T[rootless]}") rootful $(awk '{print $NF}' <<<"${T[rootful]}") umoci $(awk '{print $NF}' <<<"${T[umoci]}")" >&2
done
u=$(tr ' ' '\n' <<<"${T[rootless]}" | grep . | median)
r=$(tr ' ' '\n' <<<"${T[rootful]}" | grep . | median)
m=$(tr ' ' '\n' <<<"${T[umoci]}" | grep . | median)
echo "| tool | ready ms (median of $RUNS) |"
echo "|---|---:|"
echo "| Berth, rootless store (as $RL_USER) | $u |"
echo "| Berth, rootful store (as root) | $r |"
echo "| umoci unpack --rootless (as $RL_USER) | $m |"
awk -v u="$u" -v r="$r" -v m="$m" 'BEGIN { printf "ratios: rootless/rootful %.2f, rootless Berth/umoci --rootless %.2f\n", u / r, u / m }'
