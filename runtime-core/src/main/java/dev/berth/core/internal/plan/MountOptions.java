package dev.berth.core.internal.plan;

import dev.berth.core.Mount;
import dev.berth.linux.internal.LinuxConstants;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A {@link Mount}'s options, parsed: what the JVM applies to a detached bind or volume tree
 * ({@code open_tree}, {@code mount_setattr}) and what the plan mounts a tmpfs with.
 *
 * @param recursive             a bind with its submounts ({@code rbind}, the default)
 * @param attributes            MOUNT_ATTR_* bits to set on the tree (every mount of it when recursive)
 * @param propagation           MS_PRIVATE, MS_SLAVE or MS_SHARED
 * @param propagationRecursive  whether the propagation applies to every mount of the tree
 * @param copyUp                a volume: fill it from the image when it is empty ({@code nocopy}: not)
 * @param tmpfsFlags            a tmpfs: its mount(2) flags
 * @param tmpfsData             a tmpfs: its mount data ({@code mode=...,size=...})
 * @param idmap                 a bind or volume shown through the container's user namespace ({@code idmap}, as
 *                              podman's): its files' owners mapped as the container's, the host's owners on disk
 */
public record MountOptions(boolean recursive, long attributes, long propagation, boolean propagationRecursive,
        boolean copyUp, long tmpfsFlags, String tmpfsData, boolean idmap) {

    static final long ATTR_RDONLY = LinuxConstants.MOUNT_ATTR_RDONLY;
    static final long ATTR_NOSUID = LinuxConstants.MOUNT_ATTR_NOSUID;
    static final long ATTR_NODEV = LinuxConstants.MOUNT_ATTR_NODEV;
    static final long ATTR_NOEXEC = LinuxConstants.MOUNT_ATTR_NOEXEC;

    private static final Pattern SIZE = Pattern.compile("[0-9]+[kKmMgG%]?");
    private static final Pattern MODE = Pattern.compile("[0-7]{1,4}");
    private static final List<String> PROPAGATION = List.of("private", "rprivate", "slave", "rslave", "shared", "rshared");

    /** Whether the container sees the mount read-only. */
    public boolean readOnly() {
        return (attributes & ATTR_RDONLY) != 0 || (tmpfsFlags & PlanCompiler.MS_RDONLY) != 0;
    }

    /**
     * Parses a mount's options.
     *
     * @throws IllegalArgumentException naming the option that is unknown for the type, or malformed
     */
    public static MountOptions parse(Mount.Type type, List<String> options) {
        boolean recursive = true;
        boolean ro = false;
        // volumes and tmpfs are nodev (their content is the image's or the container's, never a host device)
        boolean nosuid = type == Mount.Type.TMPFS;
        boolean nodev = type != Mount.Type.BIND;
        boolean noexec = type == Mount.Type.TMPFS;
        String propagation = "rprivate";
        boolean copyUp = true;
        String size = null;
        String mode = "1777";
        boolean idmap = false;
        for (String o : options) {
            String opt = o == null ? "" : o;
            switch (opt) {
                case "ro", "readonly" -> ro = true;
                case "rw" -> ro = false;
                case "nosuid" -> nosuid = true;
                case "suid" -> nosuid = false;
                case "nodev" -> nodev = true;
                case "dev" -> nodev = false;
                case "noexec" -> noexec = true;
                case "exec" -> noexec = false;
                case "z", "Z" -> { } // SELinux relabelling: no labels on this runtime
                default -> {
                    if (type == Mount.Type.BIND && (opt.equals("bind") || opt.equals("rbind"))) {
                        recursive = opt.equals("rbind");
                    } else if (type == Mount.Type.BIND && PROPAGATION.contains(opt)) {
                        propagation = opt;
                    } else if (type != Mount.Type.TMPFS && opt.equals("idmap")) {
                        idmap = true;
                    } else if (type == Mount.Type.VOLUME && opt.equals("nocopy")) {
                        copyUp = false;
                    } else if (type == Mount.Type.TMPFS && opt.startsWith("size=")) {
                        size = opt.substring(5);
                        if (!SIZE.matcher(size).matches()) {
                            throw new IllegalArgumentException("\"" + opt + "\": expected size=N with an optional k, m, g or %");
                        }
                    } else if (type == Mount.Type.TMPFS && opt.startsWith("mode=")) {
                        mode = opt.substring(5);
                        if (!MODE.matcher(mode).matches()) {
                            throw new IllegalArgumentException("\"" + opt + "\": expected an octal mode=NNNN");
                        }
                    } else {
                        throw new IllegalArgumentException("\"" + opt + "\" is not an option of a "
                                + type.ociName() + " mount");
                    }
                }
            }
        }
        long attrs = (ro ? ATTR_RDONLY : 0) | (nosuid ? ATTR_NOSUID : 0) | (nodev ? ATTR_NODEV : 0)
                | (noexec ? ATTR_NOEXEC : 0);
        long prop = switch (propagation.replaceFirst("^r", "")) {
            case "slave" -> LinuxConstants.MS_SLAVE;
            case "shared" -> LinuxConstants.MS_SHARED;
            default -> LinuxConstants.MS_PRIVATE;
        };
        if (type == Mount.Type.TMPFS) {
            long flags = (ro ? PlanCompiler.MS_RDONLY : 0) | (nosuid ? PlanCompiler.MS_NOSUID : 0)
                    | (nodev ? PlanCompiler.MS_NODEV : 0) | (noexec ? PlanCompiler.MS_NOEXEC : 0);
            return new MountOptions(false, 0, 0, false, false, flags, "mode=" + mode + (size == null ? "" : ",size=" + size),
                    false);
        }
        return new MountOptions(recursive, attrs, prop, propagation.startsWith("r"), type == Mount.Type.VOLUME && copyUp,
                0, "", idmap);
    }
}
