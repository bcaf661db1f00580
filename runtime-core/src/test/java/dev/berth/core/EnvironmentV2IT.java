package dev.berth.core;

import dev.berth.testing.RequiresCgroupV2;

/**
 * What a container sees of its environment on a real cgroup v2 kernel (the qemu VM of .ci/vm): its
 * own v2 directory as /sys/fs/cgroup, read-only, and the generated /etc files on a root shared
 * read-only over 9p.
 */
@RequiresCgroupV2
class EnvironmentV2IT extends EnvironmentIT {}
