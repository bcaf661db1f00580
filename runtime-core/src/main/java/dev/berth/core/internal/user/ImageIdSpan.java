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
 * and {@code /etc/group} define (the topmost layer that has each).
 *
 * <p>A layer's walk costs about 0.1 ms a file here (5 s for 54,000 files), and every
 * {@code berth run} is a new JVM, so each layer's result is cached: in memory, and as a small file
 * in {@code cacheDir} keyed by the layer's path, inode and ctime (an unpacked layer is read-only
 * once done; one unpacked anew at the same path has another inode or ctime and is walked again).
 * The files are written atomically (temp file, rename); one that cannot be read, or names another
 * key, is ignored and rewritten.
 */
public final class ImageIdSpan {

    /** The largest passwd or group file read (as {@code ImageUsers}). */
    static final int MAX_FILE = 1 << 20;
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** A cached walk. */
    record Cached(@com.fasterxml.jackson.annotation.JsonProperty("layer") String layer,
                  @com.fasterxml.jackson.annotation.JsonProperty("key") String key,
                  @com.fasterxml.jackson.annotation.JsonProperty("uid") long uid,
                  @com.fasterxml.jackson.annotation.JsonProperty("gid") long gid) {}

    /** Per layer key: {highest uid, highest gid}. */
    private final Map<String, long[]> owners = new ConcurrentHashMap<>();
    private final Path cacheDir;

    /** @param cacheDir where walks are cached across JVMs; null: in memory only */
    public ImageIdSpan(Path cacheDir) {
        this.cacheDir = cacheDir;
    }

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
            key = keyOf(layer);
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException("userns auto: layer " + layer + " does not exist", e);
        } catch (IOException e) {
            throw new UncheckedIOException("userns auto: stat " + layer + ": " + e.getMessage(), e);
        }
        return owners.computeIfAbsent(key, k -> cached(layer, k));
    }

    private long[] cached(Path layer, String key) {
        if (cacheDir == null) {
            return walk(layer);
        }
        Path file = cacheFile(key);
        try {
            if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                Cached c = JSON.readValue(Files.readAllBytes(file), Cached.class);
                if (key.equals(c.key()) && c.uid() >= 0 && c.gid() >= 0) {
                    return new long[] {c.uid(), c.gid()};
                }
            }
        } catch (IOException e) {
            // not a cache file this code wrote whole: walk again and replace it
        }
        long[] max = walk(layer);
        try {
            Files.createDirectories(cacheDir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
            Path tmp = Files.createTempFile(cacheDir, ".walk-", ".tmp");
            try {
                Files.write(tmp, JSON.writeValueAsBytes(new Cached(layer.toAbsolutePath().toString(), key, max[0],
                        max[1])));
                Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            // a cache only: the next JVM walks again
        }
        return max;
    }

    /** Drops the cached walks of layers that no longer exist (or were unpacked anew). */
    public void prune() {
        if (cacheDir == null || !Files.isDirectory(cacheDir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (java.nio.file.DirectoryStream<Path> s = Files.newDirectoryStream(cacheDir, "*.json")) {
            for (Path f : s) {
                boolean keep = false;
                try {
                    Cached c = JSON.readValue(Files.readAllBytes(f), Cached.class);
                    keep = c.key().equals(keyOf(Path.of(c.layer())));
                } catch (IOException | RuntimeException e) {
                    // unreadable, or its layer is gone
                }
                if (!keep) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("userns auto: pruning " + cacheDir + ": " + e.getMessage(), e);
        }
    }

    /** What identifies one unpacking of a layer: its path, inode and ctime. */
    static String keyOf(Path layer) throws IOException {
        Map<String, Object> a = Files.readAttributes(layer, "unix:ino,ctime");
        return layer.toAbsolutePath() + "#" + a.get("ino") + "#" + a.get("ctime");
    }

    /** The cache file of a key. */
    Path cacheFile(String key) {
        return cacheDir.resolve(java.util.HexFormat.of().formatHex(sha256(key)) + ".json");
    }

    private static byte[] sha256(String s) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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
