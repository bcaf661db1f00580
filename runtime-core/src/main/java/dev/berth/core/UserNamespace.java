package dev.berth.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Whether a container gets a user namespace of its own, and how its ids map onto the host's.
 *
 * <ul>
 *   <li>{@link #host()} (the default): no user namespace; the container's root is the host's root,
 *       with the capabilities and seccomp filter of its spec.
 *   <li>{@link #of(List, List)}: an explicit mapping, as {@code --uidmap}/{@code --gidmap}.
 *   <li>{@link #subordinateIdsOf(String)}: the ranges {@code /etc/subuid} and {@code /etc/subgid}
 *       give a user, container ids 0, 1, … onto them in file order.
 *   <li>{@link #auto()}: podman's {@code --userns=auto}: a range of its own, not overlapping any
 *       other container's, chosen at start from the subordinate ids of the user
 *       {@value #AUTO_OWNER}.
 * </ul>
 *
 * Mappings are validated here: at most {@value #MAX_LINES} lines each (the kernel's limit), no two
 * lines overlapping inside or outside, and a gid map is required with a uid map.
 */
public final class UserNamespace {

    /** The kernel's limit on lines of a uid_map or gid_map (since Linux 4.15). */
    public static final int MAX_LINES = 340;
    /** The user whose subordinate ids {@code auto} takes ranges from, as podman. */
    public static final String AUTO_OWNER = "containers";
    /** Podman's default size of an automatic range when the image asks for no more. */
    public static final long AUTO_DEFAULT_SIZE = 1024;

    /** The kinds of user namespace. */
    public enum Mode { HOST, MAPPED, AUTO }

    private static final UserNamespace HOST = new UserNamespace(Mode.HOST, List.of(), List.of(), 0);

    private final Mode mode;
    private final List<IdMapping> uidMap;
    private final List<IdMapping> gidMap;
    private final long autoSize;  // AUTO: a fixed size, or 0 for "as the image needs, at least 1024"

    private UserNamespace(Mode mode, List<IdMapping> uidMap, List<IdMapping> gidMap, long autoSize) {
        this.mode = mode;
        this.uidMap = List.copyOf(uidMap);
        this.gidMap = List.copyOf(gidMap);
        this.autoSize = autoSize;
    }

    /** No user namespace: ids are the host's. */
    public static UserNamespace host() {
        return HOST;
    }

    /**
     * A user namespace with these mappings.
     *
     * @throws IllegalArgumentException naming the map and lines when a map is empty, too long, or
     *     has overlapping lines
     */
    public static UserNamespace of(List<IdMapping> uidMap, List<IdMapping> gidMap) {
        Objects.requireNonNull(uidMap, "uidMap");
        Objects.requireNonNull(gidMap, "gidMap");
        validate("uid map", uidMap);
        validate("gid map", gidMap);
        return new UserNamespace(Mode.MAPPED, uidMap, gidMap, 0);
    }

    /** One range for uids and gids alike: container ids {@code 0..size-1} onto host ids {@code hostId..}. */
    public static UserNamespace of(long hostId, long size) {
        IdMapping m = IdMapping.of(0, hostId, size);
        return of(List.of(m), List.of(m));
    }

    /**
     * The subordinate ids of {@code user} as {@code /etc/subuid} and {@code /etc/subgid} list them
     * (by name or by uid, as the file says).
     *
     * @throws IllegalArgumentException naming the file when the user has no range in it
     */
    public static UserNamespace subordinateIdsOf(String user) {
        return subordinateIdsOf(user, SubordinateIds.read(SubordinateIds.SUBUID),
                SubordinateIds.read(SubordinateIds.SUBGID));
    }

    /** As {@link #subordinateIdsOf(String)} from given files' contents. */
    public static UserNamespace subordinateIdsOf(String user, SubordinateIds subuid, SubordinateIds subgid) {
        return of(subuid.mappingFor(user), subgid.mappingFor(user));
    }

    /**
     * Podman's {@code --userns=auto}: a range of its own, chosen at start, as large as the image
     * needs (its files' highest uid and gid, plus one) and at least {@value #AUTO_DEFAULT_SIZE}.
     */
    public static UserNamespace auto() {
        return new UserNamespace(Mode.AUTO, List.of(), List.of(), 0);
    }

    /** {@code --userns=auto:size=N}: a range of exactly {@code size} ids. */
    public static UserNamespace auto(long size) {
        if (size < 1 || size >= IdMapping.ID_LIMIT) {
            throw new IllegalArgumentException("userns auto: size " + size + " is out of range 1.."
                    + (IdMapping.ID_LIMIT - 1));
        }
        return new UserNamespace(Mode.AUTO, List.of(), List.of(), size);
    }

    public Mode mode() {
        return mode;
    }

    /** True when the container shares the host's user namespace. */
    public boolean isHost() {
        return mode == Mode.HOST;
    }

    /** The uid map ({@link Mode#MAPPED} only; empty otherwise). */
    public List<IdMapping> uidMap() {
        return uidMap;
    }

    /** The gid map ({@link Mode#MAPPED} only; empty otherwise). */
    public List<IdMapping> gidMap() {
        return gidMap;
    }

    /** The fixed size of an automatic range; empty for "as the image needs". */
    public OptionalLong autoSize() {
        return mode == Mode.AUTO && autoSize > 0 ? OptionalLong.of(autoSize) : OptionalLong.empty();
    }

    /** The host uid the container's {@code containerUid} runs as, if the uid map covers it. */
    public Optional<Long> hostUid(long containerUid) {
        return toHost(uidMap, containerUid);
    }

    /** The host gid the container's {@code containerGid} runs as, if the gid map covers it. */
    public Optional<Long> hostGid(long containerGid) {
        return toHost(gidMap, containerGid);
    }

    private Optional<Long> toHost(List<IdMapping> map, long id) {
        if (mode == Mode.HOST) {
            return Optional.of(id);
        }
        for (IdMapping m : map) {
            if (id >= m.containerId() && id <= m.containerEnd()) {
                return Optional.of(m.hostId() + (id - m.containerId()));
            }
        }
        return Optional.empty();
    }

    private static void validate(String what, List<IdMapping> map) {
        if (map.isEmpty()) {
            throw new IllegalArgumentException(what + ": must have at least one line");
        }
        if (map.size() > MAX_LINES) {
            throw new IllegalArgumentException(what + ": " + map.size() + " lines, the kernel takes at most " + MAX_LINES);
        }
        for (IdMapping m : map) {
            Objects.requireNonNull(m, what + ": null line");
        }
        overlap(what, map, Comparator.comparingLong(IdMapping::containerId), true);
        overlap(what, map, Comparator.comparingLong(IdMapping::hostId), false);
    }

    private static void overlap(String what, List<IdMapping> map, Comparator<IdMapping> order, boolean inside) {
        List<IdMapping> sorted = new ArrayList<>(map);
        sorted.sort(order);
        for (int i = 1; i < sorted.size(); i++) {
            IdMapping a = sorted.get(i - 1);
            IdMapping b = sorted.get(i);
            boolean clash = inside ? b.containerId() <= a.containerEnd() : b.hostId() <= a.hostEnd();
            if (clash) {
                throw new IllegalArgumentException(what + ": lines " + a + " and " + b + " overlap "
                        + (inside ? "inside the container" : "on the host"));
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UserNamespace u && u.mode == mode && u.uidMap.equals(uidMap) && u.gidMap.equals(gidMap)
                && u.autoSize == autoSize;
    }

    @Override
    public int hashCode() {
        return Objects.hash(mode, uidMap, gidMap, autoSize);
    }

    @Override
    public String toString() {
        return switch (mode) {
            case HOST -> "host";
            case AUTO -> autoSize > 0 ? "auto:size=" + autoSize : "auto";
            case MAPPED -> "uidmap=" + uidMap + " gidmap=" + gidMap;
        };
    }
}
