package dev.berth.core;

import dev.berth.cgroups.DeviceRule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A device node the container gets (OCI {@code linux.devices} plus the matching
 * {@code linux.resources.devices} rule; docker {@code --device}): the init creates the node at
 * {@code path} in the container's {@code /dev} and the device policy grants {@code access} to it.
 * Every other device stays closed to the container, whether it makes the node itself or the image
 * ships it.
 *
 * @param path     where the node appears, below {@code /dev} (the root and every other writable
 *                 mount of a container is {@code nodev})
 * @param type     {@link DeviceRule.Type#CHAR} or {@link DeviceRule.Type#BLOCK}
 * @param major    the device's major number
 * @param minor    the device's minor number
 * @param fileMode the node's permission bits (0666 by default)
 * @param uid      the node's owner inside the container
 * @param gid      the node's group inside the container
 * @param access   what the container may do with it: a non-empty subset of {@code "rwm"}
 */
public record Device(String path, DeviceRule.Type type, long major, long minor, int fileMode, long uid, long gid,
        String access) {

    private static final String[] OTHER_MOUNTS = {"/dev/pts", "/dev/shm", "/dev/mqueue"};

    public Device {
        Objects.requireNonNull(path, "devices: path");
        Objects.requireNonNull(type, "devices[" + path + "].type");
        String field = "devices[" + path + "]";
        if (!path.startsWith("/dev/") || path.length() == 5 || path.indexOf('\0') >= 0 || path.endsWith("/")
                || path.contains("/../") || path.endsWith("/..") || path.contains("//") || path.contains("/./")) {
            throw new IllegalArgumentException(field + ".path: must be a normalised path below /dev (the container's"
                    + " root is mounted nodev, so a device node elsewhere could not be opened)");
        }
        for (String m : OTHER_MOUNTS) {
            if (path.equals(m) || path.startsWith(m + "/")) {
                throw new IllegalArgumentException(field + ".path: " + m + " is a mount of its own; choose another path");
            }
        }
        if (type == DeviceRule.Type.ALL) {
            throw new IllegalArgumentException(field + ".type: a node is a character or a block device, not 'a'");
        }
        if ((fileMode & ~0777) != 0) {
            throw new IllegalArgumentException(field + ".fileMode: permission bits only (0..0777), got 0"
                    + Integer.toOctalString(fileMode));
        }
        if (uid < 0 || uid > 0xffffffffL || gid < 0 || gid > 0xffffffffL) {
            throw new IllegalArgumentException(field + ": uid and gid must be 0..4294967295, got " + uid + ":" + gid);
        }
        try {
            new DeviceRule(true, type, major, minor, access); // validates the numbers and access
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(field + ": " + e.getMessage(), e);
        }
    }

    /** A character device at {@code path}, mode 0666, owned by root, all access. */
    public static Device character(String path, long major, long minor) {
        return new Device(path, DeviceRule.Type.CHAR, major, minor, 0666, 0, 0, "rwm");
    }

    /** A block device at {@code path}, mode 0660, owned by root, all access. */
    public static Device block(String path, long major, long minor) {
        return new Device(path, DeviceRule.Type.BLOCK, major, minor, 0660, 0, 0, "rwm");
    }

    /**
     * The host's device node {@code hostNode} (symlinks followed, as docker's {@code --device} does), at {@code containerPath}, with
     * {@code access} (docker {@code --device /dev/loop0:/dev/xvdc:rw}). Type, numbers and
     * permission bits are the host node's.
     *
     * @throws IllegalArgumentException when {@code hostNode} is not a device node
     */
    public static Device fromHost(Path hostNode, String containerPath, String access) {
        try {
            int mode = (Integer) Files.getAttribute(hostNode, "unix:mode");
            long rdev = (Long) Files.getAttribute(hostNode, "unix:rdev");
            int kind = mode & 0170000;
            DeviceRule.Type type = kind == 0020000 ? DeviceRule.Type.CHAR : kind == 0060000 ? DeviceRule.Type.BLOCK : null;
            if (type == null) {
                throw new IllegalArgumentException("devices: " + hostNode + " is not a character or block device");
            }
            return new Device(containerPath, type, major(rdev), minor(rdev), mode & 0777, 0, 0, access);
        } catch (IOException e) {
            throw new IllegalArgumentException("devices: stat(" + hostNode + "): " + e.getMessage(), e);
        }
    }

    /** {@link #fromHost(Path, String, String)} at the same path, with all access. */
    public static Device fromHost(Path hostNode) {
        return fromHost(hostNode, hostNode.toString(), "rwm");
    }

    /** This node's owner and group inside the container. */
    public Device withOwner(long uid, long gid) {
        return new Device(path, type, major, minor, fileMode, uid, gid, access);
    }

    /** The device policy rule that grants this node's access. */
    public DeviceRule rule() {
        return DeviceRule.allow(type, major, minor, access);
    }

    /** glibc's gnu_dev_major: bits 8..19 and 44..63 of a dev_t. */
    static long major(long dev) {
        return ((dev >>> 8) & 0xfffL) | ((dev >>> 32) & 0xfffff000L);
    }

    /** glibc's gnu_dev_minor: bits 0..7 and 20..43 of a dev_t. */
    static long minor(long dev) {
        return (dev & 0xffL) | ((dev >>> 12) & 0xffffff00L);
    }
}
