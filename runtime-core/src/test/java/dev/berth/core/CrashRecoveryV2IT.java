package dev.berth.core;

import dev.berth.testing.RequiresCgroupV2;

/**
 * Crash recovery on a real cgroup v2 kernel (the qemu VM of .ci/vm): the leftovers a killed JVM
 * leaves are v2 cgroups (one directory, device program attached), removed by the next runtime.
 * Fewer rounds than on the host: JVMs start several times slower under TCG.
 */
@RequiresCgroupV2
class CrashRecoveryV2IT extends CrashRecoveryIT {
    @Override
    protected int rounds() {
        return Integer.getInteger("berth.test.crashRounds", 3);
    }
}
