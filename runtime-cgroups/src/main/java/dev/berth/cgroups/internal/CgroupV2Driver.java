package dev.berth.cgroups.internal;

import dev.berth.cgroups.Cgroup;
import dev.berth.cgroups.CgroupConversions;
import dev.berth.cgroups.CgroupDriver;
import dev.berth.cgroups.CgroupException;
import dev.berth.cgroups.CgroupStats;
import dev.berth.cgroups.DeviceThrottle;
import dev.berth.cgroups.Resources;
import dev.berth.cgroups.internal.CgroupFs.FsException;
import dev.berth.cgroups.internal.linux.Syscalls;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** Driver for a pure cgroup v2 host: all limits, stats and events in one hierarchy. */
public final class CgroupV2Driver extends BaseDriver {
  /** Controllers enabled best-effort for accounting even when no limit needs them. */
  static final List<String> ACCOUNTING = List.of("cpu", "io", "memory", "pids");
  static final Set<String> KNOWN = Set.of("cpu", "cpuset", "io", "memory", "pids", "hugetlb", "rdma", "misc");

  private final Path mount;
  private final Path ownDir;
  private final Path parentDir;

  CgroupV2Driver(CgroupDriver.Options options, HostLayout layout, Syscalls sys, CgroupFs fs) {
    super(options, layout, sys, fs);
    this.mount = layout.unifiedMount().orElseThrow();
    this.ownDir = HostLayout.resolve(mount, layout.unifiedOwnPath());
    this.parentDir = HostLayout.resolve(mount, parentCgroupPath(layout.unifiedOwnPath()));
  }

  @Override
  public List<Path> parentPaths() {
    return List.of(parentDir);
  }

  @Override
  public boolean devicePolicySupported() {
    // a BPF_PROG_TYPE_CGROUP_DEVICE program on the container's directory, which needs privileges
    return !options.unprivileged();
  }

  /** Controllers the limits need (v2 names), in a stable order. */
  static Set<String> requiredControllers(Resources r) {
    Set<String> c = new LinkedHashSet<>();
    if (r.cpus().isPresent() || r.effectiveCpuWeight().isPresent()) c.add("cpu");
    if (r.cpusetCpus().isPresent() || r.cpusetMems().isPresent()) c.add("cpuset");
    if (r.memoryMax().isPresent() || r.memoryHigh().isPresent() || r.memoryReservation().isPresent()
        || r.memorySwap().isPresent()) c.add("memory");
    if (r.ioWeight().isPresent() || !r.deviceThrottles().isEmpty()) c.add("io");
    if (r.pidsMax().isPresent()) c.add("pids");
    for (String key : r.unified().keySet()) {
      String ctrl = key.substring(0, key.indexOf('.'));
      if (KNOWN.contains(ctrl)) c.add(ctrl);
    }
    return c;
  }

  @Override
  public Cgroup create(String name, Resources r) {
    Drivers.checkName("name", name);
    Path leaf = parentDir.resolve(name);
    synchronized (this) {
      mkdirs(parentDir, floor(mount, layout.unifiedOwnPath()));
      enableControllers(requiredControllers(r));
    }
    if (!fs.mkdir(leaf)) {
      // mkdir is the claim: whoever created the directory owns it, a second creator must not proceed
      throw new CgroupException("mkdir " + leaf + ": File exists (a cgroup named " + name + " already exists)");
    }
    CgroupImpl cg = new CgroupImpl(this, name, List.of(), Optional.of(leaf), r);
    try {
      applyLimits(cg, r);
    } catch (RuntimeException e) {
      try {
        fs.rmdir(leaf);
      } catch (RuntimeException e2) {
        e.addSuppressed(e2);
      }
      throw e;
    }
    return cg;
  }

  @Override
  synchronized void beforeUpdate(Resources r) {
    enableControllers(requiredControllers(r));
  }

  @Override
  CgroupImpl handle(String name, boolean existingOnly) {
    Path leaf = parentDir.resolve(name);
    Optional<Path> u = existingOnly && !fs.exists(leaf) ? Optional.empty() : Optional.of(leaf);
    return new CgroupImpl(this, name, List.of(), u, Resources.none());
  }

  private Set<String> tokens(Path file) {
    return fs.readIfExists(file).map(s -> new LinkedHashSet<>(Arrays.asList(s.trim().split("\\s+"))))
        .map(s -> {
          s.remove("");
          return (Set<String>) s;
        }).orElse(Set.of());
  }

  private boolean isOwnOrBelow(Path p) {
    return p.startsWith(ownDir);
  }

  /**
   * Enables the required (must succeed) and accounting (best-effort) controllers from the JVM's own
   * cgroup down to the parent of the containers.
   */
  void enableControllers(Set<String> required) {
    List<Path> chain = new ArrayList<>();
    // Levels above the JVM's own cgroup are not ours: start at the own cgroup when the parent is below it.
    Path top = parentDir.startsWith(ownDir) ? ownDir : mount;
    for (Path p = parentDir; p != null && p.startsWith(top); p = p.getParent()) {
      chain.add(0, p);
      if (p.equals(top)) break;
    }
    Set<String> wanted = new LinkedHashSet<>(required);
    wanted.addAll(ACCOUNTING);
    for (Path level : chain) {
      Set<String> enabled = tokens(level.resolve("cgroup.subtree_control"));
      for (String c : new ArrayList<>(wanted)) {
        if (enabled.contains(c)) continue;
        boolean req = required.contains(c);
        Set<String> available = tokens(level.resolve("cgroup.controllers"));
        if (!available.contains(c)) {
          if (req) throw missingController(c, level, available);
          wanted.remove(c);
          continue;
        }
        if (!isOwnOrBelow(level)) {
          if (req) throw notDelegated(c, level);
          wanted.remove(c);
          continue;
        }
        Path sub = level.resolve("cgroup.subtree_control");
        try {
          fs.write(sub, "+" + c);
        } catch (FsException e) {
          if (e.isBusy() && level.equals(ownDir) && !level.equals(mount) && options.moveSelfToLeaf()) {
            moveSelfToLeaf();
            fs.write(sub, "+" + c);
          } else if (!req) {
            LOG.debug("not enabling {} in {}: {}", c, sub, e.getMessage());
            wanted.remove(c);
          } else if (e.isBusy()) {
            throw internalProcesses(c, level, e);
          } else {
            throw new CgroupException(e.getMessage() + " (enabling controller '" + c + "' needed by the limits)", e);
          }
        }
      }
    }
  }

  private void moveSelfToLeaf() {
    Path leaf = ownDir.resolve(options.selfLeafName());
    fs.mkdir(leaf);
    for (int round = 0; round < 10; round++) {
      String procs = fs.readIfExists(ownDir.resolve("cgroup.procs")).orElse("");
      List<String> pids = Arrays.stream(procs.split("\n")).map(String::trim).filter(s -> !s.isEmpty())
          .collect(Collectors.toList());
      if (pids.isEmpty()) return;
      for (String pid : pids) {
        try {
          fs.write(leaf.resolve("cgroup.procs"), pid);
        } catch (FsException e) {
          if (e.errno() != Syscalls.ESRCH) throw e;
        }
      }
    }
  }

  private CgroupException missingController(String c, Path level, Set<String> available) {
    Path parentOfLevel = level.getParent();
    return new CgroupException("cgroup v2 controller '" + c + "' is not available in " + level
        + "/cgroup.controllers (available: " + (available.isEmpty() ? "none" : String.join(" ", available))
        + ") but the requested limits need it. The cgroup above must delegate it: run the JVM in a systemd unit or"
        + " scope with Delegate=yes (e.g. systemd-run --scope -p Delegate=yes ...), or as root enable it with"
        + " 'echo +" + c + " > " + (parentOfLevel == null ? level : parentOfLevel) + "/cgroup.subtree_control'"
        + " (the controller must also be enabled in every ancestor), or drop the limit.");
  }

  private CgroupException notDelegated(String c, Path level) {
    return new CgroupException("cgroup v2 controller '" + c + "' is not enabled in " + level
        + "/cgroup.subtree_control, which is above this process's own cgroup " + ownDir
        + "; Berth does not modify cgroups it was not delegated. Enable it there (echo +" + c + " > " + level
        + "/cgroup.subtree_control) or choose a parent below " + ownDir + ".");
  }

  private CgroupException internalProcesses(String c, Path level, FsException e) {
    String procs = fs.readIfExists(level.resolve("cgroup.procs")).orElse("").trim().replace('\n', ' ');
    return new CgroupException(e.getMessage() + ": cannot enable controller '" + c + "' for child cgroups of " + level
        + " because it contains processes (" + (procs.isEmpty() ? "threads or processes" : "pids " + procs)
        + ") and cgroup v2's no-internal-processes rule forbids controllers in subtree_control of a non-root cgroup"
        + " with member processes. Fix: set CgroupDriver.Options.moveSelfToLeaf(true) to move this cgroup's"
        + " processes into " + level.resolve(options.selfLeafName()) + " first, start the JVM in its own leaf cgroup"
        + " (e.g. systemd-run --scope -p Delegate=yes), or configure a parent cgroup outside " + level + ".", e);
  }

  private void write(Path dir, String file, String value) {
    Path f = dir.resolve(file);
    try {
      fs.write(f, value);
    } catch (FsException e) {
      if (e.isNotFound()) {
        String ctrl = file.substring(0, file.indexOf('.'));
        throw new CgroupException(e.getMessage() + " (is the '" + ctrl + "' controller enabled in "
            + dir.getParent().resolve("cgroup.subtree_control") + "?)", e);
      }
      throw e;
    }
  }

  @Override
  void applyLimits(CgroupImpl cg, Resources r) {
    Path d = cg.unifiedPath().orElseThrow();
    if (r.cpus().isPresent()) write(d, "cpu.max", CgroupConversions.cpuMax(r.cpus().getAsDouble(), r.cpuPeriodUs()));
    r.effectiveCpuWeight().ifPresent(w -> write(d, "cpu.weight", Long.toString(w)));
    r.cpusetCpus().ifPresent(v -> write(d, "cpuset.cpus", v));
    r.cpusetMems().ifPresent(v -> write(d, "cpuset.mems", v));
    r.memoryMax().ifPresent(v -> write(d, "memory.max", Long.toString(v)));
    r.memoryHigh().ifPresent(v -> write(d, "memory.high", Long.toString(v)));
    r.memoryReservation().ifPresent(v -> write(d, "memory.low", Long.toString(v)));
    if (r.memorySwap().isPresent()) {
      write(d, "memory.swap.max", CgroupConversions.swapMaxV2(r.memoryMax().getAsLong(), r.memorySwap().getAsLong()));
    }
    if (r.ioWeight().isPresent()) {
      int w = r.ioWeight().getAsInt();
      if (!fs.exists(d.resolve("io.weight")) && fs.exists(d.resolve("io.bfq.weight"))) {
        write(d, "io.bfq.weight", Integer.toString(CgroupConversions.ioWeightToV1(w)));
      } else {
        write(d, "io.weight", "default " + w);
      }
    }
    for (DeviceThrottle t : r.deviceThrottles()) write(d, "io.max", CgroupConversions.ioMaxLine(t));
    r.pidsMax().ifPresent(v -> write(d, "pids.max", CgroupConversions.pidsMax(v)));
    for (Map.Entry<String, String> e : r.unified().entrySet()) write(d, e.getKey(), e.getValue());
    if (!r.devices().isEmpty()) attachDeviceProgram(cg.name(), d, r.devices());
  }

  @Override
  CgroupStats readStats(CgroupImpl cg) {
    return StatsReader.v2(fs, cg.unifiedPath().orElseThrow());
  }

  @Override
  Optional<Path> oomFile(CgroupImpl cg) {
    return cg.unifiedPath().map(d -> d.resolve("memory.events")).filter(fs::exists);
  }

  @Override
  boolean oomFileIsV2() {
    return true;
  }
}
