package dev.berth.cgroups.internal;

import dev.berth.cgroups.Cgroup;
import dev.berth.cgroups.CgroupDriver;
import dev.berth.cgroups.CgroupException;
import dev.berth.cgroups.CgroupMode;
import dev.berth.cgroups.CgroupStats;
import dev.berth.cgroups.DeviceRule;
import dev.berth.cgroups.Resources;
import dev.berth.cgroups.internal.linux.SyscallException;
import dev.berth.cgroups.internal.linux.Syscalls;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Shared parts of the v1 and v2 drivers. */
abstract class BaseDriver implements CgroupDriver {
  static final Logger LOG = LoggerFactory.getLogger("dev.berth.cgroups");

  final CgroupDriver.Options options;
  final HostLayout layout;
  final Syscalls sys;
  final CgroupFs fs;
  final OomWatcher watcher;
  /** Parent directories this driver created (top-down), removed on close when empty. */
  private final List<Path> createdParents = Collections.synchronizedList(new ArrayList<>());

  BaseDriver(CgroupDriver.Options options, HostLayout layout, Syscalls sys, CgroupFs fs) {
    this.options = options;
    this.layout = layout;
    this.sys = sys;
    this.fs = fs;
    this.watcher = new OomWatcher(sys, fs);
  }

  @Override
  public CgroupMode mode() {
    return layout.mode();
  }

  long timeoutMillis() {
    return options.timeout().toMillis();
  }

  /** The parent's cgroup path in a hierarchy where this process sits at {@code ownPath}. */
  String parentCgroupPath(String ownPath) {
    String p = options.parent();
    if (p.startsWith("/")) return p;
    if (p.isEmpty()) return ownPath;
    return ownPath.endsWith("/") ? ownPath + p : ownPath + "/" + p;
  }

  /**
   * The directory below which this driver may create parents: the own cgroup for a relative parent,
   * the hierarchy's mount point for an absolute one.
   */
  Path floor(Path mount, String ownPath) {
    return options.parent().startsWith("/") ? mount : HostLayout.resolve(mount, ownPath);
  }

  /**
   * mkdir -p of {@code dir}, recording what was created. Never creates {@code floor} or anything
   * outside it: if the own cgroup from /proc/self/cgroup is not visible here (e.g. another mount
   * namespace without a cgroup namespace), that is an error, not a reason to create it.
   */
  void mkdirs(Path dir, Path floor) {
    if (!fs.exists(floor)) {
      throw new CgroupException("this process's cgroup directory " + floor + " (from " + options.procRoot()
          + "/self/cgroup) does not exist in this mount namespace; refusing to create cgroups outside it."
          + " Use an absolute CgroupDriver.Options.parent or run with a cgroup namespace.");
    }
    if (!dir.startsWith(floor)) {
      throw new CgroupException("parent " + dir + " is not below " + floor);
    }
    List<Path> missing = new ArrayList<>();
    for (Path p = dir; p != null && !fs.exists(p); p = p.getParent()) {
      missing.add(0, p);
    }
    for (Path p : missing) {
      if (fs.mkdir(p)) {
        createdParents.add(p);
        onParentCreated(p);
      }
    }
  }

  /**
   * Puts the cgroup directory {@code dir} (of the v2 hierarchy) under the device policy: loads the
   * compiled program, attaches it next to whatever a parent runs (BPF_F_ALLOW_MULTI, as systemd
   * does), then detaches the programs this directory had before, so an update never leaves a gap
   * in which no policy applies.
   */
  void attachDeviceProgram(String cgroupName, Path dir, List<DeviceRule> rules) {
    byte[] program = DeviceFilterProgram.compile(DevicePolicy.of(rules));
    int dirFd = -1;
    try {
      dirFd = sys.openDirectory(dir.toString());
      int[] before = sys.bpfProgQuery(dirFd, Syscalls.BPF_CGROUP_DEVICE);
      int prog = sys.bpfProgLoad(Syscalls.BPF_PROG_TYPE_CGROUP_DEVICE, program, "Apache-2.0");
      try {
        sys.bpfProgAttach(dirFd, prog, Syscalls.BPF_CGROUP_DEVICE, Syscalls.BPF_F_ALLOW_MULTI);
      } finally {
        sys.close(prog); // the attachment holds the program
      }
      for (int id : before) {
        int old = sys.bpfProgGetFdById(id);
        try {
          sys.bpfProgDetach(dirFd, old, Syscalls.BPF_CGROUP_DEVICE);
        } finally {
          sys.close(old);
        }
      }
      LOG.debug("cgroup {}: device program of {} instructions attached to {}", cgroupName,
          program.length / DeviceFilterProgram.INSN_SIZE, dir);
    } catch (SyscallException e) {
      throw new CgroupException("cgroup " + cgroupName + ": device policy on " + dir + ": " + e.getMessage(), e);
    } finally {
      if (dirFd >= 0) sys.close(dirFd);
    }
  }

  /** Hook for v1 cpuset initialisation. */
  void onParentCreated(Path dir) {}

  abstract void applyLimits(CgroupImpl cg, Resources r);

  /** Called by {@link Cgroup#update} before {@link #applyLimits}: v2 enables newly needed controllers. */
  void beforeUpdate(Resources r) {}

  abstract CgroupStats readStats(CgroupImpl cg);

  /** The file holding the OOM counters (memory.events or memory.oom_control), if any. */
  abstract Optional<Path> oomFile(CgroupImpl cg);

  abstract boolean oomFileIsV2();

  @Override
  public List<String> list() {
    TreeSet<String> names = new TreeSet<>();
    for (Path parent : parentPaths()) {
      for (Path c : fs.childDirs(parent)) {
        names.add(c.getFileName().toString());
      }
    }
    return new ArrayList<>(names);
  }

  @Override
  public Optional<Cgroup> open(String name) {
    Drivers.checkName("name", name);
    CgroupImpl cg = handle(name, true);
    return cg.paths().isEmpty() ? Optional.empty() : Optional.of(cg);
  }

  /** A handle for {@code name}; with {@code existingOnly} only directories that exist are included. */
  abstract CgroupImpl handle(String name, boolean existingOnly);

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CgroupException("interrupted", e);
    }
  }

  @Override
  public void close() {
    watcher.close();
    List<Path> dirs;
    synchronized (createdParents) {
      dirs = new ArrayList<>(createdParents);
      createdParents.clear();
    }
    Collections.reverse(dirs);
    for (Path d : dirs) {
      try {
        if (fs.childDirs(d).isEmpty()) fs.rmdir(d);
      } catch (CgroupException e) {
        LOG.debug("leaving {}: {}", d, e.getMessage());
      }
    }
  }
}
