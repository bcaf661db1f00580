package dev.berth.core.internal;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Copies a directory tree as it is: symlinks as symlinks (never followed), modes, owners, times
 * and extended attributes kept (file capabilities, ACLs, {@code user.*}), hard links kept as hard
 * links; the top directory's owner, mode and attributes go onto the existing target. How a new
 * volume receives an image directory's content, as docker's copy does.
 */
public final class TreeCopy {
    private TreeCopy() {}

    /** Copies what is below {@code from} into the existing, empty directory {@code to}. */
    public static void copy(Syscalls sys, Path from, Path to) throws IOException {
        Map<Object, Path> linked = new HashMap<>(); // (device, inode) of a file with several links -> its copy
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (dir.equals(from)) {
                    for (String a : new String[] {"unix:uid", "unix:gid"}) {
                        Files.setAttribute(to, a, Files.getAttribute(from, a));
                    }
                    Files.setAttribute(to, "unix:mode", (Integer) Files.getAttribute(from, "unix:mode") & 07777);
                    copyXattrs(sys, from, to);
                } else {
                    copyEntry(dir);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Object key = attrs.isRegularFile() && (Integer) Files.getAttribute(file, "unix:nlink",
                        LinkOption.NOFOLLOW_LINKS) > 1 ? attrs.fileKey() : null;
                Path first = key == null ? null : linked.get(key);
                if (first != null) {
                    Files.createLink(target(file), first);
                } else {
                    copyEntry(file);
                    if (key != null) {
                        linked.put(key, target(file));
                    }
                }
                return FileVisitResult.CONTINUE;
            }

            private void copyEntry(Path p) throws IOException {
                Path t = target(p);
                Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                copyXattrs(sys, p, t);
            }

            private Path target(Path p) {
                return to.resolve(from.relativize(p).toString());
            }
        });
    }

    /**
     * The extended attributes of {@code from} itself onto {@code to} itself. Where the target's file
     * system has no room for a namespace (EOPNOTSUPP) the attribute is left out; the source's
     * file system offering none at all is no error either.
     */
    private static void copyXattrs(Syscalls sys, Path from, Path to) throws IOException {
        java.util.List<String> names;
        try {
            names = sys.listXattrs(from.toString());
        } catch (SyscallException e) {
            if (e.errno() == Syscalls.EOPNOTSUPP) {
                return;
            }
            throw new IOException(e.getMessage(), e);
        }
        for (String name : names) {
            try {
                sys.setXattr(to.toString(), name, sys.getXattr(from.toString(), name));
            } catch (SyscallException e) {
                if (e.errno() != Syscalls.EOPNOTSUPP) {
                    throw new IOException(e.getMessage(), e);
                }
            }
        }
    }

    /** Removes everything below {@code dir}, keeping {@code dir}; symlinks are removed, never followed. */
    public static void clear(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                if (!p.equals(dir)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** Whether {@code dir} has no entries. */
    public static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }
}
