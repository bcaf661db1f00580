#!/bin/sh
# Density of Berth under one JVM against conmon + runc, in one run (see DensityBenchmark):
# N idle containers at once with log capture, their helpers' PSS, the JVM's threads, start-all
# and stop-all. Run as root after `mvn install -DskipTests`.
# Usage: examples/bench/density.sh [N] [POOL] [REPORT.md] [CONMON_N]
# BUSYBOX (default /usr/bin/busybox) is copied into the root filesystem, which has no libc: a
# static one: Debian's busybox-static, which .ci/install-deps.sh installs (the busybox package is not).
# The floor (bench/density-floor.c: the same processes, namespaces, mounts, cgroups and files in C) runs
# beside Berth, before and after it; FLOOR=0 skips it. CONFIGS=bare,line,mib (default all three) picks
# Berth's configurations.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
# every container holds a few fds in the JVM (its monitor's socket, pidfd, cgroup files): raise the
# soft limit to the hard one (the JVM does too, -XX:+MaxFDLimit), and say what it is
ulimit -n "$(ulimit -Hn)"
floor=
if [ "${FLOOR:-1}" != 0 ]; then
    gcc -static -O2 -Wall -pthread -o "$here/target/density-floor" "$here/bench/density-floor.c"
    floor="-Dberth.density.floor=$here/target/density-floor"
fi
exec java $floor -Dberth.density.configs="${CONFIGS:-bare,line,mib}" -cp "$here/target/classes:$here/target/lib/*" dev.berth.examples.bench.DensityBenchmark \
    "$here/target/rootfs" "${BUSYBOX:-/usr/bin/busybox}" "${1:-1000}" "${2:-4}" "${3:-}" ${4:+"$4"}
