#!/bin/sh
# The default seccomp filter's cost, step by step (see SeccompCostBenchmark): the Java compile and
# cache, the plan's bytes, and, through the C harness seccomp-cost.c, the kernel's load of the
# program, a fork-exec-exit under it and a syscall under it. Run as root after `mvn package -DskipTests`
# (no_new_privs makes the loads work for an ordinary user too).
# Usage: examples/bench/seccomp-cost.sh [PAIRS] [REPORT.md]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
gcc -O2 -Wall -o "$here/target/seccomp-cost" "$here/bench/seccomp-cost.c"
exec java -cp "$here/target/classes:$here/target/lib/*" dev.berth.examples.bench.SeccompCostBenchmark \
    "$here/target/seccomp-cost" "$here/target/rootfs/bin/true" "${1:-1000}" ${2:+"$2"}
