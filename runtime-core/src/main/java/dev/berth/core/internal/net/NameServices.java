package dev.berth.core.internal.net;

import java.nio.file.Path;

/** The name service of a storage root's user networks. */
public final class NameServices {
    private NameServices() {}

    public static NameService forStorage(Path storageRoot) {
        return NameService.NONE;
    }
}
