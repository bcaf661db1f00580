package dev.berth.cgroups;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A snapshot of a cgroup's accounting. Anything whose file does not exist on this kernel/controller
 * set is an empty Optional, never an error.
 */
public record CgroupStats(
    Optional<Cpu> cpu,
    Optional<Memory> memory,
    List<IoDevice> io,
    OptionalLong pidsCurrent,
    Optional<Pressure> cpuPressure,
    Optional<Pressure> memoryPressure,
    Optional<Pressure> ioPressure) {

  public CgroupStats {
    io = List.copyOf(io);
  }

  /** CPU time in microseconds; throttling fields are empty without a cpu (v1 cpu / v2 cpu) controller. */
  public record Cpu(
      long usageUsec,
      OptionalLong userUsec,
      OptionalLong systemUsec,
      OptionalLong nrPeriods,
      OptionalLong nrThrottled,
      OptionalLong throttledUsec) {}

  /**
   * Memory in bytes. {@code stat} uses the cgroup v2 memory.stat names ({@code anon, file,
   * kernel_stack, sock, shmem, file_mapped, pgfault, pgmajfault, ...}); on v1 the hierarchical
   * {@code total_*} values are mapped onto them (rss→anon, cache→file, mapped_file→file_mapped).
   * {@code raw} is the file as read.
   */
  public record Memory(OptionalLong current, OptionalLong peak, Map<String, Long> stat, Map<String, Long> raw) {
    public Memory {
      stat = Map.copyOf(stat);
      raw = Map.copyOf(raw);
    }

    public OptionalLong stat(String key) {
      Long v = stat.get(key);
      return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }

    public OptionalLong anon() { return stat("anon"); }
    public OptionalLong file() { return stat("file"); }
    public OptionalLong kernelStack() { return stat("kernel_stack"); }
    public OptionalLong sock() { return stat("sock"); }
    public OptionalLong shmem() { return stat("shmem"); }
    public OptionalLong pgfault() { return stat("pgfault"); }
    public OptionalLong pgmajfault() { return stat("pgmajfault"); }
  }

  /** Per-device IO counters (v2 io.stat, v1 blkio.throttle.io_service_bytes/io_serviced). */
  public record IoDevice(int major, int minor, long rbytes, long wbytes, long rios, long wios) {
    public String device() {
      return major + ":" + minor;
    }
  }

  /** Pressure stall information of one resource; {@code full} is absent for cpu on older kernels. */
  public record Pressure(Psi some, Optional<Psi> full) {}

  /** One PSI line: {@code some avg10=0.00 avg60=0.00 avg300=0.00 total=0} (total in microseconds). */
  public record Psi(double avg10, double avg60, double avg300, long totalUsec) {}
}
