#!/bin/sh
# Builds the root directory JvmLimitsIT runs a JVM in: this build's JDK at its own path, the shared
# libraries its binaries and libraries load (as ldd finds them), the files its symlinks point to
# outside it (/etc/java-17-openjdk on Debian), a few /etc files, and JvmInside.class. No network, no
# distribution image: the same directory serves this host and, shared read-only over 9p, the cgroup v2
# VM of .ci/vm, where it must exist before the VM boots.
#
# Files are hard links to the host's where the file system allows (nothing copied), else copies.
# A hard link is the host's file itself: run containers on this root read-only, never writable.
#
# Usage: build.sh OUT JAVA_HOME
set -eu
src=$(cd "$(dirname "$0")" && pwd)
out=$1
jh=$(cd "$2" && pwd -P)
rm -rf "$out"
mkdir -p "$out/etc" "$out/tmp" "$out/proc" "$out/sys" "$out/dev" "$out/root" "$out/opt/berth"
chmod 1777 "$out/tmp"
# the host's top-level links (a merged /usr: /lib -> usr/lib), made relative so they resolve in the root
for l in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$l" ]; then
    t=$(readlink "/$l" | sed 's#^/##')
    ln -s "$t" "$out/$l"
    mkdir -p "$out/$t"
  fi
done
# put PATH: the host's file PATH (dereferenced) at the same path in the root, linked or copied
put() {
  dst=$out$1
  [ -e "$dst" ] && return 0
  mkdir -p "$(dirname "$dst")"
  cp -lL "$1" "$dst" 2>/dev/null || cp -L "$1" "$dst"
}
mkdir -p "$out$(dirname "$jh")"
# (an ordinary user may not link root's files, fs.protected_hardlinks: the copy starts afresh, not inside
# the part linked before the refusal, where cp -a would nest the JDK one level down)
cp -al "$jh" "$out$jh" 2>/dev/null || { rm -rf "$out$jh"; cp -a "$jh" "$out$jh"; }
# the files the JDK's symlinks point to outside it (jvm.cfg, conf/security/..., not its docs)
find "$jh" -type l | while read -r link; do
  target=$(readlink -f "$link") || continue
  case $target in "$jh"/*) continue ;; esac
  if [ -f "$target" ]; then put "$target"; fi
done
# the shared libraries of the launcher, the JDK's own libraries and the dynamic loader
find "$jh/bin/java" "$jh/lib" -type f \( -name java -o -name '*.so' -o -name jspawnhelper \) | while read -r elf; do
  ldd "$elf" 2>/dev/null | sed -n 's#.*=> \(/[^ ]*\) .*#\1#p; s#^[[:space:]]*\(/[^ ]*\) (0x.*#\1#p'
done | sort -u | while read -r lib; do put "$lib"; done
for f in /etc/ld.so.cache /etc/nsswitch.conf; do [ -f "$f" ] && put "$f"; done
[ -f "$out/etc/nsswitch.conf" ] || printf 'hosts: files dns\n' > "$out/etc/nsswitch.conf"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' > "$out/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$out/etc/group"
# mount points for the runtime's /etc files: the VM's 9p root is read-only, where none could be made
: > "$out/etc/hosts"; : > "$out/etc/hostname"; : > "$out/etc/resolv.conf"
"$jh/bin/javac" -d "$out/opt/berth" "$src/JvmInside.java" "$src/ThreadsAndSockets.java"
printf '%s\n' "$jh" > "$out/opt/berth/java-home"
