package dev.berth.cgroups;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresCgroupV2;
import dev.berth.cgroups.testing.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The enforcement scenarios on a real cgroup v2 kernel (the qemu VM of .ci/vm; the JVM may sit in
 * the root cgroup there) plus an IO throttle on a loop device. Skips elsewhere.
 */
@RequiresCgroupV2
class CgroupV2EnforcementV2IT extends EnforcementScenarios {

  @Override
  protected CgroupDriver newDriver(String parent) {
    return CgroupDriver.detect(CgroupDriver.Options.builder().parent(parent).moveSelfToLeaf(true).build());
  }

  @Test
  void unifiedModeAndControllersDelegated() {
    assertThat(driver.mode()).isEqualTo(CgroupMode.UNIFIED);
    Cgroup cg = create("ctl", Resources.builder().memoryMax(64 << 20).pidsMax(5).cpus(0.25).ioWeight(200).build());
    Path d = cg.unifiedPath().orElseThrow();
    assertThat(cg.procsFiles()).containsExactly(d.resolve("cgroup.procs"));
    assertThat(read(d.resolve("memory.max"))).isEqualTo(Long.toString(64 << 20));
    assertThat(read(d.resolve("pids.max"))).isEqualTo("5");
    assertThat(read(d.resolve("cpu.max"))).isEqualTo("25000 100000");
  }

  private static String read(Path p) {
    try {
      return Files.readString(p).trim();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd) + ": timed out");
    }
    if (p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + out);
    return out;
  }

  @Test
  void writeBpsLimitOnLoopDevice() throws Exception {
    String losetup = List.of("/usr/sbin/losetup", "/sbin/losetup", "/usr/bin/losetup").stream()
        .filter(p -> Files.isExecutable(Paths.get(p))).findFirst().orElse(null);
    Preconditions.require(losetup != null, "no block device for the IO test: losetup not found");
    Path img = Files.createTempFile(Paths.get("/tmp"), "berth-io", ".img");
    String dev = null;
    try {
      run("/bin/sh", "-c", "head -c 67108864 /dev/zero > " + img);
      try {
        dev = run(losetup, "-f", "--show", img.toString());
      } catch (IOException e) {
        Preconditions.require(false, "no block device for the IO test: " + e.getMessage()
            + (Files.exists(Paths.get("/dev/loop-control")) ? "" : " (/dev/loop-control missing: loop module not loaded)"));
      }
      String majMin = read(Paths.get("/sys/class/block", Paths.get(dev).getFileName().toString(), "dev"));
      int major = Integer.parseInt(majMin.split(":")[0]);
      int minor = Integer.parseInt(majMin.split(":")[1]);
      long limit = 1 << 20;
      Cgroup cg = create("io", Resources.builder().deviceThrottle(DeviceThrottle.writeBps(major, minor, limit)).build());
      assertThat(read(cg.unifiedPath().orElseThrow().resolve("io.max"))).startsWith(majMin + " rbps=max wbps=" + limit);
      long bytes = 3L << 20;
      long t0 = System.nanoTime();
      Workload w = start(cg, "exec dd if=/dev/zero of=" + dev + " bs=64k count=" + (bytes / 65536) + " oflag=direct");
      assertThat(w.waitFor(120)).as("dd: " + w.err).isZero();
      double secs = (System.nanoTime() - t0) / 1e9;
      double rate = bytes / secs;
      assertThat(rate).as("write rate %.0f B/s over %.2f s with a limit of %d B/s", rate, secs, limit)
          .isLessThanOrEqualTo(limit * 1.5);
      assertThat(secs).isGreaterThan(1.5);
      CgroupStats.IoDevice io = cg.stats().io().stream().filter(d -> d.major() == major && d.minor() == minor)
          .findFirst().orElseThrow();
      assertThat(io.wbytes()).isGreaterThanOrEqualTo(bytes);
    } finally {
      if (dev != null) {
        try {
          run(losetup, "-d", dev);
        } catch (IOException e) {
          System.err.println(e.getMessage());
        }
      }
      Files.deleteIfExists(img);
    }
  }
}
