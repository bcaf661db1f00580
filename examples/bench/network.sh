#!/bin/sh
# Networking: start latency on a user network with a published port against --network none and
# against the same CNI plugin chain run by hand (cni-by-hand.sh), and HTTP throughput (ab) through
# the published port on 127.0.0.1 against the container IP, and a published port through the
# user-mode networks pasta and slirp4netns against the bridge (see NetworkBenchmark). Run as root
# after `mvn install -DskipTests`. BUSYBOX (default /usr/bin/busybox) must be static (busybox-static).
# Usage: examples/bench/network.sh [STARTS] [THROUGHPUT_RUNS] [REPORT.md]
# KEEP=DIR keeps the captured plugin configurations and environments there.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
exec java ${KEEP:+-Dberth.bench.keep="$KEEP"} -cp "$here/target/classes:$here/target/lib/*" \
    dev.berth.examples.bench.NetworkBenchmark "$here/target/rootfs" "${BUSYBOX:-/usr/bin/busybox}" \
    "$here/bench/cni-by-hand.sh" "${1:-20}" "${2:-5}" ${3:+"$3"}
