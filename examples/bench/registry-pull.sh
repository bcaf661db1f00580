#!/usr/bin/env bash
# Pull of a two-layer image from a registry on loopback: `berth pull` (fresh JVM: pulled,
# verified, unpacked, and on disk when it returns) against `skopeo copy docker://... oci:...`
# alone (downloaded and verified) and followed by `umoci unpack` (ready to run). Same
# registry (Debian's docker-registry with TLS by a CA made here, anonymous), same run,
# rotating order, medians of RUNS runs. The image: the build JDK as one layer, /usr/share as
# the other, built once with umoci and pushed with skopeo.
#
# Needs root, docker-registry, skopeo, umoci, openssl and a build (mvn install -DskipTests).
# Usage: examples/bench/registry-pull.sh [REPORT.md]     env: RUNS (5), BERTH_BENCH_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
W=${BERTH_BENCH_DIR:-/var/tmp/berth-pull-bench}
RUNS=${RUNS:-5}
mkdir -p "$W"
JDK=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
if [ ! -f "$W/layout/index.json" ]; then
  echo "[bench] building the two-layer image with umoci ($JDK, /usr/share)" >&2
  rm -rf "$W/layout" "$W/B"
  (cd "$W" && umoci init --layout layout && umoci new --image layout:t \
     && umoci unpack --image layout:t B >/dev/null \
     && mkdir -p "B/rootfs$JDK" && cp -a "$JDK/." "B/rootfs$JDK/" && umoci repack --image layout:t B && rm -rf B \
     && umoci unpack --image layout:t B >/dev/null \
     && mkdir -p B/rootfs/usr/share && cp -a /usr/share/. B/rootfs/usr/share/ && umoci repack --image layout:t B && rm -rf B)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host=127.0.0.1:$port
R=$W/registry
rm -rf "$R" && mkdir -p "$R/certs.d/$host"
(cd "$R" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt \
   -days 2 -subj "/CN=bench CA" 2>/dev/null \
 && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
   -subj /CN=127.0.0.1 2>/dev/null \
 && echo "subjectAltName=IP:127.0.0.1" > san.ext \
 && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
   -extfile san.ext 2>/dev/null && cp ca.crt "certs.d/$host/ca.crt")
cat > "$R/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $R/data
http:
  addr: $host
  tls:
    certificate: $R/server.crt
    key: $R/server.key
YML
docker-registry serve "$R/config.yml" >"$R/registry.log" 2>&1 &
reg=$!
cleanup() { kill "$reg" 2>/dev/null || true; wait "$reg" 2>/dev/null || true; rm -rf "$W/runs"; }
trap cleanup EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
skopeo --insecure-policy copy -q --dest-cert-dir "$R/certs.d/$host" "oci:$W/layout:t" "docker://$host/bench/image:1"
ref=$host/bench/image:1
gz=$(du -sm "$R/data" | cut -f1)

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A T
run() { # name
  local d=$W/runs/$1-$2; rm -rf "$d"; mkdir -p "$d"; sync
  local t0 t1
  case $1 in
    berth) t0=$(now); "$here/berth" pull -q --root "$d/store" --cert-dir "$R/certs.d" "$ref" >/dev/null; t1=$(now) ;;
    skopeo) t0=$(now); skopeo --insecure-policy copy -q --src-cert-dir "$R/certs.d/$host" "docker://$ref" "oci:$d/oci:t"; t1=$(now) ;;
    skopeo_umoci) t0=$(now); skopeo --insecure-policy copy -q --src-cert-dir "$R/certs.d/$host" "docker://$ref" "oci:$d/oci:t" \
        && umoci unpack --image "$d/oci:t" "$d/bundle" >/dev/null; t1=$(now) ;;
  esac
  T[$1]+="$(ms "$t0" "$t1") "
  rm -rf "$d"
}
tools=(berth skopeo skopeo_umoci)
for r in $(seq "$RUNS"); do
  for i in 0 1 2; do run "${tools[$(( (i + r) % 3 ))]}" "$r"; done
done
med() { tr ' ' '\n' <<<"${T[$1]}" | grep . | median; }
b=$(med berth); s=$(med skopeo); su=$(med skopeo_umoci)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
report=$(cat <<MD
Image: 2 layers (the JDK, /usr/share), ${gz} MB in the registry; $RUNS runs each, rotating order.

| tool | median ms | runs ms |
|---|---|---|
| berth pull (fresh JVM; pulled, verified, unpacked, synced) | $b | ${T[berth]}|
| skopeo copy docker:// oci: (downloaded, verified) | $s | ${T[skopeo]}|
| skopeo copy + umoci unpack (ready to run) | $su | ${T[skopeo_umoci]}|

Ratios: berth / (skopeo + umoci) **$(ratio "$b" "$su")**, berth / skopeo copy alone **$(ratio "$b" "$s")**.
MD
)
echo "$report"
if [ $# -ge 1 ]; then echo "$report" >"$1"; fi
