package dev.berth.cgroups;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One container's cgroup, in every hierarchy the driver uses (one directory per v1 hierarchy plus
 * the v2 directory when one exists). {@link #close()} removes it.
 */
public interface Cgroup extends AutoCloseable {

  /** The name given to {@link CgroupDriver#create}. */
  String name();

  /** The limits last applied. */
  Resources resources();

  /** Every directory of this cgroup (v1 hierarchies first, then the v2 directory). */
  List<Path> paths();

  /** Every {@code cgroup.procs} file a process must join (one per v1 hierarchy + the v2 directory). */
  List<Path> procsFiles();

  /** The v2 directory, for {@code clone3(CLONE_INTO_CGROUP)}, when one exists. */
  Optional<Path> unifiedPath();

  /**
   * This cgroup's directory in each cgroup v1 hierarchy it joined (empty on a cgroup v2 host): what a
   * container is shown of its own cgroup at {@code /sys/fs/cgroup/<hierarchy>}.
   */
  List<V1Directory> v1Directories();

  /**
   * A directory of a cgroup in one v1 hierarchy.
   *
   * @param hierarchy   the name of the hierarchy's mount point below the cgroup root, e.g. {@code memory}
   *                    or {@code cpu,cpuacct}
   * @param controllers the controllers Berth uses that the hierarchy holds
   * @param path        the directory
   */
  record V1Directory(String hierarchy, Set<String> controllers, Path path) {
    public V1Directory {
      controllers = Set.copyOf(controllers);
    }
  }

  /** Moves a process into this cgroup in every hierarchy. */
  void addProcess(long pid);

  /** Processes currently in the cgroup (union over all hierarchies). */
  Set<Long> pids();

  CgroupStats stats();

  /** Applies new limits; fields unset in {@code resources} are left as they are. */
  void update(Resources resources);

  /** Freezes every process and waits until the kernel reports the cgroup frozen. */
  void freeze();

  /** Thaws the cgroup and waits until the kernel reports it thawed. */
  void thaw();

  boolean frozen();

  /** SIGKILLs every process in the cgroup and waits (bounded) until it is empty. */
  void killAll();

  /**
   * The kernel's oom_kill counter for this cgroup (v2 memory.events, v1 memory.oom_control), read
   * now: after the container's processes exited, {@code > 0} means it was OOM-killed. 0 when the
   * memory controller is not available.
   */
  long oomKillCount();

  /**
   * Registers an OOM listener. Each increment of {@code oom}/{@code oom_kill} since the cgroup was
   * created is delivered exactly once, on the driver's watcher thread (or on the thread calling
   * {@link #remove()}, which performs a final check). Close the returned subscription to unregister
   * (idempotent, throws nothing).
   */
  CgroupSubscription onOom(Consumer<OomEvent> listener);

  /**
   * Kills remaining processes and removes the directory in every hierarchy (leaf first, bounded
   * retries on EBUSY). Idempotent.
   */
  void remove();

  /** Same as {@link #remove()}. */
  @Override
  void close();
}
