package dev.berth.core;

/**
 * One line of a user namespace's {@code uid_map} or {@code gid_map}: ids {@code containerId} to
 * {@code containerId + size - 1} inside the container are ids {@code hostId} to
 * {@code hostId + size - 1} on the host (user_namespaces(7)). Podman spells it
 * {@code --uidmap CONTAINER:HOST:SIZE}.
 */
public record IdMapping(long containerId, long hostId, long size) {

    /** The largest id plus one: ids are 32-bit and {@code 4294967295} is never valid (it is {@code (uid_t) -1}). */
    public static final long ID_LIMIT = 0xFFFF_FFFFL;

    public IdMapping {
        check("container id", containerId);
        check("host id", hostId);
        if (size < 1) {
            throw new IllegalArgumentException("id mapping " + containerId + ":" + hostId + ":" + size
                    + ": size must be at least 1");
        }
        if (containerId + size > ID_LIMIT || hostId + size > ID_LIMIT) {
            throw new IllegalArgumentException("id mapping " + containerId + ":" + hostId + ":" + size
                    + ": range ends beyond the largest id " + (ID_LIMIT - 1));
        }
    }

    private static void check(String what, long id) {
        if (id < 0 || id >= ID_LIMIT) {
            throw new IllegalArgumentException("id mapping: " + what + " " + id + " is out of range 0.."
                    + (ID_LIMIT - 1));
        }
    }

    public static IdMapping of(long containerId, long hostId, long size) {
        return new IdMapping(containerId, hostId, size);
    }

    /**
     * Parses podman's {@code CONTAINER:HOST:SIZE} ({@code 0:100000:65536}).
     *
     * @throws IllegalArgumentException naming the text when it is not three non-negative numbers
     */
    public static IdMapping parse(String text) {
        String[] parts = text.split(":", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("id mapping \"" + text + "\": expected CONTAINER:HOST:SIZE");
        }
        long[] n = new long[3];
        for (int i = 0; i < 3; i++) {
            try {
                n[i] = Long.parseLong(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("id mapping \"" + text + "\": \"" + parts[i]
                        + "\" is not a number (expected CONTAINER:HOST:SIZE)");
            }
        }
        return new IdMapping(n[0], n[1], n[2]);
    }

    /** The last container id of the range. */
    public long containerEnd() {
        return containerId + size - 1;
    }

    /** The last host id of the range. */
    public long hostEnd() {
        return hostId + size - 1;
    }

    /** The line as the kernel reads it from {@code /proc/PID/uid_map}. */
    public String toMapLine() {
        return containerId + " " + hostId + " " + size;
    }

    @Override
    public String toString() {
        return containerId + ":" + hostId + ":" + size;
    }
}
