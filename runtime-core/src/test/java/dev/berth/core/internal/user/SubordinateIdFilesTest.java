package dev.berth.core.internal.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.core.SubordinateIds;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SubordinateIdFilesTest {
    private static final Path SUBUID = Path.of("/fake/subuid");

    /** A file system of keys and texts, counting the reads. */
    private static final class FakeFiles {
        final Map<Path, SubordinateIdFiles.Key> keys = new HashMap<>();
        final Map<Path, String> texts = new HashMap<>();
        final List<Path> reads = new ArrayList<>();

        void write(Path f, String text, long dev, long ino, long mtime) {
            keys.put(f, new SubordinateIdFiles.Key(dev, ino, text.length(), mtime, mtime));
            texts.put(f, text);
        }

        SubordinateIdFiles cache() {
            return new SubordinateIdFiles(f -> Optional.ofNullable(keys.get(f)), f -> {
                reads.add(f);
                return SubordinateIds.parse(f, texts.get(f));
            });
        }
    }

    @Test
    void anUnchangedFileIsParsedOnce() {
        FakeFiles fs = new FakeFiles();
        fs.write(SUBUID, "alice:100000:65536\n", 1, 10, 1_000);
        SubordinateIdFiles c = fs.cache();
        SubordinateIds first = c.read(SUBUID);
        for (int i = 0; i < 5; i++) {
            assertSame(first, c.read(SUBUID));
        }
        assertEquals(List.of(SUBUID), fs.reads);
        assertEquals(100000, first.rangesOf("alice").get(0).start());
    }

    @Test
    void eachPartOfTheKeyMakesAReread() {
        FakeFiles fs = new FakeFiles();
        SubordinateIdFiles c = fs.cache();
        fs.write(SUBUID, "alice:100000:65536\n", 1, 10, 1_000);
        c.read(SUBUID);
        // same size and inode, a later mtime (an edit in place)
        fs.write(SUBUID, "alice:200000:65536\n", 1, 10, 2_000);
        assertEquals(200000, c.read(SUBUID).rangesOf("alice").get(0).start());
        // same size and times, another inode (a replacement by rename within one clock tick)
        fs.write(SUBUID, "alice:300000:65536\n", 1, 11, 2_000);
        assertEquals(300000, c.read(SUBUID).rangesOf("alice").get(0).start());
        // another device
        fs.write(SUBUID, "alice:400000:65536\n", 2, 11, 2_000);
        assertEquals(400000, c.read(SUBUID).rangesOf("alice").get(0).start());
        // only the size differs
        fs.texts.put(SUBUID, "alice:400000:6553\n");
        fs.keys.put(SUBUID, new SubordinateIdFiles.Key(2, 11, 18, 2_000, 2_000));
        assertEquals(6553, c.read(SUBUID).rangesOf("alice").get(0).count());
        // only the change time differs (touch -d put the mtime back)
        fs.texts.put(SUBUID, "alice:500000:6553\n");
        fs.keys.put(SUBUID, new SubordinateIdFiles.Key(2, 11, 18, 2_000, 3_000));
        assertEquals(500000, c.read(SUBUID).rangesOf("alice").get(0).start());
        assertEquals(6, fs.reads.size());
    }

    @Test
    void aMissingFileHasNoRangesUntilItAppears() {
        FakeFiles fs = new FakeFiles();
        SubordinateIdFiles c = fs.cache();
        assertTrue(c.read(SUBUID).ranges().isEmpty());
        assertTrue(c.read(SUBUID).ranges().isEmpty());
        assertTrue(fs.reads.isEmpty());
        fs.write(SUBUID, "1000:165536:65536\n", 1, 12, 5_000);
        assertEquals(165536, c.read(SUBUID).rangesOf(null, 1000).get(0).start());
        fs.keys.remove(SUBUID);
        assertTrue(c.read(SUBUID).ranges().isEmpty());
    }

    @Test
    void filesAreKeptApart() {
        FakeFiles fs = new FakeFiles();
        Path subgid = Path.of("/fake/subgid");
        fs.write(SUBUID, "alice:100000:65536\n", 1, 10, 1_000);
        fs.write(subgid, "alice:700000:65536\n", 1, 10, 1_000); // same key, another path
        SubordinateIdFiles c = fs.cache();
        assertEquals(100000, c.read(SUBUID).rangesOf("alice").get(0).start());
        assertEquals(700000, c.read(subgid).rangesOf("alice").get(0).start());
        assertEquals(100000, c.read(SUBUID).rangesOf("alice").get(0).start());
        assertEquals(2, fs.reads.size());
    }

    @Test
    void aMalformedFileIsReportedEveryTimeAndAFixedOneIsRead() {
        FakeFiles fs = new FakeFiles();
        fs.write(SUBUID, "alice:x:65536\n", 1, 10, 1_000);
        SubordinateIdFiles c = fs.cache();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.read(SUBUID));
        assertTrue(e.getMessage().startsWith("/fake/subuid line 1: "), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> c.read(SUBUID));
        fs.write(SUBUID, "alice:100000:65536\n", 1, 10, 2_000);
        assertEquals(100000, c.read(SUBUID).rangesOf("alice").get(0).start());
    }

    @Test
    void aStatErrorNamesTheFile() {
        SubordinateIdFiles c = new SubordinateIdFiles(f -> {
            throw new java.nio.file.AccessDeniedException(f.toString());
        }, SubordinateIds::read);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> c.read(SUBUID));
        assertTrue(e.getMessage().startsWith("stat /fake/subuid: "), e.getMessage());
    }

    @Test
    void realFilesEditedInPlaceOrReplacedAreNoticed(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("subuid");
        Files.writeString(f, "alice:100000:65536\n");
        Files.setLastModifiedTime(f, FileTime.fromMillis(1_000_000));
        SubordinateIdFiles c = new SubordinateIdFiles();
        SubordinateIds first = c.read(f);
        assertSame(first, c.read(f));
        // the same size, written in place, the mtime set back: the change time still moves
        Files.writeString(f, "alice:200000:65536\n");
        Files.setLastModifiedTime(f, FileTime.fromMillis(1_000_000));
        assertEquals(200000, c.read(f).rangesOf("alice").get(0).start());
        // replaced by rename, as usermod does
        Path tmp = dir.resolve("subuid.tmp");
        Files.writeString(tmp, "alice:300000:65536\n");
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        assertEquals(300000, c.read(f).rangesOf("alice").get(0).start());
        Files.delete(f);
        assertTrue(c.read(f).ranges().isEmpty());
    }
}
