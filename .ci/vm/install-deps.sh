#!/usr/bin/env bash
# Installs (idempotently) what .ci/vm/run-in-vm.sh needs on a Debian 12 host:
# qemu (TCG), a Debian kernel with modules, a static busybox for the
# initramfs, and the tools used to build it. Only missing packages are
# installed; apt-get update runs only if something is missing.
set -euo pipefail

PKGS=(
  qemu-system-x86     # qemu-system-x86_64 (TCG; seabios/ipxe come as Depends)
  linux-image-amd64   # guest kernel /boot/vmlinuz-* + /lib/modules/*
  busybox-static      # the initramfs userland
  cpio                # packs the initramfs
  kmod                # modprobe --show-depends resolves module order
  xz-utils zstd       # decompress .ko.xz / .ko.zst modules if the kernel ships them
)
# The VM runs the host's JDK 17 (chroot into the host's root over 9p).
[[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]] || PKGS+=(openjdk-17-jdk-headless)

missing=()
for p in "${PKGS[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all VM packages already installed"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
