#!/bin/sh
# Checks LinuxConstants against the C headers of every architecture Berth ships for: writes one
# C file of _Static_assert lines per architecture from the compiled classes (HeaderCheck) and
# compiles it, syntax only, with that architecture's gcc. A wrong value fails the build with
# gcc naming the constant. OUT/ARCH.ok marks an architecture checked in this build; one
# without a compiler gets a warning and no marker, and LinuxConstantsTest then fails.
# Usage: check-constants.sh JAVA CLASSES_DIR OUT_DIR
set -eu
java=$1
classes=$2
out=$3
. "$(dirname "$0")/toolchain.sh"
mkdir -p "$out"
for arch in $BERTH_ARCHES; do
    rm -f "$out/$arch.ok"
    cc=$(cc_for "$arch" "LinuxConstants is NOT checked against the $arch C headers") || continue
    "$java" -cp "$classes" dev.berth.linux.internal.HeaderCheck "$arch" > "$out/$arch.c"
    if ! $cc -std=gnu11 -fsyntax-only "$out/$arch.c"; then
        echo "check-constants: LinuxConstants disagrees with the $arch C headers ($cc, $out/$arch.c); see above" >&2
        exit 1
    fi
    touch "$out/$arch.ok"
done
