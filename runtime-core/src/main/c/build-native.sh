#!/bin/sh
# Builds the static init stage for this machine's architecture into the classes
# directory, where it is packed into the jar as dev/berth/core/native/linux-ARCH/berth-init.
set -eu
src=$(dirname "$0")
out=$1
arch=$(uname -m)
mkdir -p "$out/dev/berth/core/native/linux-$arch"
exec ${CC:-gcc} -static -O2 -Wall -Wextra -Werror -o "$out/dev/berth/core/native/linux-$arch/berth-init" "$src/berth-init.c"
