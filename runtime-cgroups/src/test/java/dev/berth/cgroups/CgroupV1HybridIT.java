package dev.berth.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.cgroups.testing.RequiresRoot;
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

  /** create (memory, pids, cpu limits) + remove latency on this host; figures quoted in docs/cgroups.md. */
  @Test
  void createConfigureRemoveLatency() {
    Resources r = Resources.builder().memoryMax(256 << 20).memorySwap(256 << 20).pidsMax(1024).cpus(1).build();
    int n = 200;
    long[] create = new long[n];
    long[] remove = new long[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      Cgroup cg = driver.create("lat-" + i, r);
      long t1 = System.nanoTime();
      cg.remove();
      long t2 = System.nanoTime();
      create[i] = t1 - t0;
      remove[i] = t2 - t1;
    }
    java.util.Arrays.sort(create);
    java.util.Arrays.sort(remove);
    System.out.printf("cgroup latency (%s, %d runs): create+configure median %.2f ms p90 %.2f ms; remove median %.2f ms p90 %.2f ms%n",
        driver.mode(), n, create[n / 2] / 1e6, create[n * 9 / 10] / 1e6, remove[n / 2] / 1e6, remove[n * 9 / 10] / 1e6);
    assertThat(create[n / 2] + remove[n / 2]).as("median create+remove").isLessThan(50_000_000L);
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
