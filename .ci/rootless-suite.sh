#!/usr/bin/env bash
# The rootless tier: the *RootlessIT classes, run by Maven as an ordinary user (not root), the way
# an application or a developer without root uses Berth. Run as root: it creates the user (with
# subordinate ids, as useradd gives them), copies the checkout and the local Maven repository to
# that user, and runs failsafe there offline. Any skipped or missing test fails the stage.
#   RL_USER  the unprivileged user (default berth-rootless; created when missing)
#   RL_SRC   the checkout to test (default: this one)
#   RL_DIR   where the user's copy goes (default /home/$RL_USER/src)
#   RL_TESTS failsafe's it.test pattern (default *RootlessIT)
#   RL_PL    Maven's -pl list (default: every module)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RL_USER="${RL_USER:-berth-rootless}"
RL_SRC="${RL_SRC:-$here}"
RL_TESTS="${RL_TESTS:-*RootlessIT}"
if [ "$(id -u)" != 0 ]; then
  echo "rootless suite: skipped: requires root to create the unprivileged user it runs as" >&2
  exit 0
fi
if ! id "$RL_USER" >/dev/null 2>&1; then
  useradd -m -s /bin/bash "$RL_USER"
fi
home="$(getent passwd "$RL_USER" | cut -d: -f6)"
RL_DIR="${RL_DIR:-$home/src}"
uid="$(id -u "$RL_USER")"
# useradd assigns subordinate ids on Debian; make sure there are some (a test also covers none).
for f in /etc/subuid /etc/subgid; do
  grep -q "^$RL_USER:" "$f" 2>/dev/null || echo "$RL_USER:$((100000 + (uid % 100) * 65536)):65536" >> "$f"
done
mkdir -p "$RL_DIR" "$home/.m2/repository"
rsync -a --delete --exclude target --exclude .git "$RL_SRC"/ "$RL_DIR"/
# The reactor builds offline from a copy of root's repository (nothing is downloaded as the user).
rsync -a "${MAVEN_REPO:-$HOME/.m2/repository}"/ "$home/.m2/repository"/
chown -R "$RL_USER:" "$RL_DIR" "$home/.m2"
pl=()
[ -n "${RL_PL:-}" ] && pl=(-pl "$RL_PL" -am)
echo "[rootless] $(date -u +%FT%TZ) as $RL_USER (uid $uid): $(grep "^$RL_USER:" /etc/subuid)"
cd "$RL_DIR"
rm -rf ./*/target/failsafe-reports
# No XDG_RUNTIME_DIR: runuser opens no login session, so the state root's documented fallback is used.
runuser -u "$RL_USER" -- env -u XDG_RUNTIME_DIR HOME="$home" PATH="$PATH" JAVA_HOME="${JAVA_HOME:-}" \
  mvn -B -ntp -o "${pl[@]}" verify -Dit.test="$RL_TESTS" -Dfailsafe.failIfNoSpecifiedTests=false \
  -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dberth.test.strict=true -Dberth.test.rootless=true
read -r ran skipped < <(awk '
  /<testsuite[ >]/ { t = s = 0; for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2) { gsub(/[">]/, "", kv[2]);
      if (kv[1] == "tests") t = kv[2]; if (kv[1] == "skipped") s = kv[2] }
    ran += t - s; skipped += s }
  END { print ran + 0, skipped + 0 }' /dev/null ./*/target/failsafe-reports/TEST-*.xml 2>/dev/null || echo "0 0")
echo "rootless tests as $RL_USER: $ran run, $skipped skipped"
if ((ran == 0 || skipped > 0)); then
  echo "FAILED: the rootless tier must run every test it selects ($RL_TESTS) and skip none" >&2
  grep -l '<skipped' ./*/target/failsafe-reports/TEST-*.xml >&2 || true
  exit 1
fi
