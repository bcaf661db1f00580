package dev.berth.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.cgroups.internal.Drivers;
import dev.berth.cgroups.testing.FakeCgroupTree;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Rootless detection on fixture cgroup trees: the files are real (a temp dir laid out like
 * cgroupfs), their owners come from a map (default root), as systemd's Delegate=yes chown would
 * set them.
 */
class DelegationTest {
  static final long UID = 1000;
  static final String SCOPE = "user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope";
  @TempDir Path tmp;
  final Map<Path, Long> owners = new HashMap<>();

  /** Reads the fixture files; owner from the map, else 0 for what exists. */
  final Delegation.Host host = new Delegation.Host() {
    @Override
    public Optional<String> read(Path file) {
      return Delegation.Host.system().read(file);
    }

    @Override
    public OptionalLong owner(Path file) {
      Long o = owners.get(file);
      return o != null ? OptionalLong.of(o) : Files.exists(file) ? OptionalLong.of(0) : OptionalLong.empty();
    }
  };

  FakeCgroupTree scope(String controllers, long... procs) {
    return FakeCgroupTree.v2(tmp, "/" + SCOPE, FakeCgroupTree.ALL_V2, controllers, procs);
  }

  void delegate(FakeCgroupTree t, String rel) {
    Path dir = t.path(rel);
    owners.put(dir, UID);
    for (String f : Delegation.DELEGATED_FILES) {
      owners.put(dir.resolve(f), UID);
    }
  }

  Delegation detect(FakeCgroupTree t) {
    return Delegation.detect(t.cgroupRoot, t.procRoot, UID, host);
  }

  @Test
  void aScopeWithDelegateYesIsDelegatedWithItsControllers() {
    FakeCgroupTree t = scope("cpu io memory pids");
    delegate(t, SCOPE);
    Delegation d = detect(t);
    assertThat(d.delegated()).isTrue();
    assertThat(d.directory()).contains(t.path(SCOPE));
    assertThat(d.controllers()).containsExactly("cpu", "io", "memory", "pids");
    assertThat(d.finding()).isEqualTo(t.path(SCOPE) + " (controllers: cpu io memory pids)");
    assertThat(d.refusal(Resources.builder().memoryMax(64 << 20).pidsMax(10).cpus(0.5).build())).isEmpty();
    assertThat(d.refusal(Resources.none())).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"})
  void eachOfTheDelegatedFilesMustBeTheUsers(String file) {
    FakeCgroupTree t = scope("cpu io memory pids");
    delegate(t, SCOPE);
    Path p = file.isEmpty() ? t.path(SCOPE) : t.path(SCOPE).resolve(file);
    owners.put(p, 0L);
    Delegation d = detect(t);
    assertThat(d.delegated()).isFalse();
    assertThat(d.controllers()).isEmpty();
    assertThat(d.finding()).isEqualTo(p + " is owned by uid 0, not 1000: the JVM's cgroup is not delegated to this user");
    assertThat(d.refusal(Resources.builder().pidsMax(5).build())).contains("rootless: --pids-limit needs a delegated"
        + " cgroup v2 subtree (none found for uid 1000: " + p + " is owned by uid 0, not 1000: the JVM's cgroup is not"
        + " delegated to this user; see docs/rootless.md)");
  }

  @Test
  void anotherUsersDelegationIsNotOurs() {
    FakeCgroupTree t = scope("cpu io memory pids");
    delegate(t, SCOPE);
    Delegation d = Delegation.detect(t.cgroupRoot, t.procRoot, 1001, host);
    assertThat(d.delegated()).isFalse();
    assertThat(d.finding()).isEqualTo(t.path(SCOPE) + " is owned by uid 1000, not 1001: the JVM's cgroup is not"
        + " delegated to this user");
  }

  @Test
  void aControllerThatIsNotDelegatedIsNamed() {
    FakeCgroupTree t = scope("pids");
    delegate(t, SCOPE);
    Delegation d = detect(t);
    assertThat(d.delegated()).isTrue();
    assertThat(d.refusal(Resources.builder().pidsMax(5).build())).isEmpty();
    assertThat(d.refusal(Resources.builder().pidsMax(5).memoryMax(64 << 20).build())).contains("rootless: --memory needs"
        + " the cgroup v2 controller 'memory', which is not delegated to uid 1000 (" + t.path(SCOPE)
        + " (controllers: pids); add it to Delegate= of the unit; see docs/rootless.md)");
    assertThat(d.refusal(Resources.builder().cpus(1.5).build())).hasValueSatisfying(m -> assertThat(m)
        .startsWith("rootless: --cpus needs the cgroup v2 controller 'cpu', which is not delegated"));
  }

  @Test
  void aHybridHostLikeThisMachineHasNone() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    owners.put(t.path("unified"), UID); // even an owned v2 directory does not help: the controllers are v1
    Delegation d = detect(t);
    assertThat(d.delegated()).isFalse();
    String found = "hybrid host: controllers blkio cpu cpuacct cpuset devices freezer memory pids are cgroup v1,"
        + " which is not delegated to users; the cgroup v2 hierarchy at " + t.path("unified") + " has controllers hugetlb";
    assertThat(d.finding()).isEqualTo(found);
    assertThat(d.refusal(Resources.builder().memoryMax(64 << 20).build()))
        .contains("rootless: --memory needs a delegated cgroup v2 subtree (none found for uid 1000: " + found
            + "; see docs/rootless.md)");
  }

  @Test
  void aLegacyHostAndAHostWithoutCgroupsHaveNone() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, false);
    assertThat(detect(t).finding())
        .isEqualTo("cgroup v1 host: controllers blkio cpu cpuacct cpuset devices freezer memory pids, no cgroup v2 hierarchy");
    t.put(t.procRoot.resolve("self/mountinfo"), "garbage\n\n1 2 3\n");
    assertThat(detect(t).finding()).isEqualTo("no cgroup file system mounted (" + t.procRoot.resolve("self/mountinfo") + ")");
  }

  @Test
  void aMissingOrHostileOwnCgroupIsNotDelegation() {
    FakeCgroupTree t = scope("cpu io memory pids");
    delegate(t, SCOPE);
    Path cg = t.procRoot.resolve("self/cgroup");
    t.put(cg, "0::/gone.scope\n");
    assertThat(detect(t).finding()).isEqualTo(t.path("gone.scope") + " does not exist (the JVM's cgroup from " + cg + ")");
    t.put(cg, "1:name=systemd:/x\n");
    assertThat(detect(t).finding()).isEqualTo("no cgroup v2 line (0::/path) in " + cg);
    t.put(cg, "0::/" + SCOPE + "/../../../../../../..\n");
    assertThat(detect(t).finding()).isEqualTo("the cgroup /" + SCOPE + "/../../../../../../.. of " + cg + " lies outside "
        + t.cgroupRoot);
    t.put(cg, "0::relative\n");
    assertThat(detect(t).finding()).isEqualTo("no cgroup v2 line (0::/path) in " + cg);
  }

  @Test
  void optionsAreNamedAsTheUserGaveThem() {
    Resources r = Resources.builder().cpus(1).cpuShares(512).cpusetCpus("0").memoryMax(64 << 20)
        .memorySwap(128 << 20).pidsMax(9).ioWeight(100).deviceThrottle(DeviceThrottle.readBps(8, 0, 1 << 20))
        .unified("memory.oom.group", "1").build();
    assertThat(Delegation.options(r)).containsExactly(Map.entry("--memory", "memory"),
        Map.entry("--memory-swap", "memory"), Map.entry("--cpus", "cpu"), Map.entry("--cpu-shares", "cpu"),
        Map.entry("--cpuset-cpus", "cpuset"), Map.entry("--blkio-weight", "io"), Map.entry("--device-read-bps", "io"),
        Map.entry("--pids-limit", "pids"), Map.entry("--cgroup-conf memory.oom.group", "memory"));
    Delegation none = Delegation.none(UID, "hybrid host");
    assertThat(none.refusal(Resources.builder().unified("pids.max", "3").build()))
        .contains("rootless: --cgroup-conf pids.max needs a delegated cgroup v2 subtree (none found for uid 1000:"
            + " hybrid host; see docs/rootless.md)");
    assertThat(none.refusal(Resources.builder().deviceRule(DeviceRule.parse("c 1:3 rwm")).build()))
        .hasValueSatisfying(m -> assertThat(m).startsWith("rootless: --device-cgroup-rule needs a BPF device program"));
  }

  @Test
  void theUnprivilegedDriverMovesTheJvmToALeafAndHasNoDevicePolicy() {
    FakeCgroupTree t = scope("cpu io memory pids", 4242);
    delegate(t, SCOPE);
    CgroupDriver.Options o = t.options().unprivileged(true).moveSelfToLeaf(true).selfLeafName("supervisor").build();
    try (CgroupDriver d = Drivers.create(o, t.sys, t)) {
      assertThat(d.devicePolicySupported()).isFalse();
      try (Cgroup cg = d.create("c1", Resources.builder().memoryMax(1 << 20).pidsMax(20).build())) {
        assertThat(cg.unifiedPath()).contains(t.path(SCOPE + "/berth/c1"));
        assertThat(t.get(SCOPE + "/supervisor/cgroup.procs")).isEqualTo("4242\n");
        assertThat(t.get(SCOPE + "/cgroup.procs")).isBlank();
        assertThat(t.get(SCOPE + "/berth/c1/memory.max")).isEqualTo("1048576");
        assertThat(t.get(SCOPE + "/berth/c1/pids.max")).isEqualTo("20");
      }
    }
    assertThat(t.path(SCOPE + "/berth")).doesNotExist();
    assertThat(t.writes).noneMatch(w -> !w.startsWith(SCOPE + "/")); // nothing above the delegated cgroup
  }

  @Test
  void theUnprivilegedDriverRefusesAHybridHost() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    assertThatThrownBy(() -> Drivers.create(t.options().unprivileged(true).build(), t.sys, t))
        .isInstanceOf(CgroupException.class)
        .hasMessage("unprivileged cgroups need a cgroup v2 only host (a delegated subtree), but " + t.cgroupRoot
            + " is hybrid (cgroup v1 controllers)");
    assertThat(List.of(t.path("unified/berth"), t.path("memory/berth"))).allMatch(p -> !Files.exists(p));
  }
}
