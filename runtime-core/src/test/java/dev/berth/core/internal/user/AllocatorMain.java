package dev.berth.core.internal.user;

import dev.berth.core.UserNamespace;
import dev.berth.core.internal.linux.LinuxSyscalls;
import java.nio.file.Path;
import java.util.List;

/**
 * A child JVM of {@link IdRangeAllocatorTest}: {@code DIR SUBUID SUBGID PREFIX COUNT SIZE} allocates
 * COUNT ranges of SIZE ids for containers PREFIX-0.., after waiting for DIR/go to exist (so that
 * two children start allocating at the same moment), and prints each mapping.
 */
public final class AllocatorMain {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        IdRangeAllocator a = new IdRangeAllocator(dir.resolve(IdRangeAllocator.DIR), Path.of(args[1]), Path.of(args[2]),
                new LinuxSyscalls(), id -> true);
        Path go = dir.resolve("go");
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!java.nio.file.Files.exists(go) && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        int count = Integer.parseInt(args[4]);
        long size = Long.parseLong(args[5]);
        for (int i = 0; i < count; i++) {
            UserNamespace ns = a.allocate(args[3] + "-" + i, UserNamespace.auto(size), List.of());
            System.out.println(args[3] + "-" + i + " " + ns.uidMap() + " " + ns.gidMap());
        }
    }
}
