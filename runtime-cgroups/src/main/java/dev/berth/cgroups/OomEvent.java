package dev.berth.cgroups;

import java.time.Instant;

/**
 * One increment of a cgroup's OOM counter. {@code count} is the counter value after this increment
 * (1 for the first). On v2 both {@code oom} and {@code oom_kill} of {@code memory.events} are
 * reported; on v1 only {@code oom_kill} of {@code memory.oom_control} exists.
 */
public record OomEvent(String cgroup, Kind kind, long count, Instant observedAt) {
  public enum Kind {
    /** The memory limit was hit and the OOM killer was invoked ({@code memory.events oom}). */
    OOM,
    /** A process of the cgroup was killed by the OOM killer ({@code oom_kill}). */
    OOM_KILL
  }
}
