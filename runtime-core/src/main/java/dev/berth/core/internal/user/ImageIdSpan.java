package dev.berth.core.internal.user;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The highest uid and gid an image uses, as podman's {@code --userns=auto} sizes its range: the
 * owners of every file of its unpacked layers, and the users and groups its {@code /etc/passwd}
 * and {@code /etc/group} define (the topmost layer that has each). A layer's walk is cached by its
 * directory (an unpacked layer is read-only once done), so a second container of an image costs
 * nothing; the JDK image's 7,000 files take a few tens of milliseconds the first time.
 */
public final class ImageIdSpan {

    /** The largest passwd or group file read (as {@code ImageUsers}). */
    static final int MAX_FILE = 1 << 20;

    /** Per layer directory (with its inode, so a replaced layer is walked again): {highest uid, highest gid}. */
    private final Map<String, long[]> owners = new ConcurrentHashMap<>();

    /**
     * The highest uid and gid of the layers ({@code lowerLayers} topmost first, as overlay's
     * {@code lowerdir}), or {0, 0} for none.
     *
     * @throws UncheckedIOException naming the layer or file that could not be read
     */
    public long[] highest(List<Path> lowerLayers) {
        long uid = 0;
        long gid = 0;
        for (Path layer : lowerLayers) {
            long[] o = owners(layer);
            uid = Math.max(uid, o[0]);
            gid = Math.max(gid, o[1]);
        }
        uid = Math.max(uid, highestId(lowerLayers, "etc/passwd", 2));
        gid = Math.max(gid, highestId(lowerLayers, "etc/group", 2));
        return new long[] {uid, gid};
    }

    private long[] owners(Path layer) {
        String key;
        try {
            key = layer.toAbsolutePath() + "#" + Files.getAttribute(layer, "unix:ino");
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException("userns auto: layer " + layer + " does not exist", e);
        } catch (IOException e) {
            throw new UncheckedIOException("userns auto: stat " + layer + ": " + e.getMessage(), e);
        }
        return owners.computeIfAbsent(key, k -> walk(layer));
    }

    private static long[] walk(Path layer) {
        long[] max = new long[2];
        try {
            Files.walkFileTree(layer, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    note(dir);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    note(file);
                    return FileVisitResult.CONTINUE;
                }

                private void note(Path p) throws IOException {
                    Map<String, Object> a = Files.readAttributes(p, "unix:uid,gid", LinkOption.NOFOLLOW_LINKS);
                    max[0] = Math.max(max[0], Integer.toUnsignedLong((Integer) a.get("uid")));
                    max[1] = Math.max(max[1], Integer.toUnsignedLong((Integer) a.get("gid")));
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("userns auto: walking layer " + layer + ": " + e.getMessage(), e);
        }
        return max;
    }

    /** The highest number in field {@code field} of the topmost layer's {@code file} (passwd: uid, group: gid). */
    static long highestId(List<Path> lowerLayers, String file, int field) {
        for (Path layer : lowerLayers) {
            Path f = layer.resolve(file);
            if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                continue; // a symlink is not followed out of the layer; a lower layer may have the file
            }
            try {
                if (Files.size(f) > MAX_FILE) {
                    throw new UncheckedIOException(new IOException("userns auto: " + f + " is larger than "
                            + MAX_FILE + " bytes"));
                }
                return highestIdIn(new String(Files.readAllBytes(f), StandardCharsets.UTF_8), field);
            } catch (IOException e) {
                throw new UncheckedIOException("userns auto: read " + f + ": " + e.getMessage(), e);
            }
        }
        return 0;
    }

    /**
     * The highest id in field {@code field} (0-based) of passwd- or group-format text. Lines that do
     * not have a number there (comments, NIS {@code +} lines, junk) add nothing, as libc skips them.
     */
    static long highestIdIn(String text, int field) {
        long max = 0;
        for (String line : text.split("\n")) {
            String[] f = line.split(":", -1);
            if (f.length <= field) {
                continue;
            }
            try {
                long id = Long.parseLong(f[field].strip());
                if (id >= 0 && id < 0xFFFF_FFFFL) {
                    max = Math.max(max, id);
                }
            } catch (NumberFormatException e) {
                // not an entry libc would read
            }
        }
        return max;
    }
}
