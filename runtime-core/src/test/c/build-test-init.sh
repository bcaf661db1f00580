#!/bin/sh
# Builds test variants of berth-init for this machine: berth-init-no-close-range behaves as on a
# kernel before 5.9 (no close_range), so StartProtocolIT exercises the monitor's /proc/self/fd
# fallback on any kernel.
# Usage: build-test-init.sh OUT_DIR
set -eu
src=$(dirname "$0")/../../main/c
out=$1
mkdir -p "$out"
exec ${CC:-gcc} -static -O2 -Wall -Wextra -Werror -DBERTH_INIT_NO_CLOSE_RANGE -o "$out/berth-init-no-close-range" \
    "$src/berth-init.c" "$src/berth-log.c"
