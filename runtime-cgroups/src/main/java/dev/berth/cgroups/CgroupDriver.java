package dev.berth.cgroups;

import dev.berth.cgroups.internal.Drivers;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Creates and manages container cgroups on this host. Obtain one with {@link #detect()}; close it to
 * stop the OOM watcher thread and remove the (empty) parent directories it created.
 */
public interface CgroupDriver extends AutoCloseable {

  /** Detects the host's cgroup layout with default {@link Options}. */
  static CgroupDriver detect() {
    return detect(Options.defaults());
  }

  /** Detects the cgroup layout below {@link Options#cgroupRoot()} using {@link Options#procRoot()}. */
  static CgroupDriver detect(Options options) {
    return Drivers.detect(options);
  }

  CgroupMode mode();

  /** The parent directory of container cgroups in each hierarchy (v1 ones first, then v2). */
  List<Path> parentPaths();

  /**
   * Creates the cgroup {@code name} below the parent in every hierarchy and applies the limits. On
   * failure nothing is left behind.
   *
   * @throws IllegalArgumentException for an invalid name
   * @throws CgroupException when a directory/file cannot be written, a limit cannot be honoured on
   *     this host, or delegation blocks enabling a controller (the message says how to fix it)
   */
  Cgroup create(String name, Resources resources);

  /** Re-attaches to an existing cgroup (e.g. left by a crashed JVM), if it exists in any hierarchy. */
  Optional<Cgroup> open(String name);

  /**
   * Whether cgroups of this driver can hold a device policy ({@link Resources#devices()}): the v1
   * {@code devices} controller, or a BPF device program on a cgroup v2 directory.
   */
  boolean devicePolicySupported();

  /** Names of the existing cgroups below the parent. */
  List<String> list();

  @Override
  void close();

  /** Driver options. */
  final class Options {
    private final Path cgroupRoot;
    private final Path procRoot;
    private final String parent;
    private final boolean moveSelfToLeaf;
    private final String selfLeafName;
    private final boolean useUnifiedOnHybrid;
    private final CgroupMode forceMode;
    private final Duration timeout;
    private final boolean unprivileged;

    private Options(Builder b) {
      this.cgroupRoot = b.cgroupRoot;
      this.procRoot = b.procRoot;
      this.parent = b.parent;
      this.moveSelfToLeaf = b.moveSelfToLeaf;
      this.selfLeafName = b.selfLeafName;
      this.useUnifiedOnHybrid = b.useUnifiedOnHybrid;
      this.forceMode = b.forceMode;
      this.timeout = b.timeout;
      this.unprivileged = b.unprivileged;
    }

    public static Options defaults() {
      return builder().build();
    }

    public static Builder builder() {
      return new Builder();
    }

    /** cgroupfs root, default {@code /sys/fs/cgroup}. */
    public Path cgroupRoot() { return cgroupRoot; }
    /** procfs root, default {@code /proc}. */
    public Path procRoot() { return procRoot; }
    /**
     * Parent of container cgroups. Relative (default {@code "berth"}): below this process's own
     * cgroup in each hierarchy. Absolute ({@code "/a/b"}): from the root of each hierarchy.
     */
    public String parent() { return parent; }
    /**
     * When enabling a v2 controller in the JVM's own cgroup is blocked by the no-internal-processes
     * rule, first move every process of that cgroup into the leaf {@link #selfLeafName()}.
     */
    public boolean moveSelfToLeaf() { return moveSelfToLeaf; }
    public String selfLeafName() { return selfLeafName; }
    /** On hybrid hosts also use the v2 hierarchy for tracking, freeze, kill and PSI (default true). */
    public boolean useUnifiedOnHybrid() { return useUnifiedOnHybrid; }
    /** Skip statfs detection and assume this mode (the root must then match it). */
    public Optional<CgroupMode> forceMode() { return Optional.ofNullable(forceMode); }
    /** Bound for waits (freeze, kill, rmdir retries), default 10 s. */
    public Duration timeout() { return timeout; }
    /**
     * The JVM is not root and works in a cgroup v2 subtree delegated to its user ({@link Delegation}):
     * no device policy (the kernel lets only a privileged process load and attach a cgroup device
     * program), so {@link CgroupDriver#devicePolicySupported()} is false; a host that is
     * not cgroup v2 only is refused. Default false.
     */
    public boolean unprivileged() { return unprivileged; }

    public static final class Builder {
      private Path cgroupRoot = Paths.get("/sys/fs/cgroup");
      private Path procRoot = Paths.get("/proc");
      private String parent = "berth";
      private boolean moveSelfToLeaf;
      private String selfLeafName = "jvm";
      private boolean useUnifiedOnHybrid = true;
      private CgroupMode forceMode;
      private Duration timeout = Duration.ofSeconds(10);
      private boolean unprivileged;

      private Builder() {}

      public Builder cgroupRoot(Path p) { this.cgroupRoot = Objects.requireNonNull(p); return this; }
      public Builder procRoot(Path p) { this.procRoot = Objects.requireNonNull(p); return this; }

      public Builder parent(String parent) {
        Objects.requireNonNull(parent, "parent");
        for (String seg : parent.split("/")) {
          if (seg.equals("..") || seg.equals(".")) {
            throw new IllegalArgumentException("parent: must not contain '.' or '..' segments, got " + parent);
          }
        }
        this.parent = parent;
        return this;
      }

      public Builder moveSelfToLeaf(boolean v) { this.moveSelfToLeaf = v; return this; }

      public Builder selfLeafName(String n) {
        Drivers.checkName("selfLeafName", n);
        this.selfLeafName = n;
        return this;
      }

      public Builder useUnifiedOnHybrid(boolean v) { this.useUnifiedOnHybrid = v; return this; }
      public Builder forceMode(CgroupMode m) { this.forceMode = m; return this; }
      public Builder unprivileged(boolean v) { this.unprivileged = v; return this; }

      public Builder timeout(Duration d) {
        if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("timeout: must be > 0, got " + d);
        this.timeout = d;
        return this;
      }

      public Options build() { return new Options(this); }
    }
  }
}
