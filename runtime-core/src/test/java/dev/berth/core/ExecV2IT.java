package dev.berth.core;

import dev.berth.testing.RequiresCgroupV2;

/**
 * Exec on a real cgroup v2 kernel (the qemu VM of .ci/vm): the process is cloned straight into the
 * container's v2 cgroup, which alone holds its limits and device program, then enters its cgroup
 * namespace; pause is the v2 freezer.
 */
@RequiresCgroupV2
class ExecV2IT extends ExecIT {}
