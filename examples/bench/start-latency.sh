#!/bin/sh
# Start latency of Berth against bubblewrap and runc, in one run (see
# StartLatencyBenchmark). Run as root after `mvn install -DskipTests`.
# Then the default seccomp filter's cost: PAIRS (default 400) pairs of starts with and without it.
# ANY_FILTER=1 adds the floor: the same pairs with a filter that allows everything (what any filter costs).
# Usage: [PAIRS=N] [ANY_FILTER=1] examples/bench/start-latency.sh [RUNS] [REPORT.md]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
exec java -Dberth.bench.pairs="${PAIRS:-400}" -Dberth.bench.anyFilter="${ANY_FILTER:+true}" -cp "$here/target/classes:$here/target/lib/*" dev.berth.examples.bench.StartLatencyBenchmark \
    "$here/target/rootfs" "${1:-200}" ${2:+"$2"}
