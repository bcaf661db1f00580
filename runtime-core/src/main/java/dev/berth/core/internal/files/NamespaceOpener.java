package dev.berth.core.internal.files;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * The JVM's end of a rootless copy's reader ({@code OPEN_FILES}, berth-init.c): each open is one request packet
 * (u32 flags, u64 resolve, the path; the directory fd as {@code SCM_RIGHTS}) and one answer ({@code 'F'} and the fd,
 * or {@code 'E'} and an errno). Not thread-safe: one copy's walk uses it.
 */
public final class NamespaceOpener implements FileOpener {
    /** How long an answer may take: the reader opens one file per request, on the same machine. */
    static final int ANSWER_MILLIS = 30_000;
    private static final int PATH_MAX = 4096;

    private final Syscalls sys;
    private final int socket;
    private final Supplier<String> end;
    private final String description;
    private boolean closed;

    /**
     * @param socket the JVM's end of the request socket, which this opener owns
     * @param end    waits for the reader to exit once the socket is closed; says why it failed, or null
     */
    public NamespaceOpener(Syscalls sys, int socket, Supplier<String> end, String description) {
        this.sys = sys;
        this.socket = socket;
        this.end = end;
        this.description = description;
    }

    /** The request packet of one open (little-endian, as the reader, on the same machine, reads it). */
    static byte[] request(String path, int flags, long resolve) {
        byte[] p = path.getBytes(StandardCharsets.UTF_8);
        if (p.length == 0 || p.length >= PATH_MAX || path.indexOf('\0') >= 0) {
            throw new SyscallException("openat2", path, Syscalls.EINVAL, "not a path the copy's reader can open");
        }
        byte[] b = new byte[12 + p.length];
        for (int i = 0; i < 4; i++) {
            b[i] = (byte) (flags >>> (8 * i));
        }
        for (int i = 0; i < 8; i++) {
            b[4 + i] = (byte) (resolve >>> (8 * i));
        }
        System.arraycopy(p, 0, b, 12, p.length);
        return b;
    }

    @Override
    public int open(int dirFd, String path, int flags, long resolve) throws IOException {
        if (closed) {
            throw new IOException(description + ": the copy's reader is closed");
        }
        byte[] request = request(path, flags, resolve);
        try {
            sys.sendWithFd(socket, request, dirFd, path);
        } catch (SyscallException e) { // EPIPE: the reader is gone
            String why = finish();
            throw new IOException(description + ": the copy's reader in the user namespace ended" + (why == null ? ""
                    : ": " + why) + " (opening " + path + ": " + e.getMessage() + ")", e);
        }
        if (!sys.pollIn(socket, ANSWER_MILLIS)) {
            throw new IOException(description + ": the copy's reader in the user namespace did not answer for "
                    + path + " within " + ANSWER_MILLIS + " ms");
        }
        byte[] answer = new byte[5];
        int[] fd = new int[1];
        int n;
        try {
            n = sys.receive(socket, answer, fd);
        } catch (SyscallException e) { // ECONNRESET: the reader was killed mid-answer
            String why = finish();
            throw new IOException(description + ": the copy's reader in the user namespace ended" + (why == null ? ""
                    : ": " + why) + " (opening " + path + ": " + e.getMessage() + ")", e);
        }
        if (n == 1 && answer[0] == 'F' && fd[0] >= 0) {
            return fd[0];
        }
        if (fd[0] >= 0) {
            sys.close(fd[0]);
        }
        if (n == 5 && answer[0] == 'E') {
            int errno = (answer[1] & 0xff) | (answer[2] & 0xff) << 8 | (answer[3] & 0xff) << 16 | (answer[4] & 0xff) << 24;
            throw new SyscallException("openat2", path, errno, sys.strerror(errno));
        }
        String why = n == 0 ? finish() : null;
        throw new IOException(description + ": the copy's reader in the user namespace "
                + (n == 0 ? "ended" + (why == null ? "" : ": " + why) : "answered " + n + " bytes, not an fd or errno")
                + " (opening " + path + ")");
    }

    private String finish() {
        if (closed) {
            return null;
        }
        closed = true;
        try {
            sys.close(socket);
        } catch (SyscallException e) {
            // our own fd
        }
        return end.get();
    }

    @Override
    public void close() {
        finish();
    }
}
