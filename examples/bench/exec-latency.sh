#!/bin/sh
# Exec latency of Berth against runc exec and nsenter, in one run (see ExecLatencyBenchmark).
# Run as root after `mvn install -DskipTests`.
# Usage: examples/bench/exec-latency.sh [RUNS] [REPORT.md]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
exec java -cp "$here/target/classes:$here/target/lib/*" dev.berth.examples.bench.ExecLatencyBenchmark \
    "$here/target/rootfs" "${1:-200}" ${2:+"$2"}
