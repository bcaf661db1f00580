package dev.berth.network.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An exclusive lock of a directory across threads and processes: a lock of this JVM, then the
 * {@code flock} of {@code <dir>/.lock} (the directory made first, private to its owner, when it is
 * missing). One instance per kind of directory, kept in a static field, so that its users in one
 * JVM queue on the JVM lock (Java file locks belong to the whole JVM: a second channel locking the
 * same file would throw) and processes on the file. Used by {@code Networks} ({@code networks/})
 * and core's name service ({@code networks/_dns/}).
 */
public final class DirectoryLock {
    private final ReentrantLock jvm = new ReentrantLock();

    /** Waits for this JVM's lock, then for the directory's; closing what it returns releases both. */
    public Held lock(Path dir) throws IOException {
        jvm.lock();
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            FileChannel c = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                return new Held(c, c.lock(), jvm);
            } catch (IOException | RuntimeException e) {
                c.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            jvm.unlock();
            throw e;
        }
    }

    /** The two locks held; {@link #close} releases them. */
    public static final class Held implements AutoCloseable {
        private final FileChannel channel;
        private final ReentrantLock jvm;

        private Held(FileChannel channel, FileLock lock, ReentrantLock jvm) {
            this.channel = channel;
            this.jvm = jvm;
        }

        @Override
        public void close() throws IOException {
            try {
                channel.close(); // releases the flock
            } finally {
                jvm.unlock();
            }
        }
    }
}
