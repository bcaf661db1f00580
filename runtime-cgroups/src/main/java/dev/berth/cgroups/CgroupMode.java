package dev.berth.cgroups;

/** How the host mounts its cgroup hierarchies. */
public enum CgroupMode {
  /** cgroup2 mounted at the cgroupfs root (statfs magic CGROUP2_SUPER_MAGIC); all controllers in v2. */
  UNIFIED,
  /** v1 controllers under a tmpfs root plus a cgroup2 hierarchy at {@code <root>/unified}. */
  HYBRID,
  /** v1 controllers under a tmpfs root, no cgroup2 hierarchy. */
  LEGACY
}
