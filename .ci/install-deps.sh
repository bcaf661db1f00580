#!/usr/bin/env bash
# Installs what the build, the tests and the benchmarks need on a fresh Debian 12
# machine, idempotently: JDK 17 and Maven, gcc with a static libc (and a cross gcc plus
# qemu-user for the other architecture's init stage), the peer tools the interop tests and
# benchmarks use (umoci, skopeo, runc, bubblewrap, conmon), docker-registry, htpasswd and openssl for the
# registry pull test, setfacl and setcap for the xattr interop
# test, setpriv for the store permission test, setsid and stty for the terminal test, and the
# qemu VM for the cgroup v2 suite; and libseccomp, which the runtime itself needs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
need=()
command -v javac >/dev/null || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || need+=(maven)
command -v gcc >/dev/null || need+=(gcc)
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -f /usr/lib/aarch64-linux-gnu/libc.a ] || need+=(libc6-dev)
# The jar ships berth-init for x86_64 and aarch64: a cross gcc with a static libc builds the
# other architecture's (and checks LinuxConstants against its headers); qemu-user runs it in
# BerthInitProtocolTest.
case $(uname -m) in
  x86_64)
    command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
    [ -f /usr/aarch64-linux-gnu/lib/libc.a ] || need+=(libc6-dev-arm64-cross)
    command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static) ;;
  aarch64)
    command -v x86_64-linux-gnu-gcc >/dev/null || need+=(gcc-x86-64-linux-gnu)
    [ -f /usr/x86_64-linux-gnu/lib/libc.a ] || need+=(libc6-dev-amd64-cross)
    command -v qemu-x86_64-static >/dev/null || need+=(qemu-user-static) ;;
esac
# seccomp filters are compiled by libseccomp (through JNA) when a container starts
ldconfig -p | grep -q 'libseccomp\.so\.2 ' || need+=(libseccomp2)
command -v umoci >/dev/null || need+=(umoci)
command -v skopeo >/dev/null || need+=(skopeo)
command -v runc >/dev/null || need+=(runc)
# the density benchmark's peer: podman's monitor, supervising runc containers
command -v conmon >/dev/null || need+=(conmon)
# PullIT: a real registry on loopback (CNCF distribution) with TLS made by openssl and htpasswd (bcrypt) auth
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v htpasswd >/dev/null || need+=(apache2-utils)
# the networking benchmark's HTTP load generator: ApacheBench (apache2-utils)
command -v ab >/dev/null || need+=(apache2-utils)
command -v openssl >/dev/null || need+=(openssl)
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v mkfifo >/dev/null || need+=(coreutils)
command -v setfacl >/dev/null || need+=(acl)
command -v setcap >/dev/null || need+=(libcap2-bin)
command -v setpriv >/dev/null || need+=(util-linux)
# TerminalLauncherIT: the launcher on a pty as its controlling terminal (setsid --ctty), its settings (stty -g)
command -v setsid >/dev/null || need+=(util-linux)
command -v stty >/dev/null || need+=(coreutils)
# NetworkIT: the CNI plugins, ip (netns), iptables, and busybox httpd as the server in a namespace
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
# names on user networks (NetworkingIT): Berth's own name server (a java process, setsid from util-linux);
# wget, getent and busybox nslookup are the clients there; nsenter (util-linux) sets up the loopback test
command -v nsenter >/dev/null || need+=(util-linux)
command -v wget >/dev/null || need+=(wget)
command -v ip >/dev/null || need+=(iproute2)
command -v iptables >/dev/null || need+=(iptables)
# the busybox rootfs of the container tests (DetachIT, RestartIT, NetworkingIT, ...) copies /bin/busybox
# into a root with no libc: it must be Debian's static build
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || need+=(busybox-static)
# Rootless Berth (RootlessIT, as an unprivileged user): newuidmap/newgidmap for subordinate id maps,
# pasta and slirp4netns for user-mode networks; rsync copies the checkout to that user (rootless-suite.sh)
command -v newuidmap >/dev/null || need+=(uidmap)
command -v pasta >/dev/null || need+=(passt)
command -v slirp4netns >/dev/null || need+=(slirp4netns)
command -v rsync >/dev/null || need+=(rsync)
# the rootless start benchmark's peer: rootless podman (examples/bench/start-latency-rootless.sh)
command -v podman >/dev/null || need+=(podman)
if ((${#need[@]})); then
  echo "[install-deps] apt-get install ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
bash "$here/vm/install-deps.sh"
