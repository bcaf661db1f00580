package dev.berth.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.cgroups.internal.linux.LinuxSyscalls;
import dev.berth.cgroups.internal.linux.Syscalls;
import dev.berth.testing.RequiresRoot;
import dev.berth.cgroups.testing.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The v2 driver against this hybrid host's controller-less cgroup2 hierarchy at
 * /sys/fs/cgroup/unified: placement, cgroup.procs, cgroup.freeze/events, cgroup.kill, cpu.stat, PSI
 * and cleanup work without controllers.
 */
@RequiresRoot
class CgroupV2UnifiedHostIT {
  static final Path UNIFIED = Paths.get("/sys/fs/cgroup/unified");
  CgroupDriver driver;
  final List<Workload> workloads = new ArrayList<>();
  final List<Cgroup> cgroups = new ArrayList<>();

  @BeforeEach
  void setUp() {
    long magic = -1;
    try {
      magic = LinuxSyscalls.get().statfsType(UNIFIED.toString());
    } catch (RuntimeException e) {
      // not mounted
    }
    assumeTrue(magic == Syscalls.CGROUP2_SUPER_MAGIC, "requires a cgroup2 hierarchy at " + UNIFIED + " (hybrid host)");
    driver = CgroupDriver.detect(CgroupDriver.Options.builder().cgroupRoot(UNIFIED).forceMode(CgroupMode.UNIFIED)
        .parent("berth-it-" + UUID.randomUUID().toString().substring(0, 8)).build());
  }

  @AfterEach
  void tearDown() {
    workloads.forEach(Workload::close);
    for (Cgroup c : cgroups) {
      try {
        c.remove();
      } catch (RuntimeException e) {
        System.err.println("cleanup: " + e.getMessage());
      }
    }
    if (driver != null) {
      List<Path> parents = driver.parentPaths();
      driver.close();
      parents.forEach(p -> assertThat(p).doesNotExist());
    }
  }

  @Test
  void trackingFreezeKillStatsAndCleanupWithoutControllers() throws Exception {
    Cgroup cg = driver.create("track", Resources.none());
    cgroups.add(cg);
    Path dir = cg.unifiedPath().orElseThrow();
    assertThat(dir.getParent()).isEqualTo(driver.parentPaths().get(0));
    Workload w = Workload.startIn(cg, "i=0; while :; do i=$((i+1)); echo $i; done");
    workloads.add(w);
    Workload s = Workload.startIn(cg, "for i in 1 2 3; do sleep 60 & done; exec sleep 60");
    workloads.add(s);
    EnforcementScenarios.await("counter", 10_000, () -> w.outLines.get() > 100);
    EnforcementScenarios.await("5 processes", 10_000, () -> cg.pids().size() == 5);
    assertThat(Files.readString(Paths.get("/proc", Long.toString(w.pid()), "cgroup")))
        .contains("0::/" + UNIFIED.relativize(dir));
    cg.freeze();
    assertThat(cg.frozen()).isTrue();
    assertThat(Files.readString(dir.resolve("cgroup.events"))).contains("frozen 1");
    Thread.sleep(200);
    long a = w.outLines.get();
    Thread.sleep(500);
    assertThat(w.outLines.get()).isEqualTo(a);
    cg.thaw();
    EnforcementScenarios.await("progress", 10_000, () -> w.outLines.get() > a + 100);
    CgroupStats st = cg.stats();
    assertThat(st.cpu().usageUsec()).isGreaterThan(0);
    assertThat(st.cpu().nrThrottled()).isEqualTo(CgroupStats.UNAVAILABLE);
    assertThat(st.memory().available()).isFalse();
    assertThat(st.cpuPressure().available()).isTrue();
    assertThat(cg.oomKillCount()).isZero();
    cg.killAll();
    assertThat(cg.pids()).isEmpty();
    assertThat(w.waitFor(10)).isEqualTo(137);
    assertThat(s.waitFor(10)).isEqualTo(137);
    cg.remove();
    assertThat(dir).doesNotExist();
  }

  @Test
  void removeKillsAndCyclesLeaveNothing() throws Exception {
    for (int i = 0; i < 30; i++) {
      Cgroup cg = driver.create("c" + i, Resources.none());
      cgroups.add(cg);
      if (i % 5 == 0) workloads.add(Workload.startIn(cg, "exec sleep 60"));
      cg.close();
      assertThat(cg.unifiedPath().orElseThrow()).doesNotExist();
    }
    assertThat(driver.list()).isEmpty();
  }

  @Test
  void limitsNeedingMissingControllersAreDiagnosed() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> driver.create("nomem",
            Resources.builder().memoryMax(64 << 20).build()))
        .isInstanceOf(CgroupException.class)
        .hasMessageContaining("controller 'memory' is not available in " + UNIFIED + "/cgroup.controllers");
    assertThat(driver.list()).isEmpty();
  }
}
