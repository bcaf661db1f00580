package dev.berth.cgroups.internal;

import dev.berth.cgroups.CgroupStats;
import dev.berth.cgroups.CgroupStats.Cpu;
import dev.berth.cgroups.CgroupStats.IoDevice;
import dev.berth.cgroups.CgroupStats.Memory;
import dev.berth.cgroups.CgroupStats.Pressure;
import dev.berth.cgroups.CgroupStats.Psi;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** Parsers for cgroup accounting files (pure functions) and the per-version readers. */
public final class StatsReader {
  /** USER_HZ of cpuacct.stat is 100 on every Linux architecture. */
  private static final long USEC_PER_TICK = 10_000;

  private StatsReader() {}

  /** "key value" lines → map; unparsable lines are skipped. */
  public static Map<String, Long> flatKeyed(String content) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (String line : content.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length != 2) continue;
      try {
        out.put(f[0], Long.parseLong(f[1]));
      } catch (NumberFormatException e) {
        // "max" and friends
      }
    }
    return out;
  }

  /**
   * PSI file: {@code some avg10=0.00 avg60=0.00 avg300=0.00 total=0} and optional {@code full ...};
   * {@link Pressure#NONE} without a well-formed {@code some} line.
   */
  public static Pressure pressure(String content) {
    Psi some = null;
    Psi full = null;
    for (String line : content.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length < 5) continue;
      Map<String, String> kv = new LinkedHashMap<>();
      for (int i = 1; i < f.length; i++) {
        int eq = f[i].indexOf('=');
        if (eq > 0) kv.put(f[i].substring(0, eq), f[i].substring(eq + 1));
      }
      try {
        Psi p = new Psi(Double.parseDouble(kv.get("avg10")), Double.parseDouble(kv.get("avg60")),
            Double.parseDouble(kv.get("avg300")), Long.parseLong(kv.get("total")));
        if (f[0].equals("some")) some = p;
        else if (f[0].equals("full")) full = p;
      } catch (RuntimeException e) {
        // malformed line
      }
    }
    return some == null ? Pressure.NONE : new Pressure(some, full == null ? Psi.NONE : full);
  }

  /** v2 io.stat: {@code 8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0}. */
  public static List<IoDevice> ioStatV2(String content) {
    List<IoDevice> out = new ArrayList<>();
    for (String line : content.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length < 2 || f[0].indexOf(':') < 0) continue;
      Map<String, Long> kv = new LinkedHashMap<>();
      for (int i = 1; i < f.length; i++) {
        int eq = f[i].indexOf('=');
        if (eq > 0) {
          try {
            kv.put(f[i].substring(0, eq), Long.parseLong(f[i].substring(eq + 1)));
          } catch (NumberFormatException e) {
            // skip
          }
        }
      }
      String[] mm = f[0].split(":");
      out.add(new IoDevice(Integer.parseInt(mm[0]), Integer.parseInt(mm[1]), kv.getOrDefault("rbytes", 0L),
          kv.getOrDefault("wbytes", 0L), kv.getOrDefault("rios", 0L), kv.getOrDefault("wios", 0L)));
    }
    return out;
  }

  /** v1 blkio.throttle.io_service_bytes + io_serviced: {@code 8:0 Read 123} lines. */
  public static List<IoDevice> blkioV1(String serviceBytes, String serviced) {
    Map<String, long[]> dev = new TreeMap<>();
    parseBlkio(serviceBytes, dev, 0);
    parseBlkio(serviced, dev, 2);
    List<IoDevice> out = new ArrayList<>();
    for (Map.Entry<String, long[]> e : dev.entrySet()) {
      String[] mm = e.getKey().split(":");
      long[] v = e.getValue();
      out.add(new IoDevice(Integer.parseInt(mm[0]), Integer.parseInt(mm[1]), v[0], v[1], v[2], v[3]));
    }
    return out;
  }

  private static void parseBlkio(String content, Map<String, long[]> dev, int offset) {
    for (String line : content.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length != 3 || f[0].indexOf(':') < 0) continue;
      int idx;
      if (f[1].equals("Read")) idx = offset;
      else if (f[1].equals("Write")) idx = offset + 1;
      else continue;
      try {
        dev.computeIfAbsent(f[0], k -> new long[4])[idx] = Long.parseLong(f[2]);
      } catch (NumberFormatException e) {
        // skip
      }
    }
  }

  /** v1 memory.stat → v2 names (hierarchical total_* values preferred). */
  public static Map<String, Long> memoryStatV1ToV2Names(Map<String, Long> raw) {
    Map<String, Long> out = new LinkedHashMap<>();
    map(raw, out, "anon", "total_rss", "rss");
    map(raw, out, "file", "total_cache", "cache");
    map(raw, out, "shmem", "total_shmem", "shmem");
    map(raw, out, "file_mapped", "total_mapped_file", "mapped_file");
    map(raw, out, "file_dirty", "total_dirty", "dirty");
    map(raw, out, "file_writeback", "total_writeback", "writeback");
    map(raw, out, "anon_thp", "total_rss_huge", "rss_huge");
    map(raw, out, "inactive_anon", "total_inactive_anon", "inactive_anon");
    map(raw, out, "active_anon", "total_active_anon", "active_anon");
    map(raw, out, "inactive_file", "total_inactive_file", "inactive_file");
    map(raw, out, "active_file", "total_active_file", "active_file");
    map(raw, out, "unevictable", "total_unevictable", "unevictable");
    map(raw, out, "pgfault", "total_pgfault", "pgfault");
    map(raw, out, "pgmajfault", "total_pgmajfault", "pgmajfault");
    map(raw, out, "workingset_refault_anon", "total_workingset_refault_anon", "workingset_refault_anon");
    map(raw, out, "workingset_refault_file", "total_workingset_refault_file", "workingset_refault_file");
    return out;
  }

  private static void map(Map<String, Long> raw, Map<String, Long> out, String v2, String total, String local) {
    Long v = raw.get(total);
    if (v == null) v = raw.get(local);
    if (v != null) out.put(v2, v);
  }

  private static long key(Map<String, Long> m, String k) {
    Long v = m.get(k);
    return v == null ? CgroupStats.UNAVAILABLE : v;
  }

  /** A file holding one non-negative number, or UNAVAILABLE when it is missing or not a number. */
  private static long number(CgroupFs fs, Path f) {
    return fs.readIfExists(f).map(String::trim).filter(s -> s.matches("\\d{1,18}"))
        .map(Long::parseLong).orElse(CgroupStats.UNAVAILABLE);
  }

  /**
   * A memory limit file: v2 {@code max} and v1's page-rounded "no limit" (anything from 2^62 up) read
   * as UNLIMITED, a missing file as UNAVAILABLE.
   */
  static long limit(CgroupFs fs, Path f) {
    String s = fs.readIfExists(f).map(String::trim).orElse("");
    if (s.equals("max")) return CgroupStats.UNLIMITED;
    if (!s.matches("\\d+")) return CgroupStats.UNAVAILABLE;
    try {
      long v = Long.parseLong(s);
      return v >= (1L << 62) ? CgroupStats.UNLIMITED : v;
    } catch (NumberFormatException e) {
      return CgroupStats.UNLIMITED; // above Long.MAX_VALUE
    }
  }

  private static Pressure psi(CgroupFs fs, Optional<Path> dir, String file) {
    return dir.flatMap(d -> fs.readIfExists(d.resolve(file))).map(StatsReader::pressure).orElse(Pressure.NONE);
  }

  /** Stats of a cgroup v2 directory. */
  static CgroupStats v2(CgroupFs fs, Path d) {
    Cpu cpu = fs.readIfExists(d.resolve("cpu.stat")).map(StatsReader::flatKeyed).map(m -> new Cpu(
        m.getOrDefault("usage_usec", 0L), key(m, "user_usec"), key(m, "system_usec"),
        key(m, "nr_periods"), key(m, "nr_throttled"), key(m, "throttled_usec"))).orElse(Cpu.NONE);
    Memory mem = Memory.NONE;
    long current = number(fs, d.resolve("memory.current"));
    if (current >= 0) {
      Map<String, Long> stat = fs.readIfExists(d.resolve("memory.stat")).map(StatsReader::flatKeyed).orElse(Map.of());
      mem = new Memory(current, number(fs, d.resolve("memory.peak")), limit(fs, d.resolve("memory.max")), stat, stat);
    }
    List<IoDevice> io = fs.readIfExists(d.resolve("io.stat")).map(StatsReader::ioStatV2).orElse(List.of());
    Optional<Path> od = Optional.of(d);
    return new CgroupStats(cpu, mem, number(fs, d.resolve("pids.current")), io,
        psi(fs, od, "cpu.pressure"), psi(fs, od, "memory.pressure"), psi(fs, od, "io.pressure"));
  }

  /** Stats of a v1 cgroup, with PSI (and CPU when cpuacct is missing) from the hybrid v2 directory. */
  static CgroupStats v1(CgroupFs fs, CgroupImpl cg) {
    Optional<Path> unified = cg.unifiedPath();
    Map<String, Long> throttling = cg.v1Dir("cpu")
        .flatMap(d -> fs.readIfExists(d.resolve("cpu.stat"))).map(StatsReader::flatKeyed).orElse(Map.of());
    long nrPeriods = key(throttling, "nr_periods");
    long nrThrottled = key(throttling, "nr_throttled");
    long throttledNs = key(throttling, "throttled_time");
    long throttledUsec = throttledNs < 0 ? CgroupStats.UNAVAILABLE : throttledNs / 1000;
    Cpu cpu = Cpu.NONE;
    Optional<Path> acct = cg.v1Dir("cpuacct");
    long usageNs = acct.map(d -> number(fs, d.resolve("cpuacct.usage"))).orElse(CgroupStats.UNAVAILABLE);
    if (usageNs >= 0) {
      Map<String, Long> st = acct.flatMap(d -> fs.readIfExists(d.resolve("cpuacct.stat")))
          .map(StatsReader::flatKeyed).orElse(Map.of());
      long user = st.containsKey("user") ? st.get("user") * USEC_PER_TICK : CgroupStats.UNAVAILABLE;
      long system = st.containsKey("system") ? st.get("system") * USEC_PER_TICK : CgroupStats.UNAVAILABLE;
      cpu = new Cpu(usageNs / 1000, user, system, nrPeriods, nrThrottled, throttledUsec);
    } else if (unified.isPresent()) {
      Optional<Map<String, Long>> m = fs.readIfExists(unified.get().resolve("cpu.stat")).map(StatsReader::flatKeyed);
      if (m.isPresent()) {
        Map<String, Long> u = m.get();
        cpu = new Cpu(u.getOrDefault("usage_usec", 0L), key(u, "user_usec"), key(u, "system_usec"),
            nrPeriods, nrThrottled, throttledUsec);
      }
    }
    Memory mem = Memory.NONE;
    Optional<Path> md = cg.v1Dir("memory");
    if (md.isPresent()) {
      long current = number(fs, md.get().resolve("memory.usage_in_bytes"));
      if (current >= 0) {
        Map<String, Long> raw = fs.readIfExists(md.get().resolve("memory.stat")).map(StatsReader::flatKeyed).orElse(Map.of());
        mem = new Memory(current, number(fs, md.get().resolve("memory.max_usage_in_bytes")),
            limit(fs, md.get().resolve("memory.limit_in_bytes")), memoryStatV1ToV2Names(raw), raw);
      }
    }
    List<IoDevice> io = cg.v1Dir("blkio").map(d -> blkioV1(
        fs.readIfExists(d.resolve("blkio.throttle.io_service_bytes_recursive"))
            .or(() -> fs.readIfExists(d.resolve("blkio.throttle.io_service_bytes"))).orElse(""),
        fs.readIfExists(d.resolve("blkio.throttle.io_serviced_recursive"))
            .or(() -> fs.readIfExists(d.resolve("blkio.throttle.io_serviced"))).orElse("")))
        .orElse(List.of());
    long pids = cg.v1Dir("pids").map(d -> number(fs, d.resolve("pids.current"))).orElse(CgroupStats.UNAVAILABLE);
    return new CgroupStats(cpu, mem, pids, io, psi(fs, unified, "cpu.pressure"), psi(fs, unified, "memory.pressure"),
        psi(fs, unified, "io.pressure"));
  }
}
