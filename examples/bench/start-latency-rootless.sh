#!/bin/sh
# Rootless start latency: StartLatencyBenchmark run as an ordinary user (rootless Berth, with a user
# namespace of the user's subordinate ids and no cgroup, against rootless bwrap, round-robin in one
# JVM). Run as root after `mvn install -DskipTests`; the user must exist (.ci/rootless-suite.sh makes
# berth-rootless) and be able to read the checkout.
# Usage: examples/bench/start-latency-rootless.sh [RUNS] [REPORT.md]   (BENCH_USER=name to pick the user)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
user=${BENCH_USER:-berth-rootless}
out=$(mktemp)
chmod 666 "$out"
runuser -u "$user" -- env -u XDG_RUNTIME_DIR HOME="$(getent passwd "$user" | cut -d: -f6)" PATH="$PATH" \
    java -cp "$here/target/classes:$here/target/lib/*" dev.berth.examples.bench.StartLatencyBenchmark \
    "$here/target/rootfs" "${1:-200}" "$out"
[ -n "${2:-}" ] && cp "$out" "$2"
rm -f "$out"
# rootless podman leaves its pause process (the holder of the user's namespace) running: end it by its pid file
uid=$(id -u "$user")
for f in "/tmp/podman-run-$uid/libpod/tmp/pause.pid" "/tmp/storage-run-$uid/libpod/tmp/pause.pid"; do
  if [ -f "$f" ]; then
    pid=$(cat "$f")
    [ "$(stat -c %U "/proc/$pid" 2>/dev/null)" = "$user" ] && kill "$pid" 2>/dev/null || true
  fi
done
