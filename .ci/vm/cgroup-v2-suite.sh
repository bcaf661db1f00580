#!/usr/bin/env bash
# Usage: cgroup-v2-suite.sh [OUTDIR]
#
# Runs the project's cgroup v2 integration tests (JUnit 5 classes named
# *V2IT, already compiled into */target/test-classes) inside the cgroup v2 VM
# (run-in-vm.sh). The test class path is resolved on the host with Maven; the
# VM runs junit-platform-console-standalone in a single JVM. Fails if any test
# fails or if no test ran. Reports: OUTDIR/reports (JUnit XML), console log:
# OUTDIR/console.log. Default OUTDIR: <repo>/target/cgroup-v2-suite.
#
# Environment: BERTH_REPO (default: this checkout), BERTH_V2IT_JAVA_OPTS,
# BERTH_V2IT_INCLUDE (class name regex, default '.*V2IT': one class while working on it),
# BERTH_JUNIT_CONSOLE_VERSION, MVN (default mvn), plus run-in-vm.sh's.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "${BERTH_REPO:-$SCRIPT_DIR/../..}" && pwd -P)
OUT=${1:-$REPO/target/cgroup-v2-suite}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd -P)
MVN=${MVN:-mvn}
JAVA_OPTS=${BERTH_V2IT_JAVA_OPTS:--XX:TieredStopAtLevel=1 -Xshare:auto -XX:+UseSerialGC -Xms64m -Xmx512m}
T0=$(date +%s)
log() { echo "[cgroup-v2-suite] $*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

# --- modules with compiled *V2IT classes ---------------------------------------
mapfile -t MODULES < <(find "$REPO" -path "$REPO/.git" -prune -o -path '*/target/test-classes/*' \
    -name '*V2IT.class' -print | sed 's#/target/test-classes/.*##' | sort -u)
((${#MODULES[@]})) || fail "no compiled *V2IT classes under $REPO/*/target/test-classes (run the build first)"
PL=$(for m in "${MODULES[@]}"; do echo "${m#"$REPO"/}"; done | paste -sd,)
[[ " ${MODULES[*]} " != *" $REPO "* ]] || PL=.   # V2IT classes in the root project itself
log "modules with *V2IT classes: $PL"

# --- JUnit console launcher version (JUnit 5.x.y -> platform 1.x.y) -----------
if [[ -z ${BERTH_JUNIT_CONSOLE_VERSION:-} ]]; then
  JV=$(sed -n 's#.*<junit.version>\(.*\)</junit.version>.*#\1#p' "$REPO/pom.xml" | head -n 1)
  [[ -n $JV ]] || fail "cannot read <junit.version> from $REPO/pom.xml (set BERTH_JUNIT_CONSOLE_VERSION)"
  if [[ $JV == 5.* ]]; then BERTH_JUNIT_CONSOLE_VERSION=1.${JV#5.}; else BERTH_JUNIT_CONSOLE_VERSION=$JV; fi
fi
CONSOLE_JAR=$OUT/lib/junit-platform-console-standalone-$BERTH_JUNIT_CONSOLE_VERSION.jar

# --- class path (host side) ------------------------------------------------------
# test-compile with -am is a no-op on a built tree but makes Maven resolve the
# project's own modules to their target/classes, so no `mvn install` is needed.
CPFILE=target/cgroup-v2-suite.classpath
rm -f "$OUT"/lib/*.jar
log "resolving test class path with Maven"
(cd "$REPO" && "$MVN" -q -B -Dstyle.color=never -pl "$PL" -am test-compile dependency:build-classpath dependency:copy \
    -Dmdep.outputFile="$CPFILE" -Dmdep.includeScope=test \
    -Dartifact="org.junit.platform:junit-platform-console-standalone:$BERTH_JUNIT_CONSOLE_VERSION" \
    -DoutputDirectory="$OUT/lib") || fail "Maven could not resolve the test class path"
[[ -s $CONSOLE_JAR ]] || fail "junit-platform-console-standalone $BERTH_JUNIT_CONSOLE_VERSION not fetched"

declare -A SEEN=()
CP=()
ROOTS=()
add() { [[ -n $1 && -z ${SEEN[$1]:-} ]] || return 0; SEEN[$1]=1; CP+=("$1"); }
for m in "${MODULES[@]}"; do
  [[ -f $m/$CPFILE ]] || fail "class path file $m/$CPFILE missing"
  ROOTS+=("$m/target/test-classes")
  add "$m/target/test-classes"; add "$m/target/classes"
  IFS=: read -r -a deps < "$m/$CPFILE" || true  # no trailing newline
  for d in "${deps[@]}"; do
    case $d in  # the console launcher brings its own JUnit platform/engines
      */org/junit/platform/*|*/org/junit/jupiter/*|*/org/junit/vintage/*|*/org/opentest4j/*|*/org/apiguardian/*) ;;
      *) add "$d" ;;
    esac
  done
done
CLASSPATH_STR=$(IFS=:; echo "${CP[*]}")
ROOTS_STR=$(IFS=:; echo "${ROOTS[*]}")
T1=$(date +%s)
log "class path ready ($((T1 - T0))s): ${#CP[@]} entries"

# --- run in the VM ----------------------------------------------------------------
rm -rf "$OUT/reports"
WORKDIR=$REPO; ((${#MODULES[@]} == 1)) && WORKDIR=${MODULES[0]}  # like surefire: cwd = module
set +e
# shellcheck disable=SC2086  # JAVA_OPTS is a list of options
(cd "$WORKDIR" && "$SCRIPT_DIR/run-in-vm.sh" "$OUT" -- \
  java $JAVA_OPTS -Djava.io.tmpdir=/tmp -Dberth.test.strict=true -jar "$CONSOLE_JAR" execute \
    --disable-banner --disable-ansi-colors --details=tree \
    --class-path "$CLASSPATH_STR" --scan-class-path "$ROOTS_STR" \
    --include-engine junit-jupiter --include-classname "${BERTH_V2IT_INCLUDE:-.*V2IT}" --fail-if-no-tests \
    --reports-dir "$OUT/reports")
RC=$?
set -e
T2=$(date +%s)

# --- summary ---------------------------------------------------------------------
read -r TESTS SKIPPED FAILURES ERRORS < <(cat "$OUT"/reports/TEST-*.xml 2>/dev/null | awk '
  /<testsuite[ >]/ { for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2) {
      gsub(/[">]/, "", kv[2]); a[kv[1]] += kv[2] } }
  END { printf "%d %d %d %d\n", a["tests"], a["skipped"], a["failures"], a["errors"] }')
RAN=$((TESTS - SKIPPED))
SUMMARY="cgroup-v2-suite: $TESTS tests, $((TESTS - SKIPPED - FAILURES - ERRORS)) passed, $FAILURES failed, $ERRORS errors, $SKIPPED skipped; exit $RC; VM stage $((T2 - T1))s, total $((T2 - T0))s"
echo "$SUMMARY" | tee "$OUT/summary.txt"
((RC == 0)) || fail "tests failed or the VM failed (exit $RC); see $OUT/console.log and $OUT/reports"
((RAN > 0)) || fail "no test ran (all skipped or none found)"
((SKIPPED == 0)) || fail "$SKIPPED tests skipped in the VM, which promises cgroup v2 and root (see $OUT/reports)"
log "OK"
