package dev.berth.core;

import dev.berth.testing.RequiresCgroupV2;

/**
 * The state through a container's life on a real cgroup v2 kernel (the qemu VM of .ci/vm): pause
 * and resume through cgroup.freeze, final figures from memory.peak and cpu.stat, reconciling.
 */
@RequiresCgroupV2
class StateV2IT extends StateIT {}
