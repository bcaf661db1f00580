package dev.berth.core;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The exit command of a detached container whose restart policy is not {@code no}: the monitor
 * (berth-init, EXIT_COMMAND op) starts it once the container ended and its exit record was
 * written, as conmon runs {@code podman container cleanup}. It opens a runtime on the given roots
 * (without reconciling anything else), and under the container's supervisor lease settles the exit
 * and applies the restart policy: {@code restarting} through the backoff, then a new detached run
 * with the same id and storage, unless a stop was recorded meanwhile. Whoever else holds the lease
 * (a runtime that supervises the container) handles the exit instead, and this command exits at
 * once. It writes one line to stderr (the state directory's {@code exit-command.log}) and exits 0
 * when it handled the exit (or had nothing to do), 1 when handling it failed, 2 for bad arguments.
 *
 * <p>Usage: {@code ExitCommand --state-root DIR --storage-root DIR [--no-cgroups] ID}
 */
final class ExitCommand {
    private ExitCommand() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        Path stateRoot = null;
        Path storageRoot = null;
        boolean cgroups = true;
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--state-root", "--storage-root" -> {
                    if (i + 1 >= args.length || args[i + 1].isEmpty()) {
                        return usage(a + ": a directory is missing");
                    }
                    Path p = Path.of(args[++i]);
                    if (!p.isAbsolute()) {
                        return usage(a + ": " + p + " is not an absolute path");
                    }
                    if (a.equals("--state-root")) {
                        stateRoot = p;
                    } else {
                        storageRoot = p;
                    }
                }
                case "--no-cgroups" -> cgroups = false;
                default -> {
                    if (a.startsWith("-")) {
                        return usage("unknown option " + a);
                    }
                    ids.add(a);
                }
            }
        }
        if (stateRoot == null || storageRoot == null) {
            return usage((stateRoot == null ? "--state-root" : "--storage-root") + " is missing");
        }
        if (ids.size() != 1) {
            return usage("one container id expected, got " + ids.size());
        }
        String id = ids.get(0);
        boundLog(stateRoot, id);
        try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(stateRoot).storageRoot(storageRoot)
                .cgroups(cgroups).reconcile(false).build()) {
            System.err.println("berth exit command: " + runtime.handleDetachedExit(id));
            return 0;
        } catch (InterruptedException e) {
            System.err.println("berth exit command: container " + id + ": interrupted");
            return 1;
        } catch (RuntimeException e) {
            System.err.println("berth exit command: container " + id + ": " + e.getMessage());
            return 1;
        }
    }

    /** The most the log (stderr, appended to by each exit command) keeps: older lines go first. */
    static final long LOG_LIMIT = 64 * 1024;

    /** Keeps the state dir's exit-command.log below {@link #LOG_LIMIT}: past it, it starts over. */
    private static void boundLog(Path stateRoot, String id) {
        if (!dev.berth.core.internal.StateStore.ID.matcher(id).matches()) {
            return;
        }
        Path log = stateRoot.resolve(id).resolve("exit-command.log");
        try {
            if (java.nio.file.Files.isRegularFile(log, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    && java.nio.file.Files.size(log) > LOG_LIMIT) {
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(log,
                        java.nio.file.StandardOpenOption.WRITE, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    ch.truncate(0); // stderr appends: its next line lands at the new end
                }
            }
        } catch (java.io.IOException e) {
            System.err.println("berth exit command: bounding " + log + ": " + e.getMessage());
        }
    }

    private static int usage(String problem) {
        System.err.println("berth exit command: " + problem + " (usage: ExitCommand --state-root DIR --storage-root DIR"
                + " [--no-cgroups] ID)");
        return 2;
    }
}
