#!/bin/sh
# Builds the static init stage for every architecture Berth ships for (toolchain.sh's
# BERTH_ARCHES) into the classes directory, where it is packed into the jar as
# dev/berth/core/native/linux-ARCH/berth-init: an application jar built on x86_64 must start
# containers on aarch64 too. This machine's architecture is built with ${CC:-gcc}, the others
# with a cross gcc. Without one that binary is left out with a warning, so the README's build
# works with gcc alone; NativeBinariesTest then fails, so a test run (CI) needs every one.
# Usage: build-native.sh CLASSES_DIR TOOLCHAIN_SH
set -eu
src=$(dirname "$0")
out=$1
. "$2"
for arch in $BERTH_ARCHES; do
    bin="$out/dev/berth/core/native/linux-$arch/berth-init"
    rm -f "$bin"   # never pack a binary an earlier build left behind
    cc=$(cc_for "$arch" "the jar will have no linux-$arch/berth-init: containers cannot start on $arch") || continue
    mkdir -p "$(dirname "$bin")"
    $cc -static -O2 -Wall -Wextra -Werror -o "$bin" "$src/berth-init.c" "$src/berth-log.c"
done
