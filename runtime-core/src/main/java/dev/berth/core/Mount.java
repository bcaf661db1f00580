package dev.berth.core;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A filesystem mounted into the container, in OCI terms ({@code mounts[]}: destination, type,
 * source, options). Validated by {@link ContainerSpec.Builder#build()}, which names the field
 * ({@code mounts[2].destination: ...}).
 *
 * <ul>
 *   <li>{@link Type#BIND}: a host file or directory. Options: {@code ro}/{@code rw}, {@code rbind}
 *       (with its submounts, the default) or {@code bind}, {@code nosuid}, {@code nodev},
 *       {@code noexec}, propagation {@code rprivate} (default), {@code private}, {@code rslave},
 *       {@code slave}, {@code rshared}, {@code shared}. {@code ro} on an {@code rbind} makes every
 *       submount read-only too. {@code idmap} (with a {@link ContainerSpec#userNamespace() user namespace}):
 *       the tree is idmapped to the container's namespace, so that its files' host owners show as the
 *       container's ids (host root as the container's root) and what the container writes keeps host ids
 *       on disk.</li>
 *   <li>{@link Type#VOLUME}: a named volume of the runtime ({@link ContainerRuntime#volumes()}),
 *       created when missing. A volume that is empty when mounted over a directory of the image is
 *       first filled with that directory's content, as docker does, unless {@code nocopy}. Options:
 *       {@code ro}/{@code rw}, {@code nocopy}, {@code nosuid}, {@code noexec}, {@code dev}, {@code idmap}.</li>
 *   <li>{@link Type#TMPFS}: options {@code size=64m} (bytes, {@code k}, {@code m}, {@code g} or
 *       {@code %} of memory), {@code mode=1777} (the default), {@code ro}, {@code exec},
 *       {@code suid}, {@code dev}; {@code nosuid,nodev,noexec} otherwise.</li>
 * </ul>
 *
 * <p>Volumes and tmpfs mounts are {@code nodev} unless {@code dev} is given; {@code z} and
 * {@code Z} (SELinux relabelling in docker) are accepted and change nothing.
 *
 * <p>Nothing is mounted on the container's {@code /proc} except over the files of
 * {@link #PROCFS_DESTINATIONS} (what lxcfs provides), named as such: a destination elsewhere below
 * {@code /proc} is refused, and so is a mount whose destination resolves onto procfs through a
 * symlink of the image ({@code /data -> /proc}), when the container starts.
 *
 * @param destination absolute, normalised path in the container; resolved inside its root, so a
 *                    symlink in the image cannot send the mount out of it
 * @param type        what is mounted
 * @param source      the host path (bind), the volume name (volume), or empty (tmpfs)
 * @param options     the mount's options, as above
 */
public record Mount(String destination, Type type, String source, List<String> options) {

    /** The only destinations on the container's procfs a mount may have (runc's list, lxcfs's files). */
    public static final Set<String> PROCFS_DESTINATIONS = Set.of("/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo",
            "/proc/stat", "/proc/swaps", "/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev",
            "/proc/sys/kernel/ns_last_pid");

    /** The kinds of mount, with their OCI names. */
    public enum Type {
        BIND("bind"), VOLUME("volume"), TMPFS("tmpfs");

        private final String ociName;

        Type(String ociName) {
            this.ociName = ociName;
        }

        /** {@code bind}, {@code volume} or {@code tmpfs}. */
        public String ociName() {
            return ociName;
        }
    }

    public Mount {
        Objects.requireNonNull(destination, "mounts: destination");
        Objects.requireNonNull(type, "mounts: type");
        source = source == null ? "" : source;
        options = List.copyOf(Objects.requireNonNull(options, "mounts: options"));
    }

    /** A host file or directory at {@code destination} (docker {@code -v /srv/data:/data:ro}). */
    public static Mount bind(Path source, String destination, String... options) {
        return new Mount(destination, Type.BIND, source.toString(), List.of(options));
    }

    /** The named volume {@code name} at {@code destination}, created when missing (docker {@code -v data:/data}). */
    public static Mount volume(String name, String destination, String... options) {
        return new Mount(destination, Type.VOLUME, name, List.of(options));
    }

    /** A tmpfs at {@code destination} (docker {@code --tmpfs /run:size=64m}). */
    public static Mount tmpfs(String destination, String... options) {
        return new Mount(destination, Type.TMPFS, "", List.of(options));
    }
}
