package dev.berth.core;

/**
 * How a container's captured stdout and stderr are kept ({@link ContainerSpec.Builder#logging}): one
 * JSON object a line in {@code container.log} (docker's json-file format), rotated to
 * {@code container.log.1}, ... when it would grow past {@code maxSize} bytes, at most {@code maxFiles}
 * files in all (docker's {@code --log-opt max-size}, {@code max-file}). The container's monitor writes
 * them, so nothing is lost while no JVM is attached, and a container that writes gigabytes takes at
 * most {@code maxSize × maxFiles} of disk.
 *
 * @param maxSize  bytes a file may reach before it is rotated; at least {@value #MIN_SIZE}
 * @param maxFiles files kept, the current one included; 1 to {@value #MAX_FILES}
 */
public record LogConfig(long maxSize, int maxFiles) {

    public static final long MIN_SIZE = 4096;
    public static final int MAX_FILES = 100;
    /** 20 MiB a file, 5 files: the defaults of docker's {@code local} log driver. */
    public static final LogConfig DEFAULT = new LogConfig(20L << 20, 5);

    public LogConfig {
        if (maxSize < MIN_SIZE) {
            throw new IllegalArgumentException("logging.maxSize: " + maxSize + " bytes; at least " + MIN_SIZE);
        }
        if (maxFiles < 1 || maxFiles > MAX_FILES) {
            throw new IllegalArgumentException("logging.maxFiles: " + maxFiles + "; 1 to " + MAX_FILES);
        }
    }

    public static LogConfig of(long maxSize, int maxFiles) {
        return new LogConfig(maxSize, maxFiles);
    }
}
