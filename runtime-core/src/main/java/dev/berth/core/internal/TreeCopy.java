package dev.berth.core.internal;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.stream.Stream;

/**
 * Copies a directory tree as it is: symlinks as symlinks (never followed), modes, owners and
 * times kept; the top directory's owner and mode go onto the existing target. How a new volume
 * receives an image directory's content.
 */
public final class TreeCopy {
    private TreeCopy() {}

    /** Copies what is below {@code from} into the existing, empty directory {@code to}. */
    public static void copy(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (dir.equals(from)) {
                    for (String a : new String[] {"unix:uid", "unix:gid"}) {
                        Files.setAttribute(to, a, Files.getAttribute(from, a));
                    }
                    Files.setAttribute(to, "unix:mode", (Integer) Files.getAttribute(from, "unix:mode") & 07777);
                } else {
                    Files.copy(dir, target(dir), StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, target(file), StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                return FileVisitResult.CONTINUE;
            }

            private Path target(Path p) {
                return to.resolve(from.relativize(p).toString());
            }
        });
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
