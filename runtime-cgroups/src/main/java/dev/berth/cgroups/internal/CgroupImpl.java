package dev.berth.cgroups.internal;

import dev.berth.cgroups.Cgroup;
import dev.berth.cgroups.CgroupException;
import dev.berth.cgroups.CgroupStats;
import dev.berth.cgroups.CgroupSubscription;
import dev.berth.cgroups.OomEvent;
import dev.berth.cgroups.Resources;
import dev.berth.cgroups.internal.CgroupFs.FsException;
import dev.berth.cgroups.internal.linux.SyscallException;
import dev.berth.cgroups.internal.linux.Syscalls;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/** A container cgroup: one directory per v1 hierarchy and/or one v2 directory. */
final class CgroupImpl implements Cgroup {

  /** A directory of this cgroup in one v1 hierarchy, named like the hierarchy's mount point. */
  record V1Dir(String hierarchy, Set<String> controllers, Path dir) {}

  private final BaseDriver driver;
  private final String name;
  private final List<V1Dir> v1;
  private final Optional<Path> unified;
  private volatile Resources resources;
  private volatile boolean removed;
  private boolean oomUnregistered;
  private final OomWatcher.Entry oomEntry;

  CgroupImpl(BaseDriver driver, String name, List<V1Dir> v1, Optional<Path> unified, Resources resources) {
    this.driver = driver;
    this.name = name;
    this.v1 = List.copyOf(v1);
    this.unified = unified;
    this.resources = resources;
    Optional<Path> oom = driver.oomFile(this);
    this.oomEntry = oom.map(f -> driver.watcher.entry(name, f, driver.oomFileIsV2())).orElse(null);
  }

  List<V1Dir> v1Dirs() {
    return v1;
  }

  Optional<Path> v1Dir(String controller) {
    return v1.stream().filter(d -> d.controllers().contains(controller)).map(V1Dir::dir).findFirst();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Resources resources() {
    return resources;
  }

  /** Records the limits a driver applied at creation. */
  void applied(Resources r) {
    this.resources = r;
  }

  @Override
  public List<Path> paths() {
    List<Path> out = new ArrayList<>();
    v1.forEach(d -> out.add(d.dir()));
    unified.ifPresent(out::add);
    return out;
  }

  @Override
  public List<Path> procsFiles() {
    List<Path> out = new ArrayList<>();
    for (Path p : paths()) out.add(p.resolve("cgroup.procs"));
    return out;
  }

  @Override
  public Optional<Path> unifiedPath() {
    return unified;
  }

  @Override
  public List<V1Directory> v1Directories() {
    return v1.stream().map(d -> new V1Directory(d.hierarchy(), d.controllers(), d.dir())).toList();
  }

  private void checkLive() {
    if (removed) throw new CgroupException("cgroup " + name + " was removed");
  }

  @Override
  public void addProcess(long pid) {
    checkLive();
    if (pid <= 0) throw new IllegalArgumentException("pid: must be > 0, got " + pid);
    for (Path f : procsFiles()) {
      driver.fs.write(f, Long.toString(pid));
    }
  }

  @Override
  public Set<Long> pids() {
    Set<Long> out = new TreeSet<>();
    for (Path f : procsFiles()) {
      driver.fs.readIfExists(f).ifPresent(s -> {
        for (String line : s.split("\n")) {
          String t = line.trim();
          // An exiting task whose pid is already detached is listed as 0: it is not killable and
          // leaves by itself.
          if (!t.isEmpty() && !t.equals("0")) out.add(Long.parseLong(t));
        }
      });
    }
    return out;
  }

  private Set<Long> pidsIn(Path dir) {
    Set<Long> out = new TreeSet<>();
    driver.fs.readIfExists(dir.resolve("cgroup.procs")).ifPresent(s -> {
      for (String line : s.split("\n")) {
        String t = line.trim();
        if (!t.isEmpty() && !t.equals("0")) out.add(Long.parseLong(t));
      }
    });
    return out;
  }

  @Override
  public CgroupStats stats() {
    checkLive();
    return driver.readStats(this);
  }

  @Override
  public void update(Resources r) {
    checkLive();
    driver.beforeUpdate(r);
    driver.applyLimits(this, r);
    this.resources = r;
  }

  private Optional<Path> v2Freeze() {
    return unified.map(d -> d.resolve("cgroup.freeze")).filter(driver.fs::exists);
  }

  private Optional<Path> v1Freezer() {
    return v1Dir("freezer").map(d -> d.resolve("freezer.state"));
  }

  @Override
  public void freeze() {
    checkLive();
    setFrozen(true);
  }

  @Override
  public void thaw() {
    checkLive();
    setFrozen(false);
  }

  private void setFrozen(boolean freeze) {
    long deadline = System.currentTimeMillis() + driver.timeoutMillis();
    Optional<Path> v2 = v2Freeze();
    if (v2.isPresent()) {
      driver.fs.write(v2.get(), freeze ? "1" : "0");
      long sleep = 1;
      while (v2Frozen() != freeze) {
        if (System.currentTimeMillis() > deadline) {
          throw new CgroupException((freeze ? "freeze " : "thaw ") + unified.get() + ": cgroup.events did not report frozen "
              + (freeze ? 1 : 0) + " within " + driver.timeoutMillis() + " ms");
        }
        BaseDriver.sleep(sleep);
        sleep = Math.min(20, sleep * 2);
      }
      return;
    }
    Optional<Path> v1 = v1Freezer();
    if (v1.isEmpty()) {
      throw new CgroupException("cannot " + (freeze ? "freeze" : "thaw") + " cgroup " + name
          + ": no cgroup.freeze (cgroup v2) and no v1 freezer hierarchy on this host");
    }
    String want = freeze ? "FROZEN" : "THAWED";
    driver.fs.write(v1.get(), want);
    long sleep = 1;
    while (true) {
      String state = driver.fs.read(v1.get()).trim();
      if (state.equals(want)) return;
      if (System.currentTimeMillis() > deadline) {
        if (freeze) driver.fs.write(v1.get(), "THAWED");
        throw new CgroupException((freeze ? "freeze " : "thaw ") + v1.get() + ": state is " + state + " after "
            + driver.timeoutMillis() + " ms");
      }
      BaseDriver.sleep(sleep);
      sleep = Math.min(20, sleep * 2);
      driver.fs.write(v1.get(), want); // runc re-writes while FREEZING
    }
  }

  private boolean v2Frozen() {
    String ev = driver.fs.readIfExists(unified.get().resolve("cgroup.events")).orElse("");
    return StatsReader.flatKeyed(ev).getOrDefault("frozen", 0L) == 1L;
  }

  @Override
  public boolean frozen() {
    if (v2Freeze().isPresent()) return v2Frozen();
    return v1Freezer().flatMap(driver.fs::readIfExists).map(s -> s.trim().equals("FROZEN")).orElse(false);
  }

  /**
   * Kills every process without ever signalling a pid that is not the cgroup's: {@code cgroup.kill}
   * where the kernel has it (5.14), which kills by cgroup membership; otherwise the cgroup is frozen
   * first, so that no member can exit (and its pid be reused) or fork between reading
   * {@code cgroup.procs} and the kill, then thawed so the frozen members can die.
   */
  @Override
  public void killAll() {
    if (removed) return;
    long deadline = System.currentTimeMillis() + driver.timeoutMillis();
    long sleep = 1;
    while (true) {
      Set<Long> pids = pids();
      if (pids.isEmpty()) return;
      if (System.currentTimeMillis() > deadline) {
        throw new CgroupException("kill cgroup " + name + ": processes " + pids + " still present after "
            + driver.timeoutMillis() + " ms");
      }
      killOnce();
      BaseDriver.sleep(sleep);
      sleep = Math.min(50, sleep * 2);
    }
  }

  /** One round of killing every member. */
  private void killOnce() {
    Optional<Path> kill = unified.map(d -> d.resolve("cgroup.kill")).filter(driver.fs::exists);
    if (kill.isPresent()) {
      driver.fs.write(kill.get(), "1");
    } else {
      killFrozen();
    }
  }

  private void killFrozen() {
    boolean canFreeze = v2Freeze().isPresent() || v1Freezer().isPresent();
    if (canFreeze) {
      setFrozen(true);
    }
    try {
      // Frozen, the members cannot exit, so every pid read here is still theirs.
      for (long pid : pids()) {
        try {
          driver.sys.kill(pid, Syscalls.SIGKILL);
        } catch (SyscallException e) {
          throw new CgroupException("kill " + pid + " of cgroup " + name + ": " + e.getMessage(), e);
        }
      }
    } finally {
      if (canFreeze) {
        setFrozen(false); // a frozen task only dies once thawed
      }
    }
  }

  @Override
  public long oomKillCount() {
    if (oomEntry == null) return 0;
    return oomEntry.readCounts()[1];
  }

  @Override
  public CgroupSubscription onOom(Consumer<OomEvent> listener) {
    checkLive();
    if (oomEntry == null) {
      return () -> {};
    }
    return driver.watcher.addListener(oomEntry, listener);
  }

  /**
   * Kills what is left, then removes every directory, leaf first. Each directory gone is gone for
   * good; when the kernel refuses one (EBUSY past the deadline, or another error) the exception
   * names it and what is in it, and a later call tries again. Only a complete removal marks the
   * cgroup removed.
   */
  @Override
  public void remove() {
    if (removed) return;
    synchronized (this) {
      if (removed) return;
      long deadline = System.currentTimeMillis() + driver.timeoutMillis();
      if (!pids().isEmpty()) {
        try {
          killAll();
        } catch (CgroupException e) {
          BaseDriver.LOG.warn("{}", e.getMessage());
        }
      }
      if (oomEntry != null && !oomUnregistered) {
        try {
          oomEntry.check();
        } catch (RuntimeException e) {
          BaseDriver.LOG.debug("final OOM check of {}: {}", name, e.toString());
        }
        driver.watcher.unregister(oomEntry);
        oomUnregistered = true;
      }
      List<String> failures = new ArrayList<>();
      for (Path dir : paths()) {
        long sleep = 2;
        int attempts = 0;
        while (true) {
          attempts++;
          try {
            driver.fs.rmdir(dir);
            break;
          } catch (FsException e) {
            if (e.isNotFound()) break;
            if (!e.isBusy() || System.currentTimeMillis() > deadline) {
              failures.add(e.getMessage() + " (after " + attempts + " attempts; processes: " + pidsIn(dir) + ")");
              break;
            }
            if (!pidsIn(dir).isEmpty()) {
              try {
                killOnce();
              } catch (CgroupException ignored) {
                // reported through the failure below if it persists
              }
            }
            BaseDriver.sleep(sleep);
            sleep = Math.min(100, sleep * 2);
          }
        }
      }
      if (!failures.isEmpty()) {
        throw new CgroupException("remove cgroup " + name + ": " + String.join("; ", failures));
      }
      removed = true;
    }
  }

  @Override
  public void close() {
    remove();
  }

  @Override
  public String toString() {
    return "Cgroup[" + name + " " + paths() + "]";
  }
}
