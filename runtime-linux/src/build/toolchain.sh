# Sourced by the native build scripts (check-constants.sh here, runtime-core's build-native.sh):
# the architectures Berth ships for, and the gcc that compiles for each.
BERTH_ARCHES="x86_64 aarch64"

# cc_for ARCH CONSEQUENCE: prints the gcc for ARCH: ${CC:-gcc} for this machine's own
# architecture, else the Debian cross compiler ARCH-linux-gnu-gcc. When that is not installed
# it warns on stderr with CONSEQUENCE and the packages to install, and returns 1: a developer's
# build still succeeds, and the tests that need every architecture fail saying why.
cc_for() {
    if [ "$1" = "$(uname -m)" ]; then
        echo "${CC:-gcc}"
        return 0
    fi
    if command -v "$1-linux-gnu-gcc" >/dev/null 2>&1; then
        echo "$1-linux-gnu-gcc"
        return 0
    fi
    case $1 in
        aarch64) pkgs="gcc-aarch64-linux-gnu libc6-dev-arm64-cross" ;;
        x86_64) pkgs="gcc-x86-64-linux-gnu libc6-dev-amd64-cross" ;;
        *) pkgs="a gcc for $1" ;;
    esac
    echo "WARNING: $1-linux-gnu-gcc not found: $2. Install $pkgs (.ci/install-deps.sh does); CI builds every architecture." >&2
    return 1
}
