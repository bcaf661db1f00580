package dev.berth.cgroups.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cgroups.CgroupStats;
import dev.berth.cgroups.CgroupStats.IoDevice;
import dev.berth.cgroups.CgroupStats.Psi;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatsReaderTest {

  @Test
  void psiSomeOnlyAndMalformed() {
    // cpu.pressure before 5.13 has no "full" line
    var p = StatsReader.pressure("some avg10=1.50 avg60=0.25 avg300=0.05 total=123456\n");
    assertThat(p.some()).isEqualTo(new Psi(1.5, 0.25, 0.05, 123456));
    assertThat(p.full()).isEqualTo(Psi.NONE);
    assertThat(p.full().available()).isFalse();
    assertThat(StatsReader.pressure("")).isEqualTo(CgroupStats.Pressure.NONE);
    assertThat(StatsReader.pressure("some avg10=x avg60=0 avg300=0 total=0\n").available()).isFalse();
    assertThat(StatsReader.pressure("full avg10=0.00 avg60=0.00 avg300=0.00 total=5\n")).as("no some line").isEqualTo(CgroupStats.Pressure.NONE);
  }

  @Test
  void flatKeyedSkipsNonNumbers() {
    assertThat(StatsReader.flatKeyed("usage_usec 10\nmax max\n\nbad\nnr_periods 3\n"))
        .containsExactly(Map.entry("usage_usec", 10L), Map.entry("nr_periods", 3L));
  }

  @Test
  void ioStatWithMissingKeysAndJunk() {
    assertThat(StatsReader.ioStatV2("259:0 rbytes=5 wbytes=6 rios=1 wios=2 dbytes=0 dios=0\n8:16 wbytes=7\n\n"))
        .containsExactly(new IoDevice(259, 0, 5, 6, 1, 2), new IoDevice(8, 16, 0, 7, 0, 0));
  }

  @Test
  void blkioV1IgnoresTotalsAndOtherOps() {
    assertThat(StatsReader.blkioV1("8:0 Read 10\n8:0 Write 20\n8:0 Sync 30\n8:0 Total 30\n7:1 Write 5\nTotal 35\n",
        "8:0 Read 1\n8:0 Write 2\nTotal 3\n"))
        .containsExactly(new IoDevice(7, 1, 0, 5, 0, 0), new IoDevice(8, 0, 10, 20, 1, 2));
  }

  @Test
  void memoryStatV1PrefersHierarchicalTotals() {
    Map<String, Long> m = StatsReader.memoryStatV1ToV2Names(Map.of("rss", 1L, "total_rss", 10L, "cache", 2L,
        "pgfault", 3L, "total_pgfault", 30L, "mapped_file", 4L));
    assertThat(m).containsEntry("anon", 10L).containsEntry("file", 2L).containsEntry("pgfault", 30L)
        .containsEntry("file_mapped", 4L).doesNotContainKey("kernel_stack");
  }

  @Test
  void memoryLimitsReadAsBytesUnlimitedOrUnavailable(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    CgroupFs fs = new CgroupFs(null); // reads only
    java.nio.file.Path f = dir.resolve("memory.max");
    java.nio.file.Files.writeString(f, "max\n");
    assertThat(StatsReader.limit(fs, f)).isEqualTo(CgroupStats.UNLIMITED);
    java.nio.file.Files.writeString(f, "268435456\n");
    assertThat(StatsReader.limit(fs, f)).isEqualTo(268435456L);
    java.nio.file.Files.writeString(f, "9223372036854771712\n"); // v1's page-rounded "no limit"
    assertThat(StatsReader.limit(fs, f)).isEqualTo(CgroupStats.UNLIMITED);
    java.nio.file.Files.writeString(f, "18446744073709551615\n"); // above Long.MAX_VALUE
    assertThat(StatsReader.limit(fs, f)).isEqualTo(CgroupStats.UNLIMITED);
    java.nio.file.Files.writeString(f, "garbage\n");
    assertThat(StatsReader.limit(fs, f)).isEqualTo(CgroupStats.UNAVAILABLE);
    assertThat(StatsReader.limit(fs, dir.resolve("missing"))).isEqualTo(CgroupStats.UNAVAILABLE);
  }

  @Test
  void emptyStatsReportNothingAndNeverNull() {
    CgroupStats s = CgroupStats.empty();
    assertThat(s.memory().current()).isEqualTo(CgroupStats.UNAVAILABLE);
    assertThat(s.memory().available()).isFalse();
    assertThat(s.cpu().usageUsec()).isEqualTo(CgroupStats.UNAVAILABLE);
    assertThat(s.pids()).isEqualTo(CgroupStats.UNAVAILABLE);
    assertThat(s.cpuPressure().full().available()).isFalse();
    assertThat(CgroupStats.available(0)).isTrue();
    assertThat(CgroupStats.available(CgroupStats.UNAVAILABLE)).isFalse();
  }
}
