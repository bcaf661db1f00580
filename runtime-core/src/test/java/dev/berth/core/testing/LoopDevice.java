package dev.berth.core.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A loop device over a small file holding a known secret ({@code losetup -f --show FILE}): a real
 * block device (major 7) to prove the device policy with, where this machine refuses its disk even
 * to root. Detached on close.
 */
public final class LoopDevice implements AutoCloseable {
    public static final String SECRET = "TOP-SECRET-OF-THE-HOST";

    public final Path file;
    public final Path node;
    public final long major;
    public final long minor;

    private LoopDevice(Path file, Path node, long major, long minor) {
        this.file = file;
        this.node = node;
        this.major = major;
        this.minor = minor;
    }

    public static LoopDevice attach(Path dir) throws IOException, InterruptedException {
        Path file = dir.resolve("loop-backing-" + System.nanoTime());
        byte[] content = new byte[1 << 20];
        byte[] secret = SECRET.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(secret, 0, content, 0, secret.length);
        Files.write(file, content);
        String dev = HostCommand.run("losetup", "-f", "--show", file.toString()).trim();
        long rdev = (Long) Files.getAttribute(Path.of(dev), "unix:rdev");
        return new LoopDevice(file, Path.of(dev), (rdev >>> 8) & 0xfff, (rdev & 0xff) | ((rdev >>> 12) & 0xfff00));
    }

    /** What the backing file holds now, from its start. */
    public String content(int length) throws IOException {
        byte[] all = Files.readAllBytes(file);
        return new String(all, 0, length, StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        HostCommand.run("losetup", "-d", node.toString());
        Files.deleteIfExists(file);
    }
}
