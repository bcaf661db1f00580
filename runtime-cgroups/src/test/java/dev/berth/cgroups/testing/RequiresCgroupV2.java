package dev.berth.cgroups.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the test only as root on a cgroup v2 host: statfs magic of /sys/fs/cgroup is cgroup2 and its
 * cgroup.controllers has memory, pids, cpu and io. Otherwise skips with the reason.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(RequiresCgroupV2Condition.class)
public @interface RequiresCgroupV2 {}
