package dev.berth.core;

import dev.berth.testing.RequiresCgroupV2;

/**
 * The device policy scenarios on a real cgroup v2 kernel (the qemu VM of .ci/vm), where a
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to each container's cgroup enforces them instead of
 * the v1 devices controller.
 */
@RequiresCgroupV2
class DevicePolicyV2IT extends DevicePolicyIT {}
