package dev.berth.core.internal.plan;

import dev.berth.cgroups.Cgroup;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What the runtime shows a container of its host, bind-mounted below its root before pivot_root:
 * its own cgroup at {@code /sys/fs/cgroup}, read-only, and the files the runtime generated for it
 * ({@code /etc/hosts}, {@code /etc/hostname}, {@code /etc/resolv.conf}) from its state directory.
 *
 * @param cgroups      the container's own cgroup directories
 * @param files        host files bind-mounted (read-write, as docker does) onto paths in the root
 * @param rootWritable whether a missing mount point for a file may be made in the root; when not (a
 *                     directory root on a read-only file system), a file whose mount point is missing
 *                     is left out
 */
public record ContainerView(CgroupView cgroups, List<FileMount> files, boolean rootWritable) {

    /** Nothing shown: an empty /sys/fs/cgroup, the root's own /etc. */
    public static final ContainerView NONE = new ContainerView(CgroupView.NONE, List.of(), true);

    public ContainerView {
        Objects.requireNonNull(cgroups, "cgroups");
        files = List.copyOf(files);
    }

    /** A trusted host file (in the container's state directory) and the path in the root it is mounted on. */
    public record FileMount(String source, String target) {}

    /**
     * The container's own cgroup directories: on a cgroup v2 host its v2 directory is
     * {@code /sys/fs/cgroup} itself; otherwise a tmpfs there holds one directory per hierarchy the
     * container joined (and {@code unified} for its v2 directory on a hybrid host), as docker's.
     *
     * @param v2Root      the v2 directory shown as /sys/fs/cgroup, or null
     * @param hierarchies the directories shown below a tmpfs at /sys/fs/cgroup otherwise
     */
    public record CgroupView(String v2Root, List<Hierarchy> hierarchies) {
        public static final CgroupView NONE = new CgroupView(null, List.of());
        private static final Pattern NAME = Pattern.compile("(?!\\.\\.?$)[A-Za-z0-9_.,=-]{1,64}");

        public CgroupView {
            hierarchies = List.copyOf(hierarchies);
        }

        /**
         * One directory below /sys/fs/cgroup.
         *
         * @param name    its name there (the host's mount point name: {@code memory}, {@code cpu,cpuacct})
         * @param source  the container's own directory in the hierarchy, on the host
         * @param aliases symlinks to it, one per controller of a co-mounted hierarchy ({@code cpu -> cpu,cpuacct})
         */
        public record Hierarchy(String name, String source, List<String> aliases) {
            public Hierarchy {
                aliases = List.copyOf(aliases);
            }
        }

        /**
         * The view of a container's cgroup.
         *
         * @param v2Host  true on a cgroup v2 host, where the v2 directory is the whole view
         * @param unified the container's v2 directory, if it has one
         * @param v1      its directories in the v1 hierarchies it joined
         */
        public static CgroupView of(boolean v2Host, Optional<Path> unified, List<Cgroup.V1Directory> v1) {
            if (v2Host) {
                return unified.map(u -> new CgroupView(u.toString(), List.of())).orElse(NONE);
            }
            List<Hierarchy> hs = new ArrayList<>();
            for (Cgroup.V1Directory d : v1) {
                if (!NAME.matcher(d.hierarchy()).matches()) {
                    continue; // a hierarchy mounted under a name no directory below /sys/fs/cgroup can have
                }
                List<String> aliases = d.controllers().stream().filter(c -> !c.equals(d.hierarchy())).sorted().toList();
                hs.add(new Hierarchy(d.hierarchy(), d.path().toString(), aliases));
            }
            unified.ifPresent(u -> hs.add(new Hierarchy("unified", u.toString(), List.of())));
            return new CgroupView(null, hs);
        }
    }
}
