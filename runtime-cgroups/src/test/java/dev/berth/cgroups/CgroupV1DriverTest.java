package dev.berth.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.cgroups.internal.Drivers;
import dev.berth.cgroups.testing.FakeCgroupTree;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CgroupV1DriverTest {
  @TempDir Path tmp;
  private static final String MEM = "memory/process_api/7bbfb7adfb4b799025eb6cabaffe632f/berth/c1";

  @Test
  void writesEveryLimitToItsV1File() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    Resources r = Resources.builder().cpus(0.5).cpuWeight(100).cpusetCpus("1").memoryMax(32 << 20)
        .memorySwap(64 << 20).memoryReservation(16 << 20).ioWeight(10_000)
        .deviceThrottle(DeviceThrottle.readBps(8, 0, 1_048_576).merge(DeviceThrottle.writeIops(8, 0, 50)))
        .pidsMax(0).build();
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t); Cgroup cg = d.create("c1", r)) {
      assertThat(t.get("cpu/berth/c1/cpu.cfs_period_us")).isEqualTo("100000");
      assertThat(t.get("cpu/berth/c1/cpu.cfs_quota_us")).isEqualTo("50000");
      assertThat(t.get("cpu/berth/c1/cpu.shares")).isEqualTo("2597");
      assertThat(t.get("cpuset/berth/c1/cpuset.cpus")).isEqualTo("1");
      assertThat(t.get("cpuset/berth/c1/cpuset.mems")).as("inherited from parent").isEqualTo("0");
      assertThat(t.get("cpuset/berth/cpuset.cpus")).as("new parent initialised").isEqualTo("0-1");
      assertThat(t.get(MEM + "/memory.limit_in_bytes")).isEqualTo(Long.toString(32 << 20));
      assertThat(t.get(MEM + "/memory.memsw.limit_in_bytes")).as("docker total").isEqualTo(Long.toString(64 << 20));
      assertThat(t.get(MEM + "/memory.soft_limit_in_bytes")).isEqualTo(Long.toString(16 << 20));
      assertThat(t.get("blkio/berth/c1/blkio.weight")).isEqualTo("1000");
      assertThat(t.get("blkio/berth/c1/blkio.throttle.read_bps_device")).isEqualTo("8:0 1048576\n");
      assertThat(t.get("blkio/berth/c1/blkio.throttle.write_iops_device")).isEqualTo("8:0 50\n");
      assertThat(t.get("blkio/berth/c1/blkio.throttle.write_bps_device")).isEmpty();
      assertThat(t.get("pids/berth/c1/pids.max")).isEqualTo("1");
      assertThat(t.writesUnder("memory").indexOf(MEM + "/memory.limit_in_bytes=" + (32 << 20)))
          .isLessThan(t.writesUnder("memory").indexOf(MEM + "/memory.memsw.limit_in_bytes=" + (64 << 20)));
      // joined: the hierarchies whose controllers carry a limit, plus v2 for tracking; not the freezer
      assertThat(cg.procsFiles()).containsExactly(
          t.path("cpu/berth/c1/cgroup.procs"), t.path("cpuacct/berth/c1/cgroup.procs"),
          t.path("cpuset/berth/c1/cgroup.procs"), t.path(MEM + "/cgroup.procs"),
          t.path("blkio/berth/c1/cgroup.procs"), t.path("pids/berth/c1/cgroup.procs"), t.path("unified/berth/c1/cgroup.procs"));
      assertThat(t.path("freezer/berth/c1")).doesNotExist();
      assertThat(cg.unifiedPath()).contains(t.path("unified/berth/c1"));
      assertThat(t.writesUnder("unified/berth/c1")).as("no limits in the controller-less v2 tree").isEmpty();
      assertThat(t.writesUnder("devices")).isEmpty();
      assertThat(t.writesUnder("systemd")).isEmpty();
    }
    for (String h : List.of("cpu", "cpuacct", "cpuset", "freezer", "blkio", "pids", "unified")) {
      assertThat(t.path(h + "/berth/c1")).doesNotExist();
    }
    assertThat(t.path(MEM)).doesNotExist();
  }

  @Test
  void aMemoryOrCpuLimitJoinsEveryHierarchyAProcessSizesItselfBy() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t);
        Cgroup mem = d.create("c1", Resources.builder().memoryMax(64 << 20).build());
        Cgroup cpu = d.create("c2", Resources.builder().cpus(1).build())) {
      for (Cgroup cg : List.of(mem, cpu)) {
        // the JDK reads cgroup v1 limits only when cpu, cpuacct, cpuset and memory are all there
        assertThat(cg.v1Directories()).extracting(Cgroup.V1Directory::hierarchy)
            .containsExactlyInAnyOrder("cpu", "cpuacct", "cpuset", "memory");
        assertThat(cg.v1Directories()).allSatisfy(v -> assertThat(v.path()).endsWith(Path.of(cg.name())));
        assertThat(t.get("cpuset/berth/" + cg.name() + "/cpuset.cpus")).as("runnable: the parent's CPUs").isEqualTo("0-1");
        assertThat(t.path("freezer/berth/" + cg.name())).doesNotExist();
      }
      assertThat(t.writesUnder("cpu/berth/c1")).as("no CPU limit made up").isEmpty();
      assertThat(t.writesUnder("memory").stream().filter(w -> w.contains("/c2/"))).as("no memory limit made up").isEmpty();
      assertThat(mem.v1Directories()).filteredOn(v -> v.hierarchy().equals("memory")).singleElement()
          .satisfies(v -> assertThat(v.controllers()).containsExactly("memory"))
          .satisfies(v -> assertThat(v.path()).isEqualTo(t.path(MEM)));
      // a limit on a hierarchy joined for sizing can be set later
      cpu.update(Resources.builder().memoryMax(32 << 20).build());
      assertThat(t.get(MEM.replace("/c1", "/c2") + "/memory.limit_in_bytes")).isEqualTo(Long.toString(32 << 20));
    }
  }

  @Test
  void refusesWhatV1CannotHonourListingAll() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      Resources r = Resources.builder().memoryMax(1 << 20).memoryHigh(1 << 19)
          .unified("memory.oom.group", "1").unified("cpu.idle", "1").build();
      assertThatThrownBy(() -> d.create("c1", r)).isInstanceOf(CgroupException.class)
          .hasMessageContaining("cannot honour")
          .hasMessageContaining("memory.high")
          .hasMessageContaining("[cpu.idle, memory.oom.group]");
      assertThat(t.path("pids/berth/c1")).doesNotExist();
    }
  }

  @Test
  void refusesIoWeightWithoutProportionalScheduler() throws Exception {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    Files.delete(t.path("blkio/blkio.weight"));
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      assertThatThrownBy(() -> d.create("c1", Resources.builder().ioWeight(100).build()))
          .hasMessageContaining("io.weight (neither blkio.weight nor blkio.bfq.weight exists");
    }
  }

  @Test
  void writeFailureRollsBackEveryHierarchy() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    t.failWrites.put("pids/berth/c1/pids.max", "Invalid argument");
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      assertThatThrownBy(() -> d.create("c1", Resources.builder().pidsMax(5).build()))
          .hasMessage("write " + t.path("pids/berth/c1/pids.max") + " \"5\": Invalid argument");
      assertThat(d.list()).isEmpty();
    }
  }

  @Test
  void hybridUsesV2KillAndFreeze() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t); Cgroup cg = d.create("c1", Resources.none())) {
      // without limits a hybrid container lives in the v2 hierarchy alone: no v1 join to pay for
      assertThat(cg.procsFiles()).containsExactly(t.path("unified/berth/c1/cgroup.procs"));
      for (String h : List.of("cpu", "cpuacct", "cpuset", "freezer", "blkio", "pids")) {
        assertThat(t.path(h + "/berth/c1")).doesNotExist();
      }
      cg.addProcess(500);
      assertThat(t.get("unified/berth/c1/cgroup.procs")).isEqualTo("500\n");
      cg.freeze();
      assertThat(t.writesUnder("unified/berth/c1/cgroup.freeze")).containsExactly("unified/berth/c1/cgroup.freeze=1");
      assertThat(t.writesUnder("freezer/berth/c1/freezer.state")).isEmpty();
      cg.thaw();
      cg.killAll();
      assertThat(t.writesUnder("unified/berth/c1/cgroup.kill")).hasSize(1);
    }
  }

  @Test
  void legacyUsesV1FreezerAndSigkillLoop() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, false);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t); Cgroup cg = d.create("c1", Resources.none())) {
      assertThat(cg.unifiedPath()).isEmpty();
      cg.addProcess(500);
      cg.addProcess(501);
      cg.freeze();
      assertThat(t.get("freezer/berth/c1/freezer.state")).isEqualTo("FROZEN");
      assertThat(cg.frozen()).isTrue();
      cg.killAll();
      assertThat(t.sys.kills).extracting(k -> k[0] + ":" + k[1]).containsExactly("500:9", "501:9");
      assertThat(t.get("freezer/berth/c1/freezer.state")).as("thawed so SIGKILL takes effect").isEqualTo("THAWED");
      assertThat(cg.pids()).isEmpty();
    }
  }

  @Test
  void exitingTasksListedAsPidZeroAreIgnored() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, false);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t); Cgroup cg = d.create("c1", Resources.none())) {
      cg.addProcess(500);
      t.put("pids/berth/c1/cgroup.procs", "0\n500\n");
      assertThat(cg.pids()).containsExactly(500L);
      t.put("pids/berth/c1/cgroup.procs", "500\n");
      cg.killAll();
      assertThat(t.sys.kills).extracting(k -> k[0]).containsExactly(500L);
    }
  }

  @Test
  void killAllIsBounded() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, false);
    t.sys.onKill = pid -> {}; // an unkillable process
    try (CgroupDriver d = Drivers.create(t.options().timeout(java.time.Duration.ofMillis(300)).build(), t.sys, t)) {
      Cgroup cg = d.create("c1", Resources.none());
      cg.addProcess(777);
      long start = System.currentTimeMillis();
      assertThatThrownBy(cg::killAll).hasMessageContaining("[777] still present");
      assertThat(System.currentTimeMillis() - start).isLessThan(3000);
      assertThatThrownBy(cg::remove).hasMessageContaining("Device or resource busy");
      t.dropPid(777);
    }
  }

  @Test
  void v1StatsMappedToCommonNames() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    Resources limits = Resources.builder().cpus(2).memoryMax(1L << 30).pidsMax(1000).ioWeight(100).build();
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t); Cgroup cg = d.create("c1", limits)) {
      t.put("cpuacct/berth/c1/cpuacct.usage", "2004052123\n");
      t.put("cpuacct/berth/c1/cpuacct.stat", "user 150\nsystem 50\n");
      t.put("cpu/berth/c1/cpu.stat", "nr_periods 20\nnr_throttled 19\nthrottled_time 949326000\nnr_bursts 0\nburst_time 0\n");
      t.put(MEM + "/memory.usage_in_bytes", "33554432\n");
      t.put(MEM + "/memory.max_usage_in_bytes", "33562624\n");
      t.put(MEM + "/memory.stat", "cache 1359872\nrss 30932992\nrss_huge 0\nshmem 8192\nmapped_file 12288\npgfault 8377\n"
          + "pgmajfault 3\ntotal_cache 1359872\ntotal_rss 30932992\ntotal_shmem 8192\ntotal_mapped_file 12288\n"
          + "total_pgfault 8377\ntotal_pgmajfault 3\n");
      t.put("blkio/berth/c1/blkio.throttle.io_service_bytes", "8:0 Read 1048576\n8:0 Write 4194304\n8:0 Sync 0\n"
          + "8:0 Async 5242880\n8:0 Discard 0\n8:0 Total 5242880\nTotal 5242880\n");
      t.put("blkio/berth/c1/blkio.throttle.io_serviced", "8:0 Read 16\n8:0 Write 64\n8:0 Total 80\nTotal 80\n");
      t.put("pids/berth/c1/pids.current", "7\n");
      t.put("unified/berth/c1/io.pressure", "some avg10=1.00 avg60=2.00 avg300=3.00 total=42\nfull avg10=0.50 avg60=0.25 avg300=0.10 total=21\n");
      CgroupStats s = cg.stats();
      CgroupStats.Cpu cpu = s.cpu();
      assertThat(cpu.usageUsec()).isEqualTo(2004052);
      assertThat(cpu.userUsec()).isEqualTo(1_500_000);
      assertThat(cpu.systemUsec()).isEqualTo(500_000);
      assertThat(cpu.nrThrottled()).isEqualTo(19);
      assertThat(cpu.throttledUsec()).isEqualTo(949326);
      CgroupStats.Memory m = s.memory();
      assertThat(m.current()).isEqualTo(33554432);
      assertThat(m.peak()).isEqualTo(33562624);
      assertThat(m.anon()).isEqualTo(30932992);
      assertThat(m.file()).isEqualTo(1359872);
      assertThat(m.stat("file_mapped")).isEqualTo(12288);
      assertThat(m.pgmajfault()).isEqualTo(3);
      assertThat(m.kernelStack()).isEqualTo(CgroupStats.UNAVAILABLE);
      assertThat(m.raw()).containsEntry("rss", 30932992L);
      assertThat(s.io()).containsExactly(new CgroupStats.IoDevice(8, 0, 1048576, 4194304, 16, 64));
      assertThat(s.pids()).isEqualTo(7);
      assertThat(s.ioPressure().full()).isEqualTo(new CgroupStats.Psi(0.5, 0.25, 0.1, 21));
    }
  }

  @Test
  void oomKillCounterPolledAndDeliveredOnce() throws Exception {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t);
        Cgroup cg = d.create("c1", Resources.builder().memoryMax(1 << 20).build())) {
      List<OomEvent> events = new CopyOnWriteArrayList<>();
      cg.onOom(events::add);
      assertThat(cg.oomKillCount()).isZero();
      t.put(MEM + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
      CgroupV2DriverTest.awaitSize(events, 1);
      Thread.sleep(400);
      assertThat(events).hasSize(1);
      assertThat(events.get(0).kind()).isEqualTo(OomEvent.Kind.OOM_KILL);
      assertThat(events.get(0).count()).isEqualTo(1);
      assertThat(cg.oomKillCount()).isEqualTo(1);
      cg.remove();
      assertThat(events).hasSize(1);
    }
  }

  @Test
  void openAndListExisting() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      d.create("a", Resources.builder().memoryMax(64 << 20).pidsMax(10).build());
      d.create("b", Resources.none());
      assertThat(d.list()).containsExactly("a", "b");
      Cgroup a = d.open("a").orElseThrow();
      assertThat(a.paths()).hasSize(6);                       // cpu, cpuacct, cpuset, memory, pids, unified
      assertThat(d.open("b").orElseThrow().paths()).hasSize(1); // unified
      a.remove();
      d.open("b").orElseThrow().remove();
      assertThat(d.list()).isEmpty();
    }
  }
}
