package dev.berth.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ResourcesTest {

  @Test
  void validationNamesTheField() {
    assertThatThrownBy(() -> Resources.builder().memoryMax(12))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("memory.max: must be >= 4096 bytes, got 12");
    assertThatThrownBy(() -> Resources.builder().cpus(0)).hasMessageStartingWith("cpus:");
    assertThatThrownBy(() -> Resources.builder().cpus(-1.5)).hasMessageStartingWith("cpus:");
    assertThatThrownBy(() -> Resources.builder().cpuShares(1)).hasMessage("cpu.shares: must be 2..262144, got 1");
    assertThatThrownBy(() -> Resources.builder().cpuShares(262145)).hasMessageStartingWith("cpu.shares:");
    assertThatThrownBy(() -> Resources.builder().cpuWeight(0)).hasMessageStartingWith("cpu.weight:");
    assertThatThrownBy(() -> Resources.builder().cpuWeight(10001)).hasMessageStartingWith("cpu.weight:");
    assertThatThrownBy(() -> Resources.builder().ioWeight(0)).hasMessageStartingWith("io.weight:");
    assertThatThrownBy(() -> Resources.builder().pidsMax(-2)).hasMessageStartingWith("pids.max:");
    assertThatThrownBy(() -> Resources.builder().memoryHigh(1)).hasMessageStartingWith("memory.high:");
    assertThatThrownBy(() -> Resources.builder().memoryReservation(1)).hasMessageStartingWith("memory.reservation:");
    assertThatThrownBy(() -> Resources.builder().memorySwap(100)).hasMessageStartingWith("memory.swap:");
    assertThatThrownBy(() -> Resources.builder().cpuPeriodUs(999)).hasMessageStartingWith("cpu.period:");
    assertThatThrownBy(() -> DeviceThrottle.writeBps(8, 0, 0)).hasMessageStartingWith("io.max[8:0].wbps:");
  }

  @Test
  void deviceNumbersFromPath() throws Exception {
    assertThatThrownBy(() -> DeviceThrottle.writeBps(java.nio.file.Paths.get("/dev/null"), 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("io.max: /dev/null is not a block device");
    assertThatThrownBy(() -> DeviceThrottle.readBps(java.nio.file.Paths.get("/nonexistent/dev"), 1))
        .hasMessageStartingWith("io.max: cannot stat /nonexistent/dev");
    // A block device when the machine has one: compare with sysfs.
    java.nio.file.Path sysBlock = java.nio.file.Paths.get("/sys/class/block");
    if (java.nio.file.Files.isDirectory(sysBlock)) {
      try (var s = java.nio.file.Files.list(sysBlock)) {
        for (java.nio.file.Path b : (Iterable<java.nio.file.Path>) s::iterator) {
          java.nio.file.Path dev = java.nio.file.Paths.get("/dev", b.getFileName().toString());
          if (!java.nio.file.Files.exists(dev)) continue;
          String expect = java.nio.file.Files.readString(b.resolve("dev")).trim();
          DeviceThrottle t = DeviceThrottle.writeIops(dev, 5);
          assertThat(t.device()).isEqualTo(expect);
          return;
        }
      }
    }
  }

  @Test
  void cpusetListSyntax() {
    assertThat(Resources.builder().cpusetCpus("0-2,4").build().cpusetCpus()).contains("0-2,4");
    assertThat(Resources.builder().cpusetMems("0").build().cpusetMems()).contains("0");
    for (String bad : new String[] {"", "a", "0-", "-1", "0,,1", "1-0", "0 1", "0-2;4"}) {
      assertThatThrownBy(() -> Resources.builder().cpusetCpus(bad)).as(bad).hasMessageStartingWith("cpuset.cpus:");
    }
    assertThatThrownBy(() -> Resources.builder().cpusetMems("x")).hasMessageStartingWith("cpuset.mems:");
  }

  @Test
  void crossFieldValidationInBuild() {
    assertThatThrownBy(() -> Resources.builder().memorySwap(1 << 20).build())
        .hasMessageStartingWith("memory.swap: requires memory.max");
    assertThatThrownBy(() -> Resources.builder().memoryMax(2 << 20).memorySwap(1 << 20).build())
        .hasMessageStartingWith("memory.swap:");
    assertThatThrownBy(() -> Resources.builder().memoryMax(1 << 20).memoryReservation(2 << 20).build())
        .hasMessageStartingWith("memory.reservation:");
    assertThatThrownBy(() -> Resources.builder().cpus(0.001).build()).hasMessageStartingWith("cpus:");
    assertThat(Resources.builder().memoryMax(1 << 20).memorySwap(-1).build().memorySwap()).hasValue(-1);
  }

  @Test
  void pidsFollowPodman() {
    assertThat(Resources.builder().pidsMax(0).build().pidsMax()).hasValue(1);
    assertThat(Resources.builder().pidsMax(-1).build().pidsMax()).hasValue(-1);
    assertThat(Resources.builder().pidsMax(64).build().pidsMax()).hasValue(64);
  }

  @Test
  void unifiedKeysValidated() {
    assertThat(Resources.builder().unified("memory.oom.group", "1").build().unified())
        .containsEntry("memory.oom.group", "1");
    for (String bad : new String[] {"../memory.max", "memory/max", "memory", "memory..max", "/etc/passwd", "Memory.max"}) {
      assertThatThrownBy(() -> Resources.builder().unified(bad, "1")).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("unified[" + bad + "]");
    }
    assertThatThrownBy(() -> Resources.builder().unified("cgroup.procs", "1")).hasMessageContaining("managed by Berth");
    assertThatThrownBy(() -> Resources.builder().unified("memory.max", "1\n2")).hasMessageContaining("single line");
  }

  @Test
  void immutableValueWithToBuilder() {
    Resources r = Resources.builder().cpus(0.5).cpuShares(512).memoryMax(64 << 20).memorySwap(128 << 20)
        .pidsMax(10).deviceThrottle(DeviceThrottle.readBps(8, 0, 1000)).deviceThrottle(DeviceThrottle.writeIops(8, 0, 5))
        .unified(Map.of("memory.oom.group", "1")).build();
    assertThat(r.deviceThrottles()).hasSize(1);
    assertThat(r.deviceThrottles().get(0).readBps()).hasValue(1000);
    assertThat(r.deviceThrottles().get(0).writeIops()).hasValue(5);
    Resources copy = r.toBuilder().build();
    assertThat(copy).isEqualTo(r).hasSameHashCodeAs(r);
    Resources changed = r.toBuilder().pidsMax(20).build();
    assertThat(changed).isNotEqualTo(r);
    assertThat(r.pidsMax()).hasValue(10);
    assertThat(Resources.none().isEmpty()).isTrue();
    assertThat(r.effectiveCpuWeight()).hasValue(CgroupConversions.sharesToWeight(512));
    assertThat(Resources.builder().cpuWeight(100).build().effectiveCpuShares()).hasValue(CgroupConversions.weightToShares(100));
  }
}
