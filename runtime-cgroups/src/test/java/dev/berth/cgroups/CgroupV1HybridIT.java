package dev.berth.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.testing.RequiresRoot;
import dev.berth.cgroups.testing.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The enforcement scenarios on this host's cgroup v1 controllers (hybrid: v2 at
 * /sys/fs/cgroup/unified used for tracking, kill, freeze and PSI), plus the pure-v1 paths
 * (freezer.state, SIGKILL loop) with the v2 hierarchy switched off.
 */
@RequiresRoot
class CgroupV1HybridIT extends EnforcementScenarios {

  @BeforeAll
  static void requireV1Host() {
    try (CgroupDriver d = CgroupDriver.detect()) {
      assumeTrue(d.mode() != CgroupMode.UNIFIED, "requires a cgroup v1 (hybrid or legacy) host, found " + d.mode());
    }
  }

  @Override
  protected CgroupDriver newDriver(String parent) {
    return CgroupDriver.detect(CgroupDriver.Options.builder().parent(parent).build());
  }

  @Test
  void detectsThisHostAndNestsBelowOwnCgroups() throws Exception {
    assertThat(driver.mode()).isIn(CgroupMode.HYBRID, CgroupMode.LEGACY);
    String own = Files.readString(Path.of("/proc/self/cgroup"));
    for (String line : own.split("\n")) {
      String[] f = line.split(":", 3);
      if (!f[1].equals("memory")) continue;
      Path expected = Path.of("/sys/fs/cgroup/memory" + (f[2].equals("/") ? "" : f[2]));
      assertThat(driver.parentPaths()).anySatisfy(p -> assertThat(p.getParent()).isEqualTo(expected));
    }
    Cgroup cg = create("where", Resources.builder().memoryMax(64 << 20).build());
    if (driver.mode() == CgroupMode.HYBRID) {
      assertThat(cg.unifiedPath()).isPresent();
      assertThat(cg.procsFiles()).contains(cg.unifiedPath().get().resolve("cgroup.procs"));
    }
    Workload w = start(cg, "cat /proc/self/cgroup; exec sleep 60");
    w.awaitLine("4:memory:" + driver.parentPaths().stream().filter(p -> p.toString().contains("/memory/")).findFirst()
        .orElseThrow().resolve("where").toString().substring("/sys/fs/cgroup/memory".length()), 10);
  }

  @Test
  void pureV1FreezerAndSigkillLoop() throws Exception {
    try (CgroupDriver v1 = CgroupDriver.detect(CgroupDriver.Options.builder()
        .parent("berth-it-v1-" + UUID.randomUUID().toString().substring(0, 8)).useUnifiedOnHybrid(false).build())) {
      Cgroup cg = v1.create("v1only", Resources.none());
      try {
        assertThat(cg.unifiedPath()).isEmpty();
        freezeScenario(cg);
        // kill while frozen: the v1 path must thaw so SIGKILL is delivered
        Workload extra = start(cg, "exec sleep 60");
        cg.freeze();
        cg.killAll();
        assertThat(cg.pids()).isEmpty();
        assertThat(extra.waitFor(10)).isEqualTo(137);
      } finally {
        cg.remove();
      }
      assertThat(cg.paths()).allSatisfy(p -> assertThat(p).doesNotExist());
    }
  }

  /**
   * The v1 devices controller, as a legacy host (no v2 hierarchy) uses it: the shared scenario
   * above runs the BPF program that hybrid hosts put on the v2 directory. The workload's v2 cgroup
   * has no program here, so the controller alone decides.
   */
  @Test
  void devicesControllerOfALegacyHost() throws Exception {
    try (CgroupDriver v1 = CgroupDriver.detect(CgroupDriver.Options.builder()
        .parent("berth-it-v1dev-" + UUID.randomUUID().toString().substring(0, 8)).useUnifiedOnHybrid(false).build())) {
      Cgroup cg = v1.create("dev", Resources.builder().deviceRule(DeviceRule.parse("c 1:3 rw")).build());
      try {
        assertThat(cg.unifiedPath()).isEmpty();
        Path devices = cg.paths().stream().filter(p -> p.toString().contains("/devices/")).findFirst().orElseThrow();
        assertThat(Files.readString(devices.resolve("devices.list"))).isEqualTo("c 1:3 rw\n");
        Workload w = start(cg, "echo x >/dev/null && echo null-write; "
            + "(head -c1 /dev/zero >/dev/null) 2>/dev/null && echo zero-read; echo done");
        w.awaitLine("done", 20);
        assertThat(w.waitFor(20)).isZero();
        assertThat(w.out).containsExactly("null-write", "done");
      } finally {
        cg.remove();
      }
    }
  }

  @Test
  void v1CannotHonourIsReported() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> create("nope",
            Resources.builder().memoryMax(64 << 20).memoryHigh(32 << 20).unified("memory.oom.group", "1").build()))
        .isInstanceOf(CgroupException.class)
        .hasMessageContaining("memory.high").hasMessageContaining("[memory.oom.group]");
    assertThat(driver.list()).isEmpty();
  }

  @Test
  void updatingALimitOfAnUnjoinedHierarchyIsAClearError() {
    Cgroup cg = create("unjoined", Resources.none());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> cg.update(Resources.builder().pidsMax(10).build()))
        .isInstanceOf(CgroupException.class)
        .hasMessageContaining("cgroup unjoined: cannot set a pids limit");
  }

  @Test
  void writeErrorFromTheKernelNamesFileValueAndErrno() {
    Cgroup cg = create("err", Resources.builder().cpusetCpus("0").build());
    // cpuset.cpus outside the machine's CPUs: the kernel answers EINVAL
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> cg.update(Resources.builder().cpusetCpus("4096").build()))
        .isInstanceOf(CgroupException.class)
        .hasMessageMatching("write /sys/fs/cgroup/cpuset/.*/err/cpuset.cpus \"4096\": .+");
  }
}
