#!/usr/bin/env bash
# Runs Berth's whole test suite:
#   1. unit tests (no privileges) and privileged integration tests (*IT, as root): mvn verify
#   2. the rootless tier (*RootlessIT) as an unprivileged user (.ci/rootless-suite.sh)
#   3. the cgroup v2 suite (*V2IT) inside a small qemu VM with a cgroup v2 kernel
# As root it first installs what it needs (apt-get) and then runs strictly: a privileged test
# whose precondition (root, a tool, cgroups) is missing fails instead of skipping. Not as root,
# the privileged tiers skip, saying why.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
strict=false
if [ "$(id -u)" = 0 ]; then
  bash .ci/install-deps.sh
  strict=true
fi
mvn -B -ntp verify -Dberth.test.strict=$strict
# What ran: failsafe's reports hold the privileged ITs. On this host only the *V2IT classes may
# skip (they run in the VM below); in a strict run any other skip fails the suite.
read -r ran skipped other < <(awk '
  /<testsuite[ >]/ { t = s = 0; for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2) { gsub(/[">]/, "", kv[2]);
      if (kv[1] == "tests") t = kv[2]; if (kv[1] == "skipped") s = kv[2] }
    ran += t - s; skipped += s; if (FILENAME !~ /V2IT\.xml$/) other += s }
  END { print ran + 0, skipped + 0, other + 0 }' */target/failsafe-reports/TEST-*.xml */target/surefire-reports/TEST-*.xml)
echo "tests on this host: $ran run, $skipped skipped ($((skipped - other)) of them *V2IT, run in the VM suite below)"
if [ "$strict" = true ] && ((other > 0)); then
  echo "FAILED: $other tests other than *V2IT skipped in a run that promises root and every tool:" >&2
  grep -l '<skipped' */target/failsafe-reports/TEST-*.xml */target/surefire-reports/TEST-*.xml | grep -v 'V2IT\.xml$' >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  # the rootless tier: *RootlessIT as an unprivileged user the script creates
  bash .ci/rootless-suite.sh
  bash .ci/vm/cgroup-v2-suite.sh
else
  echo "cgroup v2 VM suite: skipped: requires root (it boots a VM and mounts cgroup2 there)"
fi
