package dev.berth.core;

import dev.berth.testing.RequiresCgroupV2;

/** The JVM-in-a-container test on a real cgroup v2 kernel (the qemu VM of .ci/vm), where the JDK reads cgroup2. */
@RequiresCgroupV2
class JvmLimitsV2IT extends JvmLimitsIT {}
