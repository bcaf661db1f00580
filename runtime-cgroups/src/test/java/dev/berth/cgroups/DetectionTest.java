package dev.berth.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.cgroups.internal.Drivers;
import dev.berth.cgroups.internal.linux.Syscalls;
import dev.berth.cgroups.testing.FakeCgroupTree;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DetectionTest {
  @TempDir Path tmp;

  @Test
  void unifiedHostPlacesParentBelowOwnCgroup() {
    FakeCgroupTree t = FakeCgroupTree.v2(tmp, "/user.slice/app.scope", FakeCgroupTree.ALL_V2, "cpu io memory pids");
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      assertThat(d.mode()).isEqualTo(CgroupMode.UNIFIED);
      assertThat(d.parentPaths()).containsExactly(t.path("user.slice/app.scope/berth"));
    }
  }

  @Test
  void hybridHostLikeCi() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      assertThat(d.mode()).isEqualTo(CgroupMode.HYBRID);
      assertThat(d.parentPaths()).containsExactly(
          t.path("cpu/berth"), t.path("cpuacct/berth"), t.path("cpuset/berth"),
          t.path("memory/process_api/7bbfb7adfb4b799025eb6cabaffe632f/berth"), t.path("devices/berth"),
          t.path("freezer/berth"), t.path("blkio/berth"), t.path("pids/berth"), t.path("unified/berth"));
    }
  }

  @Test
  void hybridWithoutUsingUnified() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    try (CgroupDriver d = Drivers.create(t.options().useUnifiedOnHybrid(false).parent("/abs/p").build(), t.sys, t)) {
      assertThat(d.parentPaths()).hasSize(8).contains(t.path("memory/abs/p")).doesNotContain(t.path("unified/abs/p"));
    }
  }

  @Test
  void legacyHostHasNoUnified() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, false);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      assertThat(d.mode()).isEqualTo(CgroupMode.LEGACY);
      assertThat(d.parentPaths()).hasSize(8).noneMatch(p -> p.toString().contains("unified"));
    }
  }

  @Test
  void coMountedControllersShareOneDirectory() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, false);
    t.put(t.procRoot.resolve("self/cgroup"), "3:cpu,cpuacct:/a\n2:memory:/m\n1:pids:/\n");
    t.put(t.procRoot.resolve("self/mountinfo"),
        "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
            + "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:1 - cgroup cgroup rw,cpu,cpuacct\n"
            + "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
            + "36 31 0:33 /nsroot /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n");
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      assertThat(d.parentPaths()).containsExactly(t.path("cpu,cpuacct/a/berth"), t.path("memory/m/berth"), t.path("pids/berth"));
    }
  }

  @Test
  void neverCreatesTheOwnCgroupWhenItIsNotVisible() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    t.put(t.procRoot.resolve("self/cgroup"), "4:memory:/elsewhere/x\n1:cpu:/\n0::/\n");
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      assertThatThrownBy(() -> d.create("c1", Resources.none()))
          .isInstanceOf(CgroupException.class)
          .hasMessageContaining(t.path("memory/elsewhere/x") + " (from " + t.procRoot + "/self/cgroup) does not exist");
      assertThat(t.path("memory/elsewhere")).doesNotExist();
    }
  }

  @Test
  void unknownFilesystemIsReported() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    t.sys.statfs.put(t.cgroupRoot.toString(), 0xEF53L);
    assertThatThrownBy(() -> Drivers.create(t.options().build(), t.sys, t))
        .isInstanceOf(CgroupException.class).hasMessageContaining("statfs magic 0xef53");
  }

  @Test
  void statfsMagicDecidesNotDirectoryNames() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    t.sys.statfs.put(t.cgroupRoot.resolve("unified").toString(), Syscalls.TMPFS_MAGIC);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      assertThat(d.mode()).isEqualTo(CgroupMode.LEGACY);
    }
  }

  @Test
  void invalidNamesRejected() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      for (String bad : new String[] {"", "..", "a/b", "../x", "memory.max", "cgroup.procs", "tasks", ".hidden"}) {
        assertThatThrownBy(() -> d.create(bad, Resources.none())).as(bad)
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("name:");
      }
    }
    assertThatThrownBy(() -> CgroupDriver.Options.builder().parent("a/../b")).hasMessageStartingWith("parent:");
  }
}
