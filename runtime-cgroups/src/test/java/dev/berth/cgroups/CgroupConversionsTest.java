package dev.berth.cgroups;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CgroupConversionsTest {

  @Test
  void cpusToQuota() {
    assertThat(CgroupConversions.cpuMax(0.5, 100_000)).isEqualTo("50000 100000");
    assertThat(CgroupConversions.cpuMax(1.5, 100_000)).isEqualTo("150000 100000");
    assertThat(CgroupConversions.cpuMax(2, 50_000)).isEqualTo("100000 50000");
    assertThat(CgroupConversions.cpuQuotaUs(0.25, 100_000)).isEqualTo(25_000);
    assertThat(CgroupConversions.cpuQuotaUs(0.001, 100_000)).isEqualTo(1000);
  }

  @Test
  void sharesAndWeightCrunFormula() {
    assertThat(CgroupConversions.sharesToWeight(2)).isEqualTo(1);
    assertThat(CgroupConversions.sharesToWeight(262_144)).isEqualTo(10_000);
    assertThat(CgroupConversions.sharesToWeight(1024)).isEqualTo(39); // 1 + (1022*9999)/262142
    assertThat(CgroupConversions.sharesToWeight(512)).isEqualTo(20);
    assertThat(CgroupConversions.weightToShares(1)).isEqualTo(2);
    assertThat(CgroupConversions.weightToShares(10_000)).isEqualTo(262_144);
    assertThat(CgroupConversions.weightToShares(100)).isEqualTo(2597);
    for (long s = 2; s <= 262_144; s += 1_021) {
      long back = CgroupConversions.weightToShares(CgroupConversions.sharesToWeight(s));
      assertThat(Math.abs(back - s)).as("shares %d", s).isLessThanOrEqualTo(27);
    }
  }

  @Test
  void ioWeightV1() {
    assertThat(CgroupConversions.ioWeightToV1(1)).isEqualTo(10);
    assertThat(CgroupConversions.ioWeightToV1(10_000)).isEqualTo(1000);
    assertThat(CgroupConversions.ioWeightToV1(100)).isEqualTo(19);
    assertThat(CgroupConversions.ioWeightFromV1(10)).isEqualTo(1);
    assertThat(CgroupConversions.ioWeightFromV1(1000)).isEqualTo(10_000);
    assertThat(CgroupConversions.ioWeightFromV1(500)).isEqualTo(4950);
  }

  @Test
  void swapDockerSemantics() {
    assertThat(CgroupConversions.swapMaxV2(32 << 20, 32 << 20)).isEqualTo("0");
    assertThat(CgroupConversions.swapMaxV2(32 << 20, 96 << 20)).isEqualTo(Long.toString(64 << 20));
    assertThat(CgroupConversions.swapMaxV2(32 << 20, -1)).isEqualTo("max");
    assertThat(CgroupConversions.memswLimitV1(96 << 20)).isEqualTo(Long.toString(96 << 20));
    assertThat(CgroupConversions.memswLimitV1(-1)).isEqualTo("-1");
  }

  @Test
  void pidsAndIoMax() {
    assertThat(CgroupConversions.pidsMax(-1)).isEqualTo("max");
    assertThat(CgroupConversions.pidsMax(64)).isEqualTo("64");
    DeviceThrottle t = DeviceThrottle.readBps(8, 16, 1_048_576).merge(DeviceThrottle.writeIops(8, 16, 100));
    assertThat(CgroupConversions.ioMaxLine(t)).isEqualTo("8:16 rbps=1048576 wiops=100");
  }
}
