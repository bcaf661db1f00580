#!/bin/sh
# Start latency of Berth against bubblewrap and runc, in one run (see
# StartLatencyBenchmark). Run as root after `mvn install -DskipTests`.
# Usage: examples/bench/start-latency.sh [RUNS] [REPORT.md]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
exec java -cp "$here/target/classes:$here/target/lib/*" dev.berth.examples.bench.StartLatencyBenchmark \
    "$here/target/rootfs" "${1:-200}" ${2:+"$2"}
