package dev.berth.cgroups;

/** Pure conversions between the user-facing limits and cgroup v1/v2 file values. */
public final class CgroupConversions {
  private CgroupConversions() {}

  /** Quota in microseconds for a fractional CPU count. */
  public static long cpuQuotaUs(double cpus, long periodUs) {
    return Math.max(1000, Math.round(cpus * periodUs));
  }

  /** v2 {@code cpu.max} value, e.g. 0.5 CPUs → {@code "50000 100000"}. */
  public static String cpuMax(double cpus, long periodUs) {
    return cpuQuotaUs(cpus, periodUs) + " " + periodUs;
  }

  /** v1 cpu.shares (2..262144) → v2 cpu.weight (1..10000), crun's formula. */
  public static long sharesToWeight(long shares) {
    if (shares == 0) return 100; // kernel default
    long s = Math.max(2, Math.min(262_144, shares));
    return 1 + ((s - 2) * 9999) / 262_142;
  }

  /** v2 cpu.weight (1..10000) → v1 cpu.shares (2..262144), inverse of {@link #sharesToWeight}. */
  public static long weightToShares(long weight) {
    long w = Math.max(1, Math.min(10_000, weight));
    return 2 + ((w - 1) * 262_142) / 9999;
  }

  /** v2 io.weight (1..10000) → v1 blkio.weight (10..1000). */
  public static int ioWeightToV1(int weight) {
    int w = Math.max(1, Math.min(10_000, weight));
    return 10 + (int) (((long) (w - 1) * 990) / 9999);
  }

  /** v1 blkio.weight (10..1000) → v2 io.weight (1..10000). */
  public static int ioWeightFromV1(int blkioWeight) {
    int b = Math.max(10, Math.min(1000, blkioWeight));
    return 1 + (int) (((long) (b - 10) * 9999) / 990);
  }

  /**
   * v2 {@code memory.swap.max} from docker's memory+swap total: {@code total - memory}, or
   * {@code "max"} when the total is -1.
   */
  public static String swapMaxV2(long memoryMax, long memorySwapTotal) {
    if (memorySwapTotal == -1) return "max";
    if (memorySwapTotal < memoryMax) {
      throw new IllegalArgumentException("memory.swap: total " + memorySwapTotal + " < memory.max " + memoryMax);
    }
    return Long.toString(memorySwapTotal - memoryMax);
  }

  /** v1 {@code memory.memsw.limit_in_bytes}: the docker total itself, -1 unlimited. */
  public static String memswLimitV1(long memorySwapTotal) {
    return Long.toString(memorySwapTotal);
  }

  /** {@code pids.max} value: -1 → {@code "max"}. */
  public static String pidsMax(long max) {
    return max < 0 ? "max" : Long.toString(max);
  }

  /** v2 {@code io.max} line for a throttle, e.g. {@code "8:0 rbps=1048576 wiops=100"}. */
  public static String ioMaxLine(DeviceThrottle t) {
    StringBuilder sb = new StringBuilder(t.device());
    t.readBps().ifPresent(v -> sb.append(" rbps=").append(v));
    t.writeBps().ifPresent(v -> sb.append(" wbps=").append(v));
    t.readIops().ifPresent(v -> sb.append(" riops=").append(v));
    t.writeIops().ifPresent(v -> sb.append(" wiops=").append(v));
    return sb.toString();
  }
}
