package dev.berth.core;

import java.nio.file.Path;
import java.time.Instant;

/**
 * A named volume of a runtime: a directory under {@code <storageRoot>/volumes/<name>/} that
 * containers mount with {@link Mount#volume}. It outlives the containers that use it.
 *
 * @param name       {@code [a-zA-Z0-9][a-zA-Z0-9_.-]*}
 * @param mountpoint the host directory holding its content ({@code .../volumes/<name>/_data})
 * @param createdAt  when it was created
 */
public record Volume(String name, Path mountpoint, Instant createdAt) {}
