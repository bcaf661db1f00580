package dev.berth.core.internal.files;

import java.io.IOException;

/** How a copy reaches a tree: opened for one operation, released after it. */
public interface TreeAccess {

    /** The tree, opened; closing it releases whatever keeps it reachable. */
    Opened open() throws IOException;

    /** Where a copy out of this tree gets a reader that opens for it ({@link FileOpener}); null: it opens itself. */
    default FileOpener.Source readers() {
        return null;
    }

    /** {@code access} with {@code readers} as its {@link #readers()}. */
    static TreeAccess withReaders(TreeAccess access, FileOpener.Source readers) {
        return new TreeAccess() {
            @Override
            public Opened open() throws IOException {
                return access.open();
            }

            @Override
            public FileOpener.Source readers() {
                return readers;
            }
        };
    }

    /** An opened tree and what to release with it. */
    record Opened(FsRoot root, AutoCloseable hold) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try {
                root.close();
            } finally {
                if (hold != null) {
                    try {
                        hold.close();
                    } catch (IOException | RuntimeException e) {
                        throw e;
                    } catch (Exception e) {
                        throw new IOException(e);
                    }
                }
            }
        }
    }
}
