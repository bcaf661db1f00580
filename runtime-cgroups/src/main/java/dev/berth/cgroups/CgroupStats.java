package dev.berth.cgroups;

import java.util.List;
import java.util.Map;

/**
 * A snapshot of a cgroup's accounting, as plain numbers: {@code stats.memory().current()} is a
 * {@code long}, {@code stats.cpu().usageUsec()} too, {@code stats.pids()} the number of processes.
 *
 * <p>One convention for a figure this kernel or controller set does not report (no memory
 * controller, no PSI, cgroup v1 without {@code memory.peak}, ...): it is {@link #UNAVAILABLE}
 * ({@code -1}), never an error and never an {@code Optional}. Every real figure is {@code >= 0}, so
 * {@code x >= 0} (or {@link #available(long)}) tells the two apart. The sub-records are never null.
 * The same names mean the same figures on cgroup v1 and v2.
 */
public record CgroupStats(
    Cpu cpu,
    Memory memory,
    long pids,
    List<IoDevice> io,
    Pressure cpuPressure,
    Pressure memoryPressure,
    Pressure ioPressure) {

  /** The value of a figure that is not reported here. */
  public static final long UNAVAILABLE = -1;

  /** A memory limit that is not set ({@code max} on v2, the page-rounded maximum on v1). */
  public static final long UNLIMITED = Long.MAX_VALUE;

  public CgroupStats {
    java.util.Objects.requireNonNull(cpu, "cpu");
    java.util.Objects.requireNonNull(memory, "memory");
    io = List.copyOf(io);
    java.util.Objects.requireNonNull(cpuPressure, "cpuPressure");
    java.util.Objects.requireNonNull(memoryPressure, "memoryPressure");
    java.util.Objects.requireNonNull(ioPressure, "ioPressure");
  }

  /** Stats of a cgroup that reports nothing (every figure {@link #UNAVAILABLE}). */
  public static CgroupStats empty() {
    return new CgroupStats(Cpu.NONE, Memory.NONE, UNAVAILABLE, List.of(), Pressure.NONE, Pressure.NONE,
        Pressure.NONE);
  }

  /** True when {@code figure} was reported (it is not {@link #UNAVAILABLE}). */
  public static boolean available(long figure) {
    return figure >= 0;
  }

  /**
   * CPU time in microseconds. {@code usageUsec} is reported by every host with a cpu/cpuacct
   * controller; the throttling figures need the cpu controller (v1 {@code cpu}, v2 {@code cpu}).
   */
  public record Cpu(
      long usageUsec, long userUsec, long systemUsec, long nrPeriods, long nrThrottled, long throttledUsec) {
    public static final Cpu NONE = new Cpu(UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, UNAVAILABLE,
        UNAVAILABLE);

    /** True when the cgroup reports CPU usage at all. */
    public boolean available() {
      return usageUsec >= 0;
    }
  }

  /**
   * Memory in bytes: {@code current} (v2 memory.current, v1 memory.usage_in_bytes), {@code peak}
   * (v2 memory.peak, kernel 5.19+; v1 memory.max_usage_in_bytes), {@code limit} (v2 memory.max, v1
   * memory.limit_in_bytes; {@link #UNLIMITED} when none is set). {@code stat} uses the cgroup v2
   * memory.stat names ({@code anon, file, kernel_stack, sock, shmem, file_mapped, pgfault,
   * pgmajfault, ...}); on v1 the hierarchical {@code total_*} values are mapped onto them
   * (rss→anon, cache→file, mapped_file→file_mapped). {@code raw} is the file as read.
   */
  public record Memory(long current, long peak, long limit, Map<String, Long> stat, Map<String, Long> raw) {
    public static final Memory NONE = new Memory(UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, Map.of(), Map.of());

    public Memory {
      stat = Map.copyOf(stat);
      raw = Map.copyOf(raw);
    }

    /** True when the cgroup has a memory controller. */
    public boolean available() {
      return current >= 0;
    }

    /** A memory.stat figure by its v2 name, or {@link #UNAVAILABLE}. */
    public long stat(String key) {
      Long v = stat.get(key);
      return v == null ? UNAVAILABLE : v;
    }

    public long anon() { return stat("anon"); }
    public long file() { return stat("file"); }
    public long kernelStack() { return stat("kernel_stack"); }
    public long sock() { return stat("sock"); }
    public long shmem() { return stat("shmem"); }
    public long pgfault() { return stat("pgfault"); }
    public long pgmajfault() { return stat("pgmajfault"); }
  }

  /** Per-device IO counters (v2 io.stat, v1 blkio.throttle.io_service_bytes/io_serviced). */
  public record IoDevice(int major, int minor, long rbytes, long wbytes, long rios, long wios) {
    public String device() {
      return major + ":" + minor;
    }
  }

  /**
   * Pressure stall information of one resource (the cgroup's {@code *.pressure} file; on a v1 host
   * from its hybrid v2 directory). {@link #NONE} where the kernel has no PSI; {@code full} is
   * {@link Psi#NONE} for cpu on older kernels.
   */
  public record Pressure(Psi some, Psi full) {
    public static final Pressure NONE = new Pressure(Psi.NONE, Psi.NONE);

    public Pressure {
      java.util.Objects.requireNonNull(some, "some");
      java.util.Objects.requireNonNull(full, "full");
    }

    public boolean available() {
      return some.available();
    }
  }

  /**
   * One PSI line: {@code some avg10=0.00 avg60=0.00 avg300=0.00 total=0} (averages in percent, total
   * in microseconds); every field {@code -1} when not reported.
   */
  public record Psi(double avg10, double avg60, double avg300, long totalUsec) {
    public static final Psi NONE = new Psi(UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, UNAVAILABLE);

    public boolean available() {
      return totalUsec >= 0;
    }
  }
}
