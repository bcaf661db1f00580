#!/bin/sh
# Density of Berth under one JVM against conmon + runc, in one run (see DensityBenchmark):
# N idle containers at once with log capture, their helpers' PSS, the JVM's threads, start-all
# and stop-all. Run as root after `mvn install -DskipTests`.
# Usage: examples/bench/density.sh [N] [POOL] [REPORT.md] [CONMON_N]
# BUSYBOX (default /usr/bin/busybox) is copied into the root filesystem, which has no libc: a
# static one: Debian's busybox-static, which .ci/install-deps.sh installs (the busybox package is not).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
# every container holds a few fds in the JVM (its monitor's socket, pidfd, cgroup files): raise the
# soft limit to the hard one (the JVM does too, -XX:+MaxFDLimit), and say what it is
ulimit -n "$(ulimit -Hn)"
exec java -cp "$here/target/classes:$here/target/lib/*" dev.berth.examples.bench.DensityBenchmark \
    "$here/target/rootfs" "${BUSYBOX:-/usr/bin/busybox}" "${1:-1000}" "${2:-4}" "${3:-}" ${4:+"$4"}
