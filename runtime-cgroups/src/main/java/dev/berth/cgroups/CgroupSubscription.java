package dev.berth.cgroups;

/**
 * A listener registration of a cgroup ({@link Cgroup#onOom}); {@link #close()} ends it, is
 * idempotent and throws nothing. The contract of runtime-core's {@code Subscription}, which this
 * module cannot depend on; core hands it out as one.
 */
@FunctionalInterface
public interface CgroupSubscription extends AutoCloseable {
  @Override
  void close();
}
