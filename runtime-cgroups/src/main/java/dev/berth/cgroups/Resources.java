package dev.berth.cgroups;

import dev.berth.cgroups.internal.DevicePolicy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Resource limits of one cgroup. Immutable; built with {@link #builder()} and validated on every
 * setter and in {@link Builder#build()}: invalid values throw {@link IllegalArgumentException} whose
 * message starts with the field, e.g. {@code memory.max: must be >= 4096 bytes, got 12}.
 *
 * <p>Unset fields are not written (the kernel default stays). Semantics that differ between tools:
 * <ul>
 *   <li>{@link #memorySwap()} stores the <b>docker/podman {@code --memory-swap} value: memory plus
 *       swap</b> (total), or -1 for unlimited swap. v2 writes {@code memory.swap.max = total -
 *       memory}; v1 writes {@code memory.memsw.limit_in_bytes = total}.
 *   <li>{@link #pidsMax()}: following podman, a requested 0 is stored as 1 and -1 means unlimited
 *       ({@code max}).
 *   <li>{@link #cpus()} is a fractional CPU count, converted with {@link #cpuPeriodUs()} (default
 *       100000 us) into quota/period.
 * </ul>
 */
public final class Resources {
  public static final long DEFAULT_CPU_PERIOD_US = 100_000;
  public static final long MIN_MEMORY = 4096;
  private static final Resources NONE = new Builder().build();
  private static final Pattern CPU_LIST = Pattern.compile("\\d+(-\\d+)?(,\\d+(-\\d+)?)*");
  private static final Pattern UNIFIED_KEY = Pattern.compile("[a-z][a-z0-9_]*\\.[a-z0-9_.]+");

  private final Double cpus;
  private final long cpuPeriodUs;
  private final Long cpuShares;
  private final Integer cpuWeight;
  private final String cpusetCpus;
  private final String cpusetMems;
  private final Long memoryMax;
  private final Long memoryHigh;
  private final Long memoryReservation;
  private final Long memorySwap;
  private final Integer ioWeight;
  private final List<DeviceThrottle> deviceThrottles;
  private final Long pidsMax;
  private final List<DeviceRule> devices;
  private final Map<String, String> unified;

  private Resources(Builder b) {
    this.cpus = b.cpus;
    this.cpuPeriodUs = b.cpuPeriodUs;
    this.cpuShares = b.cpuShares;
    this.cpuWeight = b.cpuWeight;
    this.cpusetCpus = b.cpusetCpus;
    this.cpusetMems = b.cpusetMems;
    this.memoryMax = b.memoryMax;
    this.memoryHigh = b.memoryHigh;
    this.memoryReservation = b.memoryReservation;
    this.memorySwap = b.memorySwap;
    this.ioWeight = b.ioWeight;
    this.deviceThrottles = List.copyOf(b.throttles.values());
    this.pidsMax = b.pidsMax;
    this.devices = List.copyOf(b.devices);
    this.unified = Collections.unmodifiableMap(new TreeMap<>(b.unified));
  }

  /** No limits at all. */
  public static Resources none() {
    return NONE;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.cpus = cpus;
    b.cpuPeriodUs = cpuPeriodUs;
    b.cpuShares = cpuShares;
    b.cpuWeight = cpuWeight;
    b.cpusetCpus = cpusetCpus;
    b.cpusetMems = cpusetMems;
    b.memoryMax = memoryMax;
    b.memoryHigh = memoryHigh;
    b.memoryReservation = memoryReservation;
    b.memorySwap = memorySwap;
    b.ioWeight = ioWeight;
    for (DeviceThrottle t : deviceThrottles) {
      b.throttles.put(t.device(), t);
    }
    b.pidsMax = pidsMax;
    b.devices.addAll(devices);
    b.unified.putAll(unified);
    return b;
  }

  public OptionalDouble cpus() { return cpus == null ? OptionalDouble.empty() : OptionalDouble.of(cpus); }
  public long cpuPeriodUs() { return cpuPeriodUs; }
  public OptionalLong cpuShares() { return opt(cpuShares); }
  public OptionalInt cpuWeight() { return cpuWeight == null ? OptionalInt.empty() : OptionalInt.of(cpuWeight); }
  public Optional<String> cpusetCpus() { return Optional.ofNullable(cpusetCpus); }
  public Optional<String> cpusetMems() { return Optional.ofNullable(cpusetMems); }
  public OptionalLong memoryMax() { return opt(memoryMax); }
  public OptionalLong memoryHigh() { return opt(memoryHigh); }
  public OptionalLong memoryReservation() { return opt(memoryReservation); }
  /** Docker {@code --memory-swap}: memory + swap in bytes, -1 = unlimited swap. */
  public OptionalLong memorySwap() { return opt(memorySwap); }
  public OptionalInt ioWeight() { return ioWeight == null ? OptionalInt.empty() : OptionalInt.of(ioWeight); }
  public List<DeviceThrottle> deviceThrottles() { return deviceThrottles; }
  /** pids limit; -1 = unlimited ({@code max}). */
  public OptionalLong pidsMax() { return opt(pidsMax); }
  /**
   * The device policy ({@code linux.resources.devices}): empty leaves the cgroup's devices as
   * inherited; otherwise a default-deny policy the rules amend in order (see {@link DeviceRule}).
   */
  public List<DeviceRule> devices() { return devices; }
  /** Raw cgroup v2 keys (e.g. {@code memory.oom.group -> 1}), written after the modelled limits. */
  public Map<String, String> unified() { return unified; }

  /** The cgroup v2 weight to write: {@link #cpuWeight()}, else converted from shares. */
  public OptionalLong effectiveCpuWeight() {
    if (cpuWeight != null) return OptionalLong.of(cpuWeight);
    if (cpuShares != null) return OptionalLong.of(CgroupConversions.sharesToWeight(cpuShares));
    return OptionalLong.empty();
  }

  /** The cgroup v1 shares to write: {@link #cpuShares()}, else converted from the weight. */
  public OptionalLong effectiveCpuShares() {
    if (cpuShares != null) return OptionalLong.of(cpuShares);
    if (cpuWeight != null) return OptionalLong.of(CgroupConversions.weightToShares(cpuWeight));
    return OptionalLong.empty();
  }

  public boolean isEmpty() {
    return equals(NONE);
  }

  private static OptionalLong opt(Long v) {
    return v == null ? OptionalLong.empty() : OptionalLong.of(v);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Resources)) return false;
    Resources r = (Resources) o;
    return Objects.equals(cpus, r.cpus) && cpuPeriodUs == r.cpuPeriodUs
        && Objects.equals(cpuShares, r.cpuShares) && Objects.equals(cpuWeight, r.cpuWeight)
        && Objects.equals(cpusetCpus, r.cpusetCpus) && Objects.equals(cpusetMems, r.cpusetMems)
        && Objects.equals(memoryMax, r.memoryMax) && Objects.equals(memoryHigh, r.memoryHigh)
        && Objects.equals(memoryReservation, r.memoryReservation)
        && Objects.equals(memorySwap, r.memorySwap) && Objects.equals(ioWeight, r.ioWeight)
        && deviceThrottles.equals(r.deviceThrottles) && Objects.equals(pidsMax, r.pidsMax)
        && devices.equals(r.devices) && unified.equals(r.unified);
  }

  @Override
  public int hashCode() {
    return Objects.hash(cpus, cpuPeriodUs, cpuShares, cpuWeight, cpusetCpus, cpusetMems, memoryMax,
        memoryHigh, memoryReservation, memorySwap, ioWeight, deviceThrottles, pidsMax, devices, unified);
  }

  @Override
  public String toString() {
    List<String> parts = new ArrayList<>();
    if (cpus != null) parts.add("cpus=" + cpus + (cpuPeriodUs != DEFAULT_CPU_PERIOD_US ? "/" + cpuPeriodUs + "us" : ""));
    if (cpuShares != null) parts.add("cpuShares=" + cpuShares);
    if (cpuWeight != null) parts.add("cpuWeight=" + cpuWeight);
    if (cpusetCpus != null) parts.add("cpusetCpus=" + cpusetCpus);
    if (cpusetMems != null) parts.add("cpusetMems=" + cpusetMems);
    if (memoryMax != null) parts.add("memoryMax=" + memoryMax);
    if (memoryHigh != null) parts.add("memoryHigh=" + memoryHigh);
    if (memoryReservation != null) parts.add("memoryReservation=" + memoryReservation);
    if (memorySwap != null) parts.add("memorySwap=" + memorySwap);
    if (ioWeight != null) parts.add("ioWeight=" + ioWeight);
    if (!deviceThrottles.isEmpty()) parts.add("deviceThrottles=" + deviceThrottles);
    if (pidsMax != null) parts.add("pidsMax=" + pidsMax);
    if (!devices.isEmpty()) parts.add("devices=" + devices);
    if (!unified.isEmpty()) parts.add("unified=" + unified);
    return "Resources" + parts;
  }

  /** Validates {@code "0-2,4"} style CPU / memory-node lists; returns the list or throws. */
  static String checkList(String field, String list) {
    Objects.requireNonNull(list, field);
    String s = list.trim();
    if (!CPU_LIST.matcher(s).matches()) {
      throw new IllegalArgumentException(field + ": must be a list like \"0-2,4\", got \"" + list + "\"");
    }
    for (String part : s.split(",")) {
      int dash = part.indexOf('-');
      if (dash > 0) {
        long a = Long.parseLong(part.substring(0, dash));
        long b = Long.parseLong(part.substring(dash + 1));
        if (a > b) {
          throw new IllegalArgumentException(field + ": range " + part + " is reversed in \"" + list + "\"");
        }
      }
    }
    return s;
  }

  /** Builder; every setter validates its argument. */
  public static final class Builder {
    private Double cpus;
    private long cpuPeriodUs = DEFAULT_CPU_PERIOD_US;
    private Long cpuShares;
    private Integer cpuWeight;
    private String cpusetCpus;
    private String cpusetMems;
    private Long memoryMax;
    private Long memoryHigh;
    private Long memoryReservation;
    private Long memorySwap;
    private Integer ioWeight;
    private final Map<String, DeviceThrottle> throttles = new LinkedHashMap<>();
    private Long pidsMax;
    private final List<DeviceRule> devices = new ArrayList<>();
    private final Map<String, String> unified = new LinkedHashMap<>();

    private Builder() {}

    /** Fractional CPU count (docker {@code --cpus}), e.g. 0.5. */
    public Builder cpus(double cpus) {
      if (!(cpus > 0) || Double.isInfinite(cpus) || cpus > 100_000) {
        throw new IllegalArgumentException("cpus: must be > 0, got " + cpus);
      }
      this.cpus = cpus;
      return this;
    }

    /** CFS period in microseconds (1000..1000000), default 100000. */
    public Builder cpuPeriodUs(long periodUs) {
      if (periodUs < 1000 || periodUs > 1_000_000) {
        throw new IllegalArgumentException("cpu.period: must be 1000..1000000 us, got " + periodUs);
      }
      this.cpuPeriodUs = periodUs;
      return this;
    }

    /** v1 cpu.shares, 2..262144 (converted to cpu.weight on v2). */
    public Builder cpuShares(long shares) {
      if (shares < 2 || shares > 262_144) {
        throw new IllegalArgumentException("cpu.shares: must be 2..262144, got " + shares);
      }
      this.cpuShares = shares;
      return this;
    }

    /** v2 cpu.weight, 1..10000 (converted to cpu.shares on v1). */
    public Builder cpuWeight(int weight) {
      if (weight < 1 || weight > 10_000) {
        throw new IllegalArgumentException("cpu.weight: must be 1..10000, got " + weight);
      }
      this.cpuWeight = weight;
      return this;
    }

    public Builder cpusetCpus(String list) {
      this.cpusetCpus = checkList("cpuset.cpus", list);
      return this;
    }

    public Builder cpusetMems(String list) {
      this.cpusetMems = checkList("cpuset.mems", list);
      return this;
    }

    /** Hard memory limit in bytes (v2 memory.max, v1 memory.limit_in_bytes). */
    public Builder memoryMax(long bytes) {
      this.memoryMax = checkMemory("memory.max", bytes);
      return this;
    }

    /** v2 memory.high (throttling limit). Refused by the v1 driver. */
    public Builder memoryHigh(long bytes) {
      this.memoryHigh = checkMemory("memory.high", bytes);
      return this;
    }

    /** Soft limit (docker --memory-reservation): v2 memory.low, v1 memory.soft_limit_in_bytes. */
    public Builder memoryReservation(long bytes) {
      this.memoryReservation = checkMemory("memory.reservation", bytes);
      return this;
    }

    /**
     * Docker {@code --memory-swap}: the total of memory plus swap, or -1 for unlimited swap.
     * Requires {@link #memoryMax(long)}; equal to it means no swap.
     */
    public Builder memorySwap(long totalBytes) {
      if (totalBytes != -1) {
        checkMemory("memory.swap", totalBytes);
      }
      this.memorySwap = totalBytes;
      return this;
    }

    /** v2 io.weight 1..10000 (v1 blkio.weight 10..1000, mapped linearly). */
    public Builder ioWeight(int weight) {
      if (weight < 1 || weight > 10_000) {
        throw new IllegalArgumentException("io.weight: must be 1..10000, got " + weight);
      }
      this.ioWeight = weight;
      return this;
    }

    /** Adds (merges) a per-device throttle. */
    public Builder deviceThrottle(DeviceThrottle t) {
      Objects.requireNonNull(t, "io.max");
      throttles.merge(t.device(), t, DeviceThrottle::merge);
      return this;
    }

    public Builder clearDeviceThrottles() {
      throttles.clear();
      return this;
    }

    /** pids limit (podman --pids-limit): 0 is stored as 1, -1 means unlimited. */
    public Builder pidsMax(long max) {
      if (max < -1) {
        throw new IllegalArgumentException("pids.max: must be >= -1 (-1 = unlimited), got " + max);
      }
      this.pidsMax = max == 0 ? 1L : max;
      return this;
    }

    /** Appends a device rule; the first one turns the default-deny device policy on. */
    public Builder deviceRule(DeviceRule rule) {
      devices.add(Objects.requireNonNull(rule, "devices"));
      return this;
    }

    /** Appends device rules in order. */
    public Builder deviceRules(List<DeviceRule> rules) {
      rules.forEach(this::deviceRule);
      return this;
    }

    public Builder clearDeviceRules() {
      devices.clear();
      return this;
    }

    /** Raw cgroup v2 key, e.g. {@code unified("memory.oom.group", "1")}. */
    public Builder unified(String key, String value) {
      Objects.requireNonNull(key, "unified key");
      Objects.requireNonNull(value, "unified[" + key + "]");
      if (key.contains("/") || key.contains("..") || !UNIFIED_KEY.matcher(key).matches()) {
        throw new IllegalArgumentException(
            "unified[" + key + "]: key must look like controller.key (e.g. memory.oom.group), without '/' or '..'");
      }
      if (key.equals("cgroup.procs") || key.equals("cgroup.threads") || key.equals("cgroup.subtree_control")
          || key.equals("cgroup.kill") || key.equals("cgroup.freeze")) {
        throw new IllegalArgumentException("unified[" + key + "]: managed by Berth, not settable");
      }
      if (value.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("unified[" + key + "]: value must be a single line");
      }
      unified.put(key, value);
      return this;
    }

    public Builder unified(Map<String, String> keys) {
      keys.forEach(this::unified);
      return this;
    }

    public Builder clearUnified() {
      unified.clear();
      return this;
    }

    public Builder clearCpus() { cpus = null; return this; }
    public Builder clearMemoryMax() { memoryMax = null; return this; }
    public Builder clearMemorySwap() { memorySwap = null; return this; }
    public Builder clearPidsMax() { pidsMax = null; return this; }

    private static long checkMemory(String field, long bytes) {
      if (bytes < MIN_MEMORY) {
        throw new IllegalArgumentException(field + ": must be >= " + MIN_MEMORY + " bytes, got " + bytes);
      }
      return bytes;
    }

    public Resources build() {
      if (cpus != null && Math.round(cpus * cpuPeriodUs) < 1000) {
        throw new IllegalArgumentException("cpus: " + cpus + " CPUs with a period of " + cpuPeriodUs
            + " us gives a quota below the kernel minimum of 1000 us");
      }
      if (memorySwap != null) {
        if (memoryMax == null) {
          throw new IllegalArgumentException("memory.swap: requires memory.max (docker semantics: total of memory and swap)");
        }
        if (memorySwap != -1 && memorySwap < memoryMax) {
          throw new IllegalArgumentException("memory.swap: total of memory and swap (" + memorySwap
              + ") must be >= memory.max (" + memoryMax + ")");
        }
      }
      if (memoryReservation != null && memoryMax != null && memoryReservation > memoryMax) {
        throw new IllegalArgumentException("memory.reservation: must be <= memory.max (" + memoryMax + "), got " + memoryReservation);
      }
      if (memoryHigh != null && memoryMax != null && memoryHigh > memoryMax) {
        throw new IllegalArgumentException("memory.high: must be <= memory.max (" + memoryMax + "), got " + memoryHigh);
      }
      DevicePolicy.of(devices); // refuses a rule list neither cgroup version can express
      return new Resources(this);
    }
  }
}
