package dev.berth.core;

/** Linux namespaces a container can get of its own. */
public enum Namespace {
    MOUNT(0x00020000L),
    PID(0x20000000L),
    UTS(0x04000000L),
    IPC(0x08000000L),
    NETWORK(0x40000000L),
    CGROUP(0x02000000L);

    private final long cloneFlag;

    Namespace(long cloneFlag) {
        this.cloneFlag = cloneFlag;
    }

    /** The CLONE_NEW* flag. */
    public long cloneFlag() {
        return cloneFlag;
    }
}
