package dev.berth.core;

import dev.berth.linux.internal.LinuxConstants;

/** Linux namespaces a container can get of its own. */
public enum Namespace {
    MOUNT(LinuxConstants.CLONE_NEWNS),
    PID(LinuxConstants.CLONE_NEWPID),
    UTS(LinuxConstants.CLONE_NEWUTS),
    IPC(LinuxConstants.CLONE_NEWIPC),
    NETWORK(LinuxConstants.CLONE_NEWNET),
    CGROUP(LinuxConstants.CLONE_NEWCGROUP);

    private final long cloneFlag;

    Namespace(long cloneFlag) {
        this.cloneFlag = cloneFlag;
    }

    /** The CLONE_NEW* flag. */
    public long cloneFlag() {
        return cloneFlag;
    }
}
