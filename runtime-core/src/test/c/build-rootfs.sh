#!/bin/sh
# Builds the minimal root filesystem the tests, the launcher's default job and the
# benchmarks run: a static probe binary (also installed as true/false) and the
# /etc files user resolution reads. No network, no distribution image.
set -eu
src=$(dirname "$0")
out=$1
rm -rf "$out"
mkdir -p "$out/bin" "$out/etc" "$out/tmp" "$out/proc" "$out/sys" "$out/dev" "$out/home/alice" "$out/root"
chmod 1777 "$out/tmp"
${CC:-gcc} -static -O2 -Wall -Werror -o "$out/bin/probe" "$src/probe.c"
ln "$out/bin/probe" "$out/bin/true"
ln "$out/bin/probe" "$out/bin/false"
cat > "$out/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PASSWD
cat > "$out/etc/group" <<GROUP
root:x:0:
daemon:x:1:
tty:x:5:
staff:x:50:alice
alice:x:1000:
audio:x:29:alice
nogroup:x:65534:
GROUP
chown 1000:1000 "$out/home/alice" 2>/dev/null || true
# mount points for the files the runtime generates, as an image has them: the cgroup v2 VM shares this
# directory read-only, where none could be made
: > "$out/etc/hosts"; : > "$out/etc/hostname"; : > "$out/etc/resolv.conf"
