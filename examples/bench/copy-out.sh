#!/bin/sh
# Copy out of a running container (CopyOutBenchmark): as root (the JVM reads directly), then as an ordinary
# user with subordinate ids (rootless: every entry opened by the reader in the user's namespace), each against
# cp -a of the same tree in the same run. Run as root after `mvn install -DskipTests`; the user must exist
# (.ci/rootless-suite.sh makes berth-rootless) and be able to read the checkout.
# Usage: examples/bench/copy-out.sh [RUNS] [REPORT.md]   (BENCH_USER=name to pick the user)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
user=${BENCH_USER:-berth-rootless}
out=$(mktemp)
chmod 666 "$out"
java -cp "$here/target/classes:$here/target/lib/*" dev.berth.examples.bench.CopyOutBenchmark \
    "$here/target/rootfs" "${1:-30}" "$out"
cat "$out" > "$out.all"
runuser -u "$user" -- env -u XDG_RUNTIME_DIR HOME="$(getent passwd "$user" | cut -d: -f6)" PATH="$PATH" \
    java -cp "$here/target/classes:$here/target/lib/*" dev.berth.examples.bench.CopyOutBenchmark \
    "$here/target/rootfs" "${1:-30}" "$out"
printf '\n' >> "$out.all"
cat "$out" >> "$out.all"
[ -n "${2:-}" ] && cp "$out.all" "$2"
rm -f "$out" "$out.all"
