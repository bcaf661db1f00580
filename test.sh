#!/usr/bin/env bash
# Runs Berth's whole test suite:
#   1. unit tests (no privileges) and privileged integration tests (*IT, as root): mvn verify
#   2. the cgroup v2 suite (*V2IT) inside a small qemu VM with a cgroup v2 kernel
# As root it first installs what it needs (apt-get); privileged tiers skip, saying
# why, when not run as root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [ "$(id -u)" = 0 ]; then
  bash .ci/install-deps.sh
fi
mvn -B -ntp verify
if [ "$(id -u)" = 0 ]; then
  bash .ci/vm/cgroup-v2-suite.sh
else
  echo "cgroup v2 VM suite: skipped: requires root (it boots a VM and mounts cgroup2 there)"
fi
