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

class CgroupV2DriverTest {
  @TempDir Path tmp;

  private static final String OWN = "user.slice/app.scope";
  private static final String LEAF = OWN + "/berth/c1";

  private FakeCgroupTree tree(long... ownProcs) {
    return FakeCgroupTree.v2(tmp, "/" + OWN, FakeCgroupTree.ALL_V2, FakeCgroupTree.ALL_V2, ownProcs);
  }

  @Test
  void writesEveryLimitToItsV2File() {
    FakeCgroupTree t = tree();
    Resources r = Resources.builder().cpus(0.5).cpuShares(1024).cpusetCpus("0-1").cpusetMems("0")
        .memoryMax(64 << 20).memoryHigh(48 << 20).memoryReservation(16 << 20).memorySwap(96 << 20)
        .ioWeight(500).deviceThrottle(DeviceThrottle.readBps(8, 0, 1_048_576))
        .deviceThrottle(DeviceThrottle.writeIops(8, 0, 100)).deviceThrottle(DeviceThrottle.writeBps(253, 1, 2048))
        .pidsMax(64).unified("memory.oom.group", "1").build();
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t); Cgroup cg = d.create("c1", r)) {
      assertThat(t.get(LEAF + "/cpu.max")).isEqualTo("50000 100000");
      assertThat(t.get(LEAF + "/cpu.weight")).isEqualTo("39");
      assertThat(t.get(LEAF + "/cpuset.cpus")).isEqualTo("0-1");
      assertThat(t.get(LEAF + "/cpuset.mems")).isEqualTo("0");
      assertThat(t.get(LEAF + "/memory.max")).isEqualTo(Long.toString(64 << 20));
      assertThat(t.get(LEAF + "/memory.high")).isEqualTo(Long.toString(48 << 20));
      assertThat(t.get(LEAF + "/memory.low")).isEqualTo(Long.toString(16 << 20));
      assertThat(t.get(LEAF + "/memory.swap.max")).isEqualTo(Long.toString(32 << 20));
      assertThat(t.get(LEAF + "/io.weight")).isEqualTo("default 500");
      assertThat(t.get(LEAF + "/io.max")).isEqualTo("8:0 rbps=1048576 wiops=100\n253:1 wbps=2048\n");
      assertThat(t.get(LEAF + "/pids.max")).isEqualTo("64");
      assertThat(t.get(LEAF + "/memory.oom.group")).isEqualTo("1");
      // controllers enabled top-down in the own cgroup and the berth parent, never above
      assertThat(t.get(OWN + "/cgroup.subtree_control").trim().split(" ")).contains("cpu", "cpuset", "io", "memory", "pids");
      assertThat(t.get(OWN + "/berth/cgroup.subtree_control").trim().split(" ")).contains("cpu", "cpuset", "io", "memory", "pids");
      assertThat(t.writesUnder("user.slice/cgroup.subtree_control")).isEmpty();
      assertThat(t.writesUnder("cgroup.subtree_control")).isEmpty();
      assertThat(cg.procsFiles()).containsExactly(t.path(LEAF + "/cgroup.procs"));
      assertThat(cg.unifiedPath()).contains(t.path(LEAF));
    }
    assertThat(t.path(LEAF)).doesNotExist();
  }

  @Test
  void unsetFieldsAreNotWritten() {
    FakeCgroupTree t = tree();
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t); Cgroup cg = d.create("c1", Resources.builder().pidsMax(-1).build())) {
      assertThat(t.writesUnder(LEAF)).containsExactly(LEAF + "/pids.max=max");
    }
  }

  @Test
  void writeErrorNamesFileValueAndErrno() {
    FakeCgroupTree t = tree();
    t.failWrites.put(LEAF + "/memory.max", "Invalid argument");
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      assertThatThrownBy(() -> d.create("c1", Resources.builder().memoryMax(65536).build()))
          .isInstanceOf(CgroupException.class)
          .hasMessage("write " + t.path(LEAF + "/memory.max") + " \"65536\": Invalid argument");
      assertThat(t.path(LEAF)).as("rolled back").doesNotExist();
    }
  }

  @Test
  void noInternalProcessesDiagnostic() {
    FakeCgroupTree t = tree(1234, 5678);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      assertThatThrownBy(() -> d.create("c1", Resources.builder().memoryMax(1 << 20).build()))
          .isInstanceOf(CgroupException.class)
          .hasMessageContaining("cgroup.subtree_control")
          .hasMessageContaining("Device or resource busy")
          .hasMessageContaining("'memory'")
          .hasMessageContaining("pids 1234 5678")
          .hasMessageContaining("no-internal-processes")
          .hasMessageContaining("moveSelfToLeaf(true)");
      // without limits it still works (tracking only, accounting controllers best-effort)
      try (Cgroup cg = d.create("plain", Resources.none())) {
        assertThat(cg.unifiedPath()).isPresent();
      }
    }
  }

  @Test
  void moveSelfToLeafOptIn() {
    FakeCgroupTree t = tree(1234, 5678);
    try (CgroupDriver d = Drivers.create(t.options().moveSelfToLeaf(true).build(), t.sys, t);
        Cgroup cg = d.create("c1", Resources.builder().memoryMax(1 << 20).build())) {
      assertThat(t.get(OWN + "/jvm/cgroup.procs")).isEqualTo("1234\n5678\n");
      assertThat(t.get(OWN + "/cgroup.procs")).isBlank();
      assertThat(t.get(OWN + "/cgroup.subtree_control")).contains("memory");
      assertThat(t.get(LEAF + "/memory.max")).isEqualTo("1048576");
    }
  }

  @Test
  void missingControllerDiagnostic() {
    FakeCgroupTree t = FakeCgroupTree.v2(tmp, "/" + OWN, FakeCgroupTree.ALL_V2, "cpu memory pids");
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      assertThatThrownBy(() -> d.create("c1", Resources.builder().ioWeight(100).build()))
          .isInstanceOf(CgroupException.class)
          .hasMessageContaining("controller 'io' is not available in " + t.path(OWN) + "/cgroup.controllers")
          .hasMessageContaining("available: cpu memory pids")
          .hasMessageContaining("Delegate=yes");
      assertThat(t.path(LEAF)).doesNotExist();
    }
  }

  @Test
  void rootCgroupIsExemptFromInternalProcessRule() {
    // The VM case: the JVM sits in the root cgroup.
    FakeCgroupTree t = FakeCgroupTree.v2(tmp, "/", FakeCgroupTree.ALL_V2, "", 1);
    t.put("cgroup.procs", "1\n77\n");
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t);
        Cgroup cg = d.create("c1", Resources.builder().pidsMax(10).build())) {
      assertThat(t.get("cgroup.subtree_control")).contains("pids");
      assertThat(t.get("berth/c1/pids.max")).isEqualTo("10");
    }
  }

  @Test
  void lifecycleProcsFreezeKillRemove() {
    FakeCgroupTree t = tree();
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      Cgroup cg = d.create("c1", Resources.none());
      cg.addProcess(4242);
      cg.addProcess(4243);
      assertThat(cg.pids()).containsExactly(4242L, 4243L);
      assertThat(d.list()).containsExactly("c1");
      cg.freeze();
      assertThat(t.get(LEAF + "/cgroup.freeze")).isEqualTo("1\n");
      assertThat(cg.frozen()).isTrue();
      cg.thaw();
      assertThat(cg.frozen()).isFalse();
      cg.killAll();
      assertThat(t.writesUnder(LEAF + "/cgroup.kill")).containsExactly(LEAF + "/cgroup.kill=1");
      assertThat(t.sys.kills).isEmpty();
      assertThat(cg.pids()).isEmpty();
      cg.remove();
      cg.remove();
      assertThat(t.path(LEAF)).doesNotExist();
      assertThat(d.open("c1")).isEmpty();
    }
    assertThat(t.path(OWN + "/berth")).as("parent created by the driver removed on close").doesNotExist();
  }

  @Test
  void removeKillsRemainingProcessesFirst() {
    FakeCgroupTree t = tree();
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      Cgroup cg = d.create("c1", Resources.none());
      cg.addProcess(99);
      cg.close();
      assertThat(t.path(LEAF)).doesNotExist();
      assertThat(t.writesUnder(LEAF + "/cgroup.kill")).hasSize(1);
    }
  }

  @Test
  void updateWritesOnlySetFieldsAndEnablesControllers() {
    FakeCgroupTree t = FakeCgroupTree.v2(tmp, "/" + OWN, FakeCgroupTree.ALL_V2, FakeCgroupTree.ALL_V2);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t); Cgroup cg = d.create("c1", Resources.none())) {
      assertThat(t.get(OWN + "/berth/cgroup.subtree_control")).doesNotContain("cpuset");
      Resources r = Resources.builder().cpusetCpus("1").memoryMax(1 << 20).build();
      cg.update(r);
      assertThat(t.get(OWN + "/berth/cgroup.subtree_control")).contains("cpuset");
      assertThat(t.get(LEAF + "/cpuset.cpus")).isEqualTo("1");
      assertThat(t.writesUnder(LEAF)).containsExactly(LEAF + "/cpuset.cpus=1", LEAF + "/memory.max=1048576");
      assertThat(cg.resources()).isEqualTo(r);
    }
  }

  @Test
  void existingCgroupIsNotReused() {
    FakeCgroupTree t = tree();
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t); Cgroup cg = d.create("c1", Resources.none())) {
      assertThatThrownBy(() -> d.create("c1", Resources.none())).hasMessageContaining("File exists");
      assertThat(d.open("c1")).isPresent();
    }
  }

  @Test
  void statsFromRealisticFiles() throws Exception {
    FakeCgroupTree t = tree();
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t); Cgroup cg = d.create("c1", Resources.none())) {
      t.put(LEAF + "/cpu.stat", "usage_usec 2004052\nuser_usec 1500000\nsystem_usec 504052\ncore_sched.force_idle_usec 0\n"
          + "nr_periods 20\nnr_throttled 19\nthrottled_usec 949326\nnr_bursts 0\nburst_usec 0\n");
      t.put(LEAF + "/memory.current", "33554432\n");
      t.put(LEAF + "/memory.peak", "33558528\n");
      t.put(LEAF + "/memory.stat", "anon 30932992\nfile 1359872\nkernel 1323008\nkernel_stack 16384\npagetables 98304\n"
          + "sec_pagetables 0\npercpu 0\nsock 4096\nvmalloc 0\nshmem 8192\nfile_mapped 0\nfile_dirty 0\n"
          + "pgfault 8377\npgmajfault 3\n");
      t.put(LEAF + "/io.stat", "8:0 rbytes=1048576 wbytes=4194304 rios=16 wios=64 dbytes=0 dios=0\n"
          + "7:0 rbytes=0 wbytes=2097152 rios=0 wios=32 dbytes=0 dios=0\n");
      t.put(LEAF + "/pids.current", "3\n");
      t.put(LEAF + "/cpu.pressure", "some avg10=12.50 avg60=3.21 avg300=0.75 total=981234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
      t.put(LEAF + "/memory.pressure", "some avg10=0.00 avg60=0.10 avg300=0.02 total=1500\nfull avg10=0.00 avg60=0.05 avg300=0.01 total=700\n");
      Files.delete(t.path(LEAF + "/io.pressure"));
      CgroupStats s = cg.stats();
      CgroupStats.Cpu cpu = s.cpu();
      assertThat(cpu.usageUsec()).isEqualTo(2004052);
      assertThat(cpu.userUsec()).isEqualTo(1500000);
      assertThat(cpu.systemUsec()).isEqualTo(504052);
      assertThat(cpu.nrPeriods()).isEqualTo(20);
      assertThat(cpu.nrThrottled()).isEqualTo(19);
      assertThat(cpu.throttledUsec()).isEqualTo(949326);
      CgroupStats.Memory m = s.memory();
      assertThat(m.current()).isEqualTo(33554432);
      assertThat(m.peak()).isEqualTo(33558528);
      assertThat(m.anon()).isEqualTo(30932992);
      assertThat(m.file()).isEqualTo(1359872);
      assertThat(m.kernelStack()).isEqualTo(16384);
      assertThat(m.sock()).isEqualTo(4096);
      assertThat(m.shmem()).isEqualTo(8192);
      assertThat(m.pgfault()).isEqualTo(8377);
      assertThat(m.pgmajfault()).isEqualTo(3);
      assertThat(m.stat("no_such_key")).isEqualTo(CgroupStats.UNAVAILABLE);
      assertThat(s.io()).containsExactly(new CgroupStats.IoDevice(8, 0, 1048576, 4194304, 16, 64),
          new CgroupStats.IoDevice(7, 0, 0, 2097152, 0, 32));
      assertThat(s.pids()).isEqualTo(3);
      assertThat(s.cpuPressure().some()).isEqualTo(new CgroupStats.Psi(12.5, 3.21, 0.75, 981234));
      assertThat(s.memoryPressure().full().totalUsec()).isEqualTo(700);
      assertThat(s.ioPressure()).isEqualTo(CgroupStats.Pressure.NONE);
    }
  }

  @Test
  void statsWithoutControllersAreEmptyNotErrors() {
    FakeCgroupTree t = FakeCgroupTree.v2(tmp, "/" + OWN, "hugetlb", "hugetlb");
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t); Cgroup cg = d.create("c1", Resources.none())) {
      CgroupStats s = cg.stats();
      assertThat(s.memory()).isEqualTo(CgroupStats.Memory.NONE);
      assertThat(s.memory().current()).isEqualTo(CgroupStats.UNAVAILABLE);
      assertThat(s.pids()).isEqualTo(CgroupStats.UNAVAILABLE);
      assertThat(s.io()).isEmpty();
      assertThat(s.cpu().nrThrottled()).isEqualTo(CgroupStats.UNAVAILABLE);
      assertThat(cg.oomKillCount()).isZero();
    }
  }

  @Test
  void oomEventsDeliveredOncePerIncrementThroughInotify() throws Exception {
    FakeCgroupTree t = tree();
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t);
        Cgroup cg = d.create("c1", Resources.builder().memoryMax(1 << 20).build())) {
      List<OomEvent> events = new CopyOnWriteArrayList<>();
      CgroupSubscription reg = cg.onOom(events::add);
      String file = t.path(LEAF + "/memory.events").toString();
      assertThat(t.sys.watches).containsValue(file);
      t.put(LEAF + "/memory.events", "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n");
      t.sys.fireModify(file);
      awaitSize(events, 2);
      t.sys.fireModify(file); // spurious modification: nothing new
      t.put(LEAF + "/memory.events", "low 0\nhigh 0\nmax 9\noom 1\noom_kill 3\noom_group_kill 0\n");
      t.sys.fireModify(file);
      awaitSize(events, 4);
      Thread.sleep(300);
      assertThat(events).extracting(OomEvent::kind, OomEvent::count).containsExactly(
          org.assertj.core.groups.Tuple.tuple(OomEvent.Kind.OOM, 1L),
          org.assertj.core.groups.Tuple.tuple(OomEvent.Kind.OOM_KILL, 1L),
          org.assertj.core.groups.Tuple.tuple(OomEvent.Kind.OOM_KILL, 2L),
          org.assertj.core.groups.Tuple.tuple(OomEvent.Kind.OOM_KILL, 3L));
      assertThat(events).allMatch(e -> e.cgroup().equals("c1"));
      assertThat(cg.oomKillCount()).isEqualTo(3);
      reg.close();
    }
  }

  @Test
  void closingASubscriptionTwiceEndsOnlyItself() throws Exception {
    FakeCgroupTree t = tree();
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t);
        Cgroup cg = d.create("c1", Resources.builder().memoryMax(1 << 20).build())) {
      List<OomEvent> events = new CopyOnWriteArrayList<>();
      java.util.function.Consumer<OomEvent> listener = events::add;
      CgroupSubscription first = cg.onOom(listener);
      CgroupSubscription second = cg.onOom(listener); // the same listener, a second registration
      first.close();
      first.close(); // idempotent: must not end the second registration
      String file = t.path(LEAF + "/memory.events").toString();
      t.put(LEAF + "/memory.events", "low 0\nhigh 0\nmax 5\noom 0\noom_kill 1\noom_group_kill 0\n");
      t.sys.fireModify(file);
      awaitSize(events, 1);
      second.close();
      t.put(LEAF + "/memory.events", "low 0\nhigh 0\nmax 5\noom 0\noom_kill 2\noom_group_kill 0\n");
      t.sys.fireModify(file);
      assertThat(cg.oomKillCount()).isEqualTo(2);
      assertThat(events).hasSize(1);
    }
  }

  @Test
  void finalCheckOnRemoveDeliversPendingEvent() {
    FakeCgroupTree t = tree();
    t.sys.inotifyAvailable = false;
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      Cgroup cg = d.create("c1", Resources.builder().memoryMax(1 << 20).build());
      List<OomEvent> events = new CopyOnWriteArrayList<>();
      cg.onOom(events::add);
      t.put(LEAF + "/memory.events", "oom 0\noom_kill 1\n");
      cg.remove();
      assertThat(events).extracting(OomEvent::kind).containsExactly(OomEvent.Kind.OOM_KILL);
    }
  }

  static void awaitSize(List<?> l, int n) throws InterruptedException {
    long end = System.currentTimeMillis() + 5000;
    while (l.size() < n && System.currentTimeMillis() < end) Thread.sleep(10);
    assertThat(l).hasSizeGreaterThanOrEqualTo(n);
  }
}
