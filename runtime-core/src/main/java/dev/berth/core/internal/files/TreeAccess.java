package dev.berth.core.internal.files;

import java.io.IOException;

/** How a copy reaches a tree: opened for one operation, released after it. */
public interface TreeAccess {

    /** The tree, opened; closing it releases whatever keeps it reachable. */
    Opened open() throws IOException;

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
