#!/bin/sh
# Log capture throughput of Berth's monitor against the same writer with stdout a file, in one run
# (see LogThroughputBenchmark). Run as root after `mvn install -DskipTests`.
# Usage: examples/bench/log-throughput.sh [SECONDS] [ROUNDS] [REPORT.md]
# BUSYBOX (default /usr/bin/busybox) is copied into the root filesystem, which has no libc: a
# static one: Debian's busybox-static, which .ci/install-deps.sh installs (the busybox package is not).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
exec java -cp "$here/target/classes:$here/target/lib/*" dev.berth.examples.bench.LogThroughputBenchmark \
    "$here/target/rootfs" "${BUSYBOX:-/usr/bin/busybox}" "${1:-10}" "${2:-3}" ${3:+"$3"}
