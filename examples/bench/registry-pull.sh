#!/usr/bin/env bash
# Pull of a two-layer image from a registry on loopback: `berth pull` (fresh JVM: pulled,
# verified, unpacked, and on disk when it returns) against `skopeo copy docker://... oci:...`
# alone (downloaded and verified) and followed by `umoci unpack` (ready to run). Same
# registry (Debian's docker-registry with TLS by a CA made here, anonymous), same run,
# rotating order, medians of RUNS runs. The image: the build JDK as one layer, /usr/share as
# the other, built once with umoci and pushed with skopeo. A fourth row runs berth pull with the JDK
# HTTP client's default 16 KiB transfer sizes (the launcher raises them to 256 KiB).
# IMAGE=debian-jdk (the default, the issue's image): Debian bookworm minbase made by debootstrap
# (from the Debian mirror apt uses; cached in $BERTH_BENCH_DIR/minbase) as one layer, the build JDK
# as the other. IMAGE=jdk-usrshare: the build JDK and the host's /usr/share (54,000 files; the
# previous rounds' image, far heavier in files).
#
# Each timed run writes to a fresh journaled ext4 on a loop device (as image-import.sh does): the
# root file system here is ext4 without a journal, where creating files right after others were
# deleted is several times slower (recently_deleted()), so a run paid for the one before it.
# BERTH_BENCH_FS=dir writes to fresh directories of $BERTH_BENCH_DIR instead.
#
# Needs root, docker-registry, skopeo, umoci, debootstrap (IMAGE=debian-jdk), openssl, mkfs.ext4, losetup and a build (mvn install -DskipTests).
# Usage: examples/bench/registry-pull.sh [REPORT.md]     env: RUNS (5), IMAGE, BERTH_BENCH_DIR, BERTH_BENCH_FS (loop|dir)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
W=${BERTH_BENCH_DIR:-/var/tmp/berth-pull-bench}
RUNS=${RUNS:-5}
FS=${BERTH_BENCH_FS:-loop}
mkdir -p "$W"
JDK=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
IMAGE=${IMAGE:-debian-jdk}
L=$W/layout-$IMAGE
case $IMAGE in
  debian-jdk)
    describe="Debian bookworm minbase (debootstrap) and the JDK"
    if [ ! -f "$W/minbase/etc/debian_version" ]; then
      echo "[bench] debootstrap --variant=minbase bookworm" >&2
      rm -rf "$W/minbase"
      debootstrap --variant=minbase bookworm "$W/minbase" http://deb.debian.org/debian >"$W/debootstrap.log" 2>&1
    fi
    first=$W/minbase/. first_at=/ ;;
  jdk-usrshare)
    describe="the JDK and the host's /usr/share"
    first=$JDK/. first_at=$JDK ;;
  *) echo "IMAGE=$IMAGE: expected debian-jdk or jdk-usrshare" >&2; exit 2 ;;
esac
if [ ! -f "$L/index.json" ]; then
  echo "[bench] building the two-layer image with umoci ($describe)" >&2
  rm -rf "$L" "$W/B"
  if [ "$IMAGE" = debian-jdk ]; then second=$JDK/. second_at=$JDK; else second=/usr/share/. second_at=/usr/share; fi
  (cd "$W" && umoci init --layout "$L" && umoci new --image "$L:t" \
     && umoci unpack --image "$L:t" B >/dev/null \
     && mkdir -p "B/rootfs$first_at" && cp -a "$first" "B/rootfs$first_at/" && umoci repack --image "$L:t" B && rm -rf B \
     && umoci unpack --image "$L:t" B >/dev/null \
     && mkdir -p "B/rootfs$second_at" && cp -a "$second" "B/rootfs$second_at/" && umoci repack --image "$L:t" B && rm -rf B)
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
IMG=$W/scratch.img
LOOP=
unscratch() {
  if mountpoint -q "$W/mnt"; then umount "$W/mnt"; fi
  if [ -n "$LOOP" ]; then losetup -d "$LOOP" 2>/dev/null || true; LOOP=; fi
  rm -f "$IMG"
}
cleanup() { kill "$reg" 2>/dev/null || true; wait "$reg" 2>/dev/null || true; unscratch; rm -rf "$W/runs"; }
trap cleanup EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
skopeo --insecure-policy copy -q --dest-cert-dir "$R/certs.d/$host" "oci:$L:t" "docker://$host/bench/image:1"
ref=$host/bench/image:1
gz=$(du -sm "$R/data" | cut -f1)

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A T
scratch() { # name run: sets d, a fresh directory on a fresh file system
  if [ "$FS" = dir ]; then
    d=$W/runs/$1-$2; rm -rf "$d"; mkdir -p "$d"; sync; return
  fi
  unscratch
  truncate -s 8G "$IMG"
  mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$IMG"
  LOOP=$(losetup -f --show --direct-io=on "$IMG")
  mkdir -p "$W/mnt"
  mount "$LOOP" "$W/mnt"
  d=$W/mnt/$1; mkdir -p "$d"; sync
}
jdk_defaults="-Djdk.httpclient.bufsize=16384 -Djdk.httpclient.maxframesize=16384"
run() { # name run
  local d t0 t1
  scratch "$1" "$2"
  case $1 in
    berth) t0=$(now); "$here/berth" pull -q --root "$d/store" --cert-dir "$R/certs.d" "$ref" >/dev/null; t1=$(now) ;;
    berth_jdk) t0=$(now); JAVA_TOOL_OPTIONS=$jdk_defaults "$here/berth" pull -q --root "$d/store" --cert-dir "$R/certs.d" "$ref" \
        >/dev/null 2>&1; t1=$(now) ;;
    skopeo) t0=$(now); skopeo --insecure-policy copy -q --src-cert-dir "$R/certs.d/$host" "docker://$ref" "oci:$d/oci:t"; t1=$(now) ;;
    skopeo_umoci) t0=$(now); skopeo --insecure-policy copy -q --src-cert-dir "$R/certs.d/$host" "docker://$ref" "oci:$d/oci:t" \
        && umoci unpack --image "$d/oci:t" "$d/bundle" >/dev/null; t1=$(now) ;;
  esac
  T[$1]+="$(ms "$t0" "$t1") "
  if [ "$FS" = dir ]; then rm -rf "$d"; fi
}
tools=(berth skopeo skopeo_umoci berth_jdk)
for r in $(seq "$RUNS"); do
  for i in 0 1 2 3; do run "${tools[$(( (i + r) % 4 ))]}" "$r"; done
done
med() { tr ' ' '\n' <<<"${T[$1]}" | grep . | median; }
b=$(med berth); s=$(med skopeo); su=$(med skopeo_umoci); bj=$(med berth_jdk)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
report=$(cat <<MD
Image: 2 layers ($describe), ${gz} MB in the registry; $RUNS runs each, rotating order,
$( [ "$FS" = dir ] && echo "each in a fresh directory of $(findmnt -n -o SOURCE --target "$W")" || echo "each on a fresh ext4 (loop device)") ($(date -u +%F), $(nproc) cores).

| tool | median ms | runs ms |
|---|---|---|
| berth pull (fresh JVM; pulled, verified, unpacked, synced) | $b | ${T[berth]}|
| skopeo copy docker:// oci: (downloaded, verified) | $s | ${T[skopeo]}|
| skopeo copy + umoci unpack (ready to run) | $su | ${T[skopeo_umoci]}|
| berth pull, JDK HttpClient's 16 KiB reads and frames | $bj | ${T[berth_jdk]}|

Ratios: berth / (skopeo + umoci) **$(ratio "$b" "$su")**, berth / skopeo copy alone **$(ratio "$b" "$s")**.
MD
)
echo "$report"
if [ $# -ge 1 ]; then echo "$report" >"$1"; fi
