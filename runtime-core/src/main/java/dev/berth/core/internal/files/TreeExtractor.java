package dev.berth.core.internal.files;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.linux.internal.ProcStatus;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Extracts a tar into a directory of an {@link FsRoot}. The directory is resolved inside the
 * tree (a symlink on the way resolves inside it too); below it every entry name is taken one
 * component at a time, never through a symlink, and {@code ..} is refused: whatever the archive
 * and whatever the tree already holds, nothing is written outside the directory. Regular files,
 * directories, symlinks, hard links (to names of the same archive) and FIFOs are made; device
 * nodes are refused. An existing file or link of an entry's name is replaced, an existing
 * directory is entered (docker's {@code cp}).
 */
final class TreeExtractor {
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

    private final FsRoot root;
    private final int top;
    private final boolean keepOwners;
    private final byte[] buffer = new byte[64 * 1024];

    private TreeExtractor(FsRoot root, int top, boolean keepOwners) {
        this.root = root;
        this.top = top;
        this.keepOwners = keepOwners;
    }

    /**
     * Extracts {@code tar} below {@code dirPath}, which must be a directory. With
     * {@code keepOwners}, entries keep the archive's uid and gid; otherwise they belong to root.
     */
    static void extract(FsRoot root, String dirPath, InputStream tar, boolean keepOwners) throws IOException {
        int dir;
        try {
            dir = root.openDirectory(dirPath);
        } catch (SyscallException e) {
            throw new IOException(root.description() + ": " + dirPath + ": " + e.getMessage(), e);
        }
        try {
            TreeExtractor x = new TreeExtractor(root, dir, keepOwners);
            TarArchiveInputStream in = new TarArchiveInputStream(tar);
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                x.entry(e, in);
            }
        } finally {
            root.close(dir);
        }
    }

    private void entry(TarArchiveEntry e, InputStream data) throws IOException {
        List<String> parts = components(e.getName());
        if (parts.isEmpty()) {
            apply(FsRoot.self(top), e); // "./": the directory itself
            return;
        }
        int parent = directoryOf(parts, e.getName());
        try {
            String name = parts.get(parts.size() - 1);
            Path p = FsRoot.child(parent, name);
            if (e.isDirectory()) {
                if (!Files.isDirectory(p, NOFOLLOW)) {
                    removeNonDirectory(p, e);
                    Files.createDirectory(p);
                }
                apply(p, e);
                return;
            }
            if (e.isCharacterDevice() || e.isBlockDevice()) {
                throw new IOException(root.description() + ": " + e.getName() + ": device nodes are not copied");
            }
            removeNonDirectory(p, e);
            if (e.isSymbolicLink()) {
                Files.createSymbolicLink(p, Path.of(e.getLinkName()));
                if (keepOwners && CHOWNS) {
                    Files.setAttribute(p, "unix:uid", (int) e.getLongUserId(), NOFOLLOW);
                    Files.setAttribute(p, "unix:gid", (int) e.getLongGroupId(), NOFOLLOW);
                }
                return;
            }
            if (e.isLink()) {
                List<String> target = components(e.getLinkName());
                if (target.isEmpty()) {
                    throw new IOException(root.description() + ": " + e.getName() + ": hard link to the top directory");
                }
                int targetDir = directoryOf(target, e.getLinkName());
                try {
                    Files.createLink(p, FsRoot.child(targetDir, target.get(target.size() - 1)));
                } finally {
                    root.close(targetDir);
                }
                return;
            }
            if (e.isFIFO()) {
                throw new IOException(root.description() + ": " + e.getName() + ": FIFOs are not copied");
            }
            if (!e.isFile()) {
                throw new IOException(root.description() + ": " + e.getName() + ": unsupported tar entry type");
            }
            int fd = root.openChild(parent, name, Syscalls.O_WRONLY | Syscalls.O_CREAT | Syscalls.O_EXCL);
            try {
                for (int n; (n = data.read(buffer)) > 0; ) {
                    for (int off = 0; off < n; ) {
                        off += root.sys().write(fd, buffer, off, n - off);
                    }
                }
            } finally {
                root.close(fd);
            }
            apply(p, e);
        } catch (SyscallException ex) {
            throw new IOException(root.description() + ": " + e.getName() + ": " + ex.getMessage(), ex);
        } finally {
            root.close(parent);
        }
    }

    /**
     * The entry name's components: no leading slash, no {@code .}; {@code ..} refused, as it could
     * only mean "outside the directory".
     */
    private List<String> components(String entryName) throws IOException {
        List<String> out = new ArrayList<>();
        for (String c : entryName.split("/")) {
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                throw new IOException(root.description() + ": tar entry " + entryName + " leaves the directory (..)");
            }
            out.add(c);
        }
        return out;
    }

    /** An fd of the directory holding the last component, made as needed; no symlink is ever followed. */
    private int directoryOf(List<String> parts, String entryName) throws IOException {
        int dir = root.sys().openat2(top, ".", FsRoot.DIR, FsRoot.BENEATH_NO_LINKS);
        try {
            for (int i = 0; i < parts.size() - 1; i++) {
                Path p = FsRoot.child(dir, parts.get(i));
                if (!Files.exists(p, NOFOLLOW)) {
                    Files.createDirectory(p);
                }
                int next;
                try {
                    next = root.openChildDirectory(dir, parts.get(i));
                } catch (SyscallException e) {
                    throw new IOException(root.description() + ": " + entryName + ": " + parts.get(i)
                            + " is not a directory of the destination (a symlink is not followed): " + e.getMessage(), e);
                }
                root.close(dir);
                dir = next;
            }
            return dir;
        } catch (IOException | RuntimeException e) {
            root.close(dir);
            throw e;
        }
    }

    /** Removes what stands at {@code p} unless it is a directory (which an entry may not replace). */
    private void removeNonDirectory(Path p, TarArchiveEntry e) throws IOException {
        if (Files.isDirectory(p, NOFOLLOW)) {
            if (e.isDirectory()) {
                return;
            }
            throw new FileAlreadyExistsException(root.description() + ": " + e.getName()
                    + ": cannot overwrite a directory with a non-directory");
        }
        try {
            Files.deleteIfExists(p);
        } catch (DirectoryNotEmptyException | NoSuchFileException ignored) {
            // a race with the container: the create below reports what stands there now
        }
    }

    /**
     * Whether this process may give files owners (root). Rootless, what it makes is the user's, which is the
     * container's root inside and the user on the host: no other owner can be given, so none is tried.
     */
    private static final boolean CHOWNS = chowns();

    private static boolean chowns() {
        try {
            return ProcStatus.isRoot();
        } catch (RuntimeException e) {
            return true; // assume root: a chown then fails loudly rather than being skipped
        }
    }

    /** Mode, owner and time of a made entry (never through a symlink). */
    private void apply(Path p, TarArchiveEntry e) throws IOException {
        if (!CHOWNS) {
            // rootless: the entry stays the user's
        } else if (keepOwners) {
            Files.setAttribute(p, "unix:uid", (int) e.getLongUserId(), NOFOLLOW);
            Files.setAttribute(p, "unix:gid", (int) e.getLongGroupId(), NOFOLLOW);
        } else {
            Files.setAttribute(p, "unix:uid", 0, NOFOLLOW);
            Files.setAttribute(p, "unix:gid", 0, NOFOLLOW);
        }
        // after the owner: chown clears setuid and setgid bits
        if (!CHOWNS) {
            // rootless: by an O_PATH fd of the entry itself (no symlink followed, and no open for reading, which
            // its mode may refuse to a user that, unlike root, does not bypass it)
            int fd = root.sys().open(p.toString(), dev.berth.core.internal.sys.Syscalls.O_PATH
                    | dev.berth.core.internal.sys.Syscalls.O_NOFOLLOW | dev.berth.core.internal.sys.Syscalls.O_CLOEXEC, 0);
            try {
                Files.setAttribute(Path.of("/proc/self/fd/" + fd), "unix:mode", e.getMode() & 07777);
                Files.setLastModifiedTime(Path.of("/proc/self/fd/" + fd), FileTime.fromMillis(e.getModTime().getTime()));
            } finally {
                root.sys().close(fd);
            }
            return;
        }
        Files.setAttribute(p, "unix:mode", e.getMode() & 07777, NOFOLLOW);
        // (a directory's time changes again as entries are made in it, as with docker cp)
        Files.setLastModifiedTime(p, FileTime.fromMillis(e.getModTime().getTime()));
    }
}
