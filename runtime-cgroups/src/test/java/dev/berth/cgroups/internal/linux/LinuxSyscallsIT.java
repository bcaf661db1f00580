package dev.berth.cgroups.internal.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.testing.RequiresRoot;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JNA bindings against the real kernel. */
class LinuxSyscallsIT {
  final LinuxSyscalls sys = LinuxSyscalls.get();
  @TempDir Path tmp;

  @Test
  void statfsMagic() {
    long root = sys.statfsType("/sys/fs/cgroup");
    assertThat(root).isIn(Syscalls.CGROUP2_SUPER_MAGIC, Syscalls.TMPFS_MAGIC);
    assertThat(sys.statfsType("/proc")).isEqualTo(0x9fa0L);
    assertThatThrownBy(() -> sys.statfsType("/nonexistent-" + UUID.randomUUID()))
        .isInstanceOf(SyscallException.class).hasMessageEndingWith("No such file or directory")
        .satisfies(e -> assertThat(((SyscallException) e).errno()).isEqualTo(2));
  }

  @Test
  void killReportsEsrchAsFalse() throws Exception {
    Process p = new ProcessBuilder("sleep", "60").start();
    long pid = p.pid();
    assertThat(sys.kill(pid, Syscalls.SIGKILL)).isTrue();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(137);
    assertThat(sys.kill(pid, 0)).isFalse();
  }

  @Test
  void inotifyOnRegularFile() throws Exception {
    Path f = Files.writeString(tmp.resolve("events"), "oom 0\n");
    int fd = sys.inotifyInit();
    try {
      int wd = sys.inotifyAddWatch(fd, f.toString(), Syscalls.IN_MODIFY);
      assertThat(sys.pollIn(fd, 50)).isFalse();
      assertThat(sys.read(fd, new byte[4096])).as("non-blocking read").isZero();
      Files.writeString(f, "oom 1\n");
      assertThat(sys.pollIn(fd, 2000)).isTrue();
      byte[] buf = new byte[4096];
      int n = sys.read(fd, buf);
      assertThat(n).isGreaterThanOrEqualTo(16);
      ByteBuffer bb = ByteBuffer.wrap(buf, 0, n).order(ByteOrder.nativeOrder());
      assertThat(bb.getInt()).isEqualTo(wd);
      assertThat(bb.getInt() & Syscalls.IN_MODIFY).isNotZero();
    } finally {
      sys.close(fd);
    }
  }

  /** kernfs notifies inotify watchers of cgroup.events (what memory.events relies on too). */
  @Test
  @RequiresRoot
  void inotifyOnKernfsCgroupEvents() throws Exception {
    Path v2 = sys.statfsType("/sys/fs/cgroup") == Syscalls.CGROUP2_SUPER_MAGIC
        ? Paths.get("/sys/fs/cgroup") : Paths.get("/sys/fs/cgroup/unified");
    assumeTrue(Files.exists(v2.resolve("cgroup.procs")), "requires a cgroup2 hierarchy");
    String own = Files.readAllLines(Paths.get("/proc/self/cgroup")).stream().filter(l -> l.startsWith("0::"))
        .findFirst().orElseThrow().substring(3);
    Path dir = v2.resolve(own.substring(1)).resolve("berth-it-inotify-" + UUID.randomUUID().toString().substring(0, 8));
    Files.createDirectory(dir);
    Process p = null;
    int fd = sys.inotifyInit();
    try {
      int wd = sys.inotifyAddWatch(fd, dir.resolve("cgroup.events").toString(), Syscalls.IN_MODIFY);
      p = new ProcessBuilder("sleep", "60").start();
      Files.writeString(dir.resolve("cgroup.procs"), Long.toString(p.pid()));
      assertThat(sys.pollIn(fd, 2000)).as("IN_MODIFY on populated 0 -> 1").isTrue();
      byte[] buf = new byte[4096];
      int n = sys.read(fd, buf);
      assertThat(ByteBuffer.wrap(buf, 0, n).order(ByteOrder.nativeOrder()).getInt()).isEqualTo(wd);
      assertThat(Files.readString(dir.resolve("cgroup.events"))).contains("populated 1");
    } finally {
      sys.close(fd);
      if (p != null) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
      for (int i = 0; i < 100 && Files.exists(dir); i++) {
        try {
          Files.delete(dir);
        } catch (java.io.IOException e) {
          Thread.sleep(20);
        }
      }
    }
  }
}
