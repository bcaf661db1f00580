package dev.berth.cgroups.internal;

import dev.berth.cgroups.CgroupDriver;
import dev.berth.cgroups.CgroupException;
import dev.berth.cgroups.CgroupMode;
import dev.berth.cgroups.internal.linux.LinuxSyscalls;
import dev.berth.cgroups.internal.linux.Syscalls;
import java.util.Set;
import java.util.regex.Pattern;

/** Driver factory; the injectable variant is used by unit tests with a fake tree and fake syscalls. */
public final class Drivers {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.@:+-]{0,199}");
  private static final Set<String> RESERVED_PREFIXES = Set.of("cgroup", "cpu", "cpuacct", "cpuset", "memory",
      "io", "blkio", "pids", "freezer", "hugetlb", "rdma", "misc", "devices", "net_cls", "net_prio", "perf_event");
  private static final Set<String> RESERVED = Set.of("tasks", "notify_on_release", "release_agent");

  private Drivers() {}

  public static CgroupDriver detect(CgroupDriver.Options options) {
    return create(options, LinuxSyscalls.get(), new CgroupFs(LinuxSyscalls.get()));
  }

  public static CgroupDriver create(CgroupDriver.Options options, Syscalls sys, CgroupFs fs) {
    HostLayout layout = HostLayout.detect(options.cgroupRoot(), options.procRoot(), sys, options.forceMode());
    if (layout.mode() == CgroupMode.UNIFIED) {
      return new CgroupV2Driver(options, layout, sys, fs);
    }
    if (options.unprivileged()) {
      throw new CgroupException("unprivileged cgroups need a cgroup v2 only host (a delegated subtree), but "
          + options.cgroupRoot() + " is " + layout.mode().name().toLowerCase(java.util.Locale.ROOT) + " (cgroup v1 controllers)");
    }
    return new CgroupV1Driver(options, layout, sys, fs);
  }

  /** Validates a cgroup directory name; throws IllegalArgumentException naming the field. */
  public static void checkName(String field, String name) {
    if (name == null || !NAME.matcher(name).matches() || name.contains("..")) {
      throw new IllegalArgumentException(field + ": must match [A-Za-z0-9_][A-Za-z0-9_.@:+-]* (max 200 chars, no '/' or '..'), got "
          + (name == null ? "null" : "\"" + name + "\""));
    }
    int dot = name.indexOf('.');
    if (RESERVED.contains(name) || (dot > 0 && RESERVED_PREFIXES.contains(name.substring(0, dot)))) {
      throw new IllegalArgumentException(field + ": \"" + name + "\" collides with cgroupfs file names");
    }
  }
}
