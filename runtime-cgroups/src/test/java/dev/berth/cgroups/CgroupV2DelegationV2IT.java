package dev.berth.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.testing.RequiresCgroupV2;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delegation on a real cgroup v2 kernel. The "own" cgroup of the driver is a test cgroup (through a
 * fake /proc/self/cgroup), so the JVM itself stays where it is: the no-internal-processes
 * diagnostic, moveSelfToLeaf, and the missing-controller diagnostic.
 */
@RequiresCgroupV2
class CgroupV2DelegationV2IT {
  static final Path ROOT = Paths.get("/sys/fs/cgroup");
  @TempDir Path tmp;
  final List<Path> dirs = new ArrayList<>();
  final List<Process> procs = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    for (Process p : procs) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    Collections.reverse(dirs);
    for (Path d : dirs) {
      for (int i = 0; i < 100 && Files.exists(d); i++) {
        try {
          Files.delete(d);
        } catch (IOException e) {
          Thread.sleep(20);
        }
      }
      assertThat(d).doesNotExist();
    }
  }

  private Path mkdir(Path d) throws IOException {
    Files.createDirectory(d);
    dirs.add(d);
    return d;
  }

  private CgroupDriver.Options.Builder ownedBy(Path own) throws IOException {
    Path self = Files.createDirectories(tmp.resolve("proc/self"));
    Files.writeString(self.resolve("cgroup"), "0::/" + ROOT.relativize(own) + "\n");
    return CgroupDriver.Options.builder().procRoot(tmp.resolve("proc"));
  }

  @Test
  void internalProcessDiagnosticAndMoveSelfToLeaf() throws Exception {
    Path own = mkdir(ROOT.resolve("berth-it-own-" + UUID.randomUUID().toString().substring(0, 8)));
    Process p = new ProcessBuilder("sleep", "60").start();
    procs.add(p);
    Files.writeString(own.resolve("cgroup.procs"), Long.toString(p.pid()));
    Resources r = Resources.builder().memoryMax(64 << 20).pidsMax(50).build();

    try (CgroupDriver d = CgroupDriver.detect(ownedBy(own).build())) {
      assertThatThrownBy(() -> d.create("c", r)).isInstanceOf(CgroupException.class)
          .hasMessageContaining("write " + own.resolve("cgroup.subtree_control"))
          .hasMessageContaining("Device or resource busy")
          .hasMessageContaining("pids " + p.pid())
          .hasMessageContaining("no-internal-processes")
          .hasMessageContaining("moveSelfToLeaf(true)");
      assertThat(d.list()).isEmpty();
    }
    dirs.add(own.resolve("jvm"));
    try (CgroupDriver d = CgroupDriver.detect(ownedBy(own).moveSelfToLeaf(true).build()); Cgroup cg = d.create("c", r)) {
      assertThat(Files.readString(Paths.get("/proc", Long.toString(p.pid()), "cgroup")).trim())
          .isEqualTo("0::/" + ROOT.relativize(own.resolve("jvm")));
      assertThat(Files.readString(own.resolve("cgroup.subtree_control"))).contains("memory").contains("pids");
      Path leaf = cg.unifiedPath().orElseThrow();
      assertThat(leaf).isEqualTo(own.resolve("berth/c"));
      assertThat(Files.readString(leaf.resolve("memory.max")).trim()).isEqualTo(Long.toString(64 << 20));
      assertThat(Files.readString(leaf.resolve("pids.max")).trim()).isEqualTo("50");
    }
    assertThat(own.resolve("berth")).doesNotExist();
  }

  @Test
  void missingControllerDiagnostic() throws Exception {
    Path top = mkdir(ROOT.resolve("berth-it-deleg-" + UUID.randomUUID().toString().substring(0, 8)));
    Files.writeString(top.resolve("cgroup.subtree_control"), "+pids");
    Path own = mkdir(top.resolve("own"));
    try (CgroupDriver d = CgroupDriver.detect(ownedBy(own).build())) {
      assertThatThrownBy(() -> d.create("c", Resources.builder().memoryMax(64 << 20).build()))
          .isInstanceOf(CgroupException.class)
          .hasMessageContaining("controller 'memory' is not available in " + own + "/cgroup.controllers (available: pids)")
          .hasMessageContaining("Delegate=yes");
      try (Cgroup cg = d.create("ok", Resources.builder().pidsMax(7).build())) {
        assertThat(Files.readString(cg.unifiedPath().orElseThrow().resolve("pids.max")).trim()).isEqualTo("7");
      }
    }
  }
}
