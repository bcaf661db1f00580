package dev.berth.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.cgroups.internal.CgroupFs.FsException;
import dev.berth.cgroups.internal.Drivers;
import dev.berth.cgroups.internal.linux.Syscalls;
import dev.berth.cgroups.testing.FakeCgroupTree;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Removal, killing and creation races of container cgroups, against the fake cgroupfs. */
class CgroupTeardownTest {
  @TempDir Path tmp;

  @Test
  void busyIsRecognisedByErrnoNotByItsLocalisedText() {
    FakeCgroupTree t = FakeCgroupTree.v2(tmp, "/app", "cpu memory pids", "cpu memory pids", 1);
    AtomicInteger refusals = new AtomicInteger(3);
    t.rmdirHook = dir -> {
      if (dir.endsWith("c1") && refusals.getAndDecrement() > 0) {
        throw new FsException("rmdir " + dir + ": Gerät oder Ressource belegt", Syscalls.EBUSY,
            "Gerät oder Ressource belegt", null);
      }
    };
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      Cgroup cg = d.create("c1", Resources.none());
      cg.remove();
      assertThat(t.path("app/berth/c1")).doesNotExist();
      assertThat(refusals.get()).as("retried past three refusals").isNegative();
    }
  }

  @Test
  void aFailedRemovalIsReportedAndTheNextCallTriesAgain() {
    FakeCgroupTree t = FakeCgroupTree.v2(tmp, "/app", "cpu memory pids", "cpu memory pids", 1);
    AtomicInteger refusals = new AtomicInteger(1);
    t.rmdirHook = dir -> {
      if (dir.endsWith("c1") && refusals.getAndDecrement() > 0) {
        throw new FsException("rmdir " + dir + ": Permission denied", Syscalls.EACCES, "Permission denied", null);
      }
    };
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      Cgroup cg = d.create("c1", Resources.none());
      assertThatThrownBy(cg::remove).isInstanceOf(CgroupException.class)
          .hasMessageStartingWith("remove cgroup c1: rmdir " + t.path("app/berth/c1") + ": Permission denied");
      assertThat(t.path("app/berth/c1")).exists();
      cg.remove(); // not marked removed by the failed attempt
      assertThat(t.path("app/berth/c1")).doesNotExist();
      cg.remove(); // and idempotent once done
    }
  }

  @Test
  void withoutCgroupKillTheMembersAreKilledWhileFrozen() throws Exception {
    FakeCgroupTree t = FakeCgroupTree.v2(tmp, "/app", "cpu memory pids", "cpu memory pids", 1);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      Cgroup cg = d.create("c1", Resources.none());
      Files.delete(t.path("app/berth/c1/cgroup.kill")); // a kernel before 5.14
      cg.addProcess(500);
      cg.addProcess(501);
      List<String> seen = new ArrayList<>();
      t.sys.onKill = pid -> {
        seen.add(pid + (cg.frozen() ? " frozen" : " running"));
        t.dropPid(pid);
      };
      cg.killAll();
      assertThat(seen).containsExactly("500 frozen", "501 frozen");
      assertThat(cg.frozen()).as("thawed afterwards, so that the kills take effect").isFalse();
      cg.remove();
    }
  }

  @Test
  void withCgroupKillNoPidIsSignalled() {
    FakeCgroupTree t = FakeCgroupTree.v2(tmp, "/app", "cpu memory pids", "cpu memory pids", 1);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      Cgroup cg = d.create("c1", Resources.none());
      cg.addProcess(500);
      cg.remove();
      assertThat(t.sys.kills).isEmpty();
      assertThat(t.writesUnder("app/berth/c1/cgroup.kill")).hasSize(1);
    }
  }

  @Test
  void aSecondCreatorOfTheSameNameFailsAndHarmsNothing() {
    FakeCgroupTree t = FakeCgroupTree.hybrid(tmp, true);
    try (CgroupDriver d = Drivers.create(t.options().build(), t.sys, t)) {
      Cgroup first = d.create("x", Resources.builder().pidsMax(10).build());
      first.addProcess(500);
      assertThatThrownBy(() -> d.create("x", Resources.builder().pidsMax(10).build()))
          .isInstanceOf(CgroupException.class).hasMessageContaining("File exists (a cgroup named x already exists)");
      assertThat(t.get("pids/berth/x/cgroup.procs")).isEqualTo("500\n");
      assertThat(t.sys.kills).isEmpty();
      first.remove();
    }
  }
}
