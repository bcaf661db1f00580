package dev.berth.cgroups.internal;

import dev.berth.cgroups.Cgroup;
import dev.berth.cgroups.CgroupConversions;
import dev.berth.cgroups.CgroupDriver;
import dev.berth.cgroups.CgroupException;
import dev.berth.cgroups.CgroupMode;
import dev.berth.cgroups.CgroupStats;
import dev.berth.cgroups.DeviceRule;
import dev.berth.cgroups.DeviceThrottle;
import dev.berth.cgroups.Resources;
import dev.berth.cgroups.internal.CgroupFs.FsException;
import dev.berth.cgroups.internal.HostLayout.V1Hierarchy;
import dev.berth.cgroups.internal.linux.Syscalls;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.HashSet;
import java.util.OptionalLong;

/**
 * Driver for hybrid and legacy hosts: limits through the v1 controllers; on hybrid hosts the
 * container also gets a directory in the v2 hierarchy (tracking, cgroup.kill, cgroup.freeze,
 * cgroup.events, PSI, CLONE_INTO_CGROUP).
 */
public final class CgroupV1Driver extends BaseDriver {
  /**
   * The v1 controllers a process sizes itself by: the JDK's container support (hotspot's
   * CgroupSubsystemFactory) uses cgroup v1 limits only when every one of them is mounted.
   */
  static final Set<String> SIZING_CONTROLLERS = Set.of("cpu", "cpuacct", "cpuset", "memory");

  private final List<V1Hierarchy> hierarchies;
  private final List<Path> parents = new ArrayList<>();
  private final Optional<Path> unifiedParent;

  CgroupV1Driver(CgroupDriver.Options options, HostLayout layout, Syscalls sys, CgroupFs fs) {
    super(options, layout, sys, fs);
    this.hierarchies = layout.v1();
    if (hierarchies.isEmpty() && layout.mode() == CgroupMode.LEGACY) {
      throw new CgroupException("no cgroup v1 hierarchy of " + HostLayout.V1_CONTROLLERS + " is mounted below "
          + options.cgroupRoot() + " and no cgroup2 is mounted there either");
    }
    for (V1Hierarchy h : hierarchies) {
      parents.add(HostLayout.resolve(h.mountPoint(), parentCgroupPath(h.ownPath())));
    }
    if (layout.mode() == CgroupMode.HYBRID && options.useUnifiedOnHybrid() && layout.unifiedMount().isPresent()) {
      unifiedParent = Optional.of(HostLayout.resolve(layout.unifiedMount().get(), parentCgroupPath(layout.unifiedOwnPath())));
    } else {
      unifiedParent = Optional.empty();
    }
  }

  @Override
  public List<Path> parentPaths() {
    List<Path> out = new ArrayList<>(parents);
    unifiedParent.ifPresent(out::add);
    return out;
  }

  @Override
  public boolean devicePolicySupported() {
    return layout.hierarchy("devices").isPresent() || unifiedParent.isPresent();
  }

  private Optional<Path> ownDir(String controller) {
    return layout.hierarchy(controller).map(V1Hierarchy::ownDir);
  }

  /** Every limit this host cannot honour with v1, or an empty list. */
  List<String> unsupported(Resources r) {
    List<String> out = new ArrayList<>();
    if (r.memoryHigh().isPresent()) {
      out.add("memory.high (cgroup v1 has no throttling limit; use memoryReservation for memory.soft_limit_in_bytes"
          + " or memoryMax for a hard limit)");
    }
    if (!r.unified().isEmpty()) {
      out.add("unified keys " + r.unified().keySet() + " (raw cgroup v2 keys need a cgroup v2 host)");
    }
    need(out, r.cpus().isPresent() || r.effectiveCpuShares().isPresent(), "cpu", "cpus/cpu.shares/cpu.weight");
    need(out, r.cpusetCpus().isPresent() || r.cpusetMems().isPresent(), "cpuset", "cpuset.cpus/cpuset.mems");
    need(out, r.memoryMax().isPresent() || r.memoryReservation().isPresent() || r.memorySwap().isPresent(), "memory",
        "memory limits");
    need(out, r.ioWeight().isPresent() || !r.deviceThrottles().isEmpty(), "blkio", "io.weight/io.max");
    need(out, r.pidsMax().isPresent(), "pids", "pids.max");
    if (!r.devices().isEmpty() && layout.hierarchy("devices").isEmpty() && unifiedParent.isEmpty()) {
      out.add("devices (neither the v1 'devices' controller nor a cgroup v2 hierarchy for a device program is mounted)");
    }
    if (r.memorySwap().isPresent()) {
      ownDir("memory").filter(d -> !fs.exists(d.resolve("memory.memsw.limit_in_bytes"))).ifPresent(d -> out.add(
          "memory.swap (" + d + "/memory.memsw.limit_in_bytes does not exist: swap accounting is off;"
              + " boot with swapaccount=1)"));
    }
    if (r.ioWeight().isPresent()) {
      ownDir("blkio").filter(d -> !fs.exists(d.resolve("blkio.weight")) && !fs.exists(d.resolve("blkio.bfq.weight")))
          .ifPresent(d -> out.add("io.weight (neither blkio.weight nor blkio.bfq.weight exists in " + d
              + ": no proportional IO scheduler (CFQ/BFQ) is active)"));
    }
    return out;
  }

  private void need(List<String> out, boolean wanted, String controller, String what) {
    if (wanted && layout.hierarchy(controller).isEmpty()) {
      out.add(what + " (the v1 '" + controller + "' controller is not mounted)");
    }
  }

  @Override
  public Cgroup create(String name, Resources r) {
    Drivers.checkName("name", name);
    List<String> bad = unsupported(r);
    if (!bad.isEmpty()) {
      throw new CgroupException("cgroup v1 (" + layout.mode().name().toLowerCase() + " host) cannot honour: "
          + String.join("; ", bad));
    }
    CgroupImpl cg = handle(name, false, joinedControllers(r));
    List<Path> made = new ArrayList<>();
    try {
      synchronized (this) {
        for (int i = 0; i < hierarchies.size(); i++) {
          mkdirs(parents.get(i), floor(hierarchies.get(i).mountPoint(), hierarchies.get(i).ownPath()));
        }
        if (unifiedParent.isPresent()) {
          mkdirs(unifiedParent.get(), floor(layout.unifiedMount().orElseThrow(), layout.unifiedOwnPath()));
        }
      }
      for (Path p : cg.paths()) {
        if (!fs.mkdir(p)) {
          // mkdir is the claim: whoever created the directory owns it, a second creator must not proceed
          throw new CgroupException("mkdir " + p + ": File exists (a cgroup named " + name + " already exists)");
        }
        made.add(p);
        onParentCreated(p);
      }
      applyLimits(cg, r);
      cg.applied(r);
    } catch (RuntimeException e) {
      for (int i = made.size() - 1; i >= 0; i--) {
        try {
          fs.rmdir(made.get(i));
        } catch (RuntimeException e2) {
          e.addSuppressed(e2);
        }
      }
      throw e;
    }
    return cg;
  }

  /**
   * The v1 controllers a new cgroup joins. On a hybrid host the v2 directory already tracks the
   * container (cgroup.procs, cgroup.kill, cgroup.freeze, cpu.stat, PSI), so only the hierarchies
   * whose controllers carry a limit are joined: each join is a cgroup.procs write, and the first
   * such write waits for an RCU grace period (milliseconds per container start). A cgroup with a
   * CPU, cpuset or memory limit joins all four of {@link #SIZING_CONTROLLERS}: a container reads its
   * limits from its own directories of them, and the JDK reads cgroup v1 limits only when all four
   * are there. On a legacy host every hierarchy is joined, since nothing else tracks the container.
   * Null means all.
   */
  Set<String> joinedControllers(Resources r) {
    if (unifiedParent.isEmpty()) {
      return null;
    }
    Set<String> c = new HashSet<>();
    if (r.cpus().isPresent() || r.effectiveCpuShares().isPresent() || r.cpusetCpus().isPresent()
        || r.cpusetMems().isPresent() || r.memoryMax().isPresent() || r.memoryReservation().isPresent()
        || r.memorySwap().isPresent()) {
      c.addAll(SIZING_CONTROLLERS);
    }
    if (r.ioWeight().isPresent() || !r.deviceThrottles().isEmpty()) {
      c.add("blkio");
    }
    if (r.pidsMax().isPresent()) {
      c.add("pids");
    }
    // the device policy goes on the v2 directory as a BPF program: no v1 join to pay for
    return c;
  }

  @Override
  CgroupImpl handle(String name, boolean existingOnly) {
    return handle(name, existingOnly, null);
  }

  private CgroupImpl handle(String name, boolean existingOnly, Set<String> controllers) {
    List<CgroupImpl.V1Dir> dirs = new ArrayList<>();
    for (int i = 0; i < hierarchies.size(); i++) {
      V1Hierarchy h = hierarchies.get(i);
      if (controllers != null && h.controllers().stream().noneMatch(controllers::contains)) {
        continue;
      }
      Path p = parents.get(i).resolve(name);
      if (!existingOnly || fs.exists(p)) dirs.add(new CgroupImpl.V1Dir(h.mountPoint().getFileName().toString(), h.controllers(), p));
    }
    Optional<Path> u = unifiedParent.map(p -> p.resolve(name)).filter(p -> !existingOnly || fs.exists(p));
    return new CgroupImpl(this, name, dirs, u, Resources.none());
  }

  /** New v1 cpuset cgroups start with empty cpus/mems: copy the parent's (like clone_children). */
  @Override
  void onParentCreated(Path dir) {
    Optional<V1Hierarchy> cs = layout.hierarchy("cpuset");
    if (cs.isEmpty() || !dir.startsWith(cs.get().mountPoint())) return;
    for (String f : List.of("cpuset.cpus", "cpuset.mems")) {
      Path file = dir.resolve(f);
      String cur = fs.readIfExists(file).orElse(null);
      if (cur != null && cur.trim().isEmpty()) {
        String parentValue = fs.read(dir.getParent().resolve(f)).trim();
        fs.write(file, parentValue);
      }
    }
  }

  @Override
  void applyLimits(CgroupImpl cg, Resources r) {
    Set<String> needed = joinedControllers(r);
    if (needed != null) {
      for (String c : needed) {
        if (cg.v1Dir(c).isEmpty() && layout.hierarchy(c).isPresent()) {
          throw new CgroupException("cgroup " + cg.name() + ": cannot set a " + c + " limit: the cgroup was created"
              + " without one, so it never joined the v1 '" + c + "' hierarchy (on a hybrid host a container joins"
              + " only the hierarchies its initial limits need); give the limit when creating it");
        }
      }
    }
    List<String> bad = unsupported(r);
    if (!bad.isEmpty()) {
      throw new CgroupException("cgroup v1 cannot honour: " + String.join("; ", bad));
    }
    Optional<Path> cpu = cg.v1Dir("cpu");
    if (r.cpus().isPresent()) {
      Path d = cpu.orElseThrow();
      fs.write(d.resolve("cpu.cfs_period_us"), Long.toString(r.cpuPeriodUs()));
      fs.write(d.resolve("cpu.cfs_quota_us"),
          Long.toString(CgroupConversions.cpuQuotaUs(r.cpus().getAsDouble(), r.cpuPeriodUs())));
    }
    r.effectiveCpuShares().ifPresent(s -> fs.write(cpu.orElseThrow().resolve("cpu.shares"), Long.toString(s)));
    r.cpusetCpus().ifPresent(v -> fs.write(cg.v1Dir("cpuset").orElseThrow().resolve("cpuset.cpus"), v));
    r.cpusetMems().ifPresent(v -> fs.write(cg.v1Dir("cpuset").orElseThrow().resolve("cpuset.mems"), v));
    Optional<Path> mem = cg.v1Dir("memory");
    if (r.memoryMax().isPresent()) {
      Path d = mem.orElseThrow();
      String limit = Long.toString(r.memoryMax().getAsLong());
      OptionalLong swap = r.memorySwap();
      if (swap.isEmpty()) {
        fs.write(d.resolve("memory.limit_in_bytes"), limit);
      } else {
        String memsw = CgroupConversions.memswLimitV1(swap.getAsLong());
        try {
          fs.write(d.resolve("memory.limit_in_bytes"), limit);
          fs.write(d.resolve("memory.memsw.limit_in_bytes"), memsw);
        } catch (FsException e) {
          // Raising both: memsw must grow first (the kernel keeps limit <= memsw).
          fs.write(d.resolve("memory.memsw.limit_in_bytes"), memsw);
          fs.write(d.resolve("memory.limit_in_bytes"), limit);
        }
      }
    }
    r.memoryReservation().ifPresent(v -> fs.write(mem.orElseThrow().resolve("memory.soft_limit_in_bytes"), Long.toString(v)));
    Optional<Path> blkio = cg.v1Dir("blkio");
    if (r.ioWeight().isPresent()) {
      Path d = blkio.orElseThrow();
      String v = Integer.toString(CgroupConversions.ioWeightToV1(r.ioWeight().getAsInt()));
      fs.write(fs.exists(d.resolve("blkio.weight")) ? d.resolve("blkio.weight") : d.resolve("blkio.bfq.weight"), v);
    }
    for (DeviceThrottle t : r.deviceThrottles()) {
      Path d = blkio.orElseThrow();
      String dev = t.device() + " ";
      t.readBps().ifPresent(v -> fs.write(d.resolve("blkio.throttle.read_bps_device"), dev + v));
      t.writeBps().ifPresent(v -> fs.write(d.resolve("blkio.throttle.write_bps_device"), dev + v));
      t.readIops().ifPresent(v -> fs.write(d.resolve("blkio.throttle.read_iops_device"), dev + v));
      t.writeIops().ifPresent(v -> fs.write(d.resolve("blkio.throttle.write_iops_device"), dev + v));
    }
    r.pidsMax().ifPresent(v -> fs.write(cg.v1Dir("pids").orElseThrow().resolve("pids.max"), CgroupConversions.pidsMax(v)));
    if (!r.devices().isEmpty()) {
      Optional<Path> unified = cg.unifiedPath();
      if (unified.isPresent()) {
        // The kernel runs a v2 device program for every device access, v1 devices controller or not.
        attachDeviceProgram(cg.name(), unified.get(), r.devices());
      } else {
        Path devices = cg.v1Dir("devices").orElseThrow();
        List<DeviceRule> before = cg.resources().devices();
        DevicePolicy from = before.isEmpty() ? null : DevicePolicy.of(before);
        for (String[] w : DevicePolicy.of(r.devices()).v1Writes(from)) {
          fs.write(devices.resolve(w[0]), w[1]);
        }
      }
    }
  }

  @Override
  CgroupStats readStats(CgroupImpl cg) {
    return StatsReader.v1(fs, cg);
  }

  @Override
  Optional<Path> oomFile(CgroupImpl cg) {
    return cg.v1Dir("memory").map(d -> d.resolve("memory.oom_control"));
  }

  @Override
  boolean oomFileIsV2() {
    return false;
  }
}
