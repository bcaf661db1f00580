package dev.berth.core.internal.files;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Writes a tar of one path of an {@link FsRoot}: the path itself as the archive's top entry
 * (named as the caller says, or left out so that only the contents are archived), and below a
 * directory everything in it. Symlinks are archived as symlinks, never followed; hard links as
 * links to the first name; other entries (devices, FIFOs) as what they are. Every directory is
 * entered through an fd that refuses symlinks, so a container that swaps a directory for a link
 * while it is archived cannot make the archive read outside its root.
 */
final class TreeArchiver {
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

    private final FsRoot root;
    private final boolean dryRun;
    private final TarArchiveOutputStream tar;
    private final Map<String, String> hardLinks = new HashMap<>(); // "dev:ino" -> first name
    private final byte[] buffer = new byte[64 * 1024];

    private TreeArchiver(FsRoot root, OutputStream out, boolean dryRun) {
        this.root = root;
        this.dryRun = dryRun;
        this.tar = new TarArchiveOutputStream(out, 512);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        tar.setAddPaxHeadersForNonAsciiNames(true);
    }

    /**
     * Archives {@code path} (from the tree's top) to {@code out}, which it finishes but does not
     * close. {@code topName} names the top entry; empty archives the directory's contents only.
     *
     * @throws java.nio.file.NoSuchFileException naming the path when it does not exist
     */
    static void archive(FsRoot root, String path, String topName, OutputStream out) throws IOException {
        walk(new TreeArchiver(root, out, false), path, topName);
    }

    /**
     * Walks {@code path} as {@link #archive} would, opening every regular file and listing every directory
     * without reading a byte: fails, naming the entry, where this process may not read what the archive needs
     * (a rootless runtime reads as the user, who may not read the files of the container's other users). A copy
     * checks first, so that it fails before anything is written.
     *
     * @throws java.nio.file.AccessDeniedException naming the entry in the container, its mode and host owner
     */
    static void requireReadable(FsRoot root, String path) throws IOException {
        walk(new TreeArchiver(root, OutputStream.nullOutputStream(), true), path, "x");
    }

    private static void walk(TreeArchiver a, String path, String topName) throws IOException {
        String[] split = CopyPaths.parentAndName(path);
        int parent = a.root.openDirectory(split[0]);
        try {
            String where = split[1].equals(".") ? split[0] : CopyPaths.normalize(split[0] + "/" + split[1]);
            a.entry(parent, split[1], topName, where);
        } finally {
            a.root.close(parent);
        }
        a.tar.finish();
        a.tar.flush();
    }

    /**
     * A permission this process lacks on {@code where} (a path in the tree): one line naming it, its mode and
     * owner as the host sees them, and the uid this process reads as.
     */
    static AccessDeniedException denied(FsRoot root, String where, Path p, String what) {
        String detail;
        try {
            // an fd's own /proc/self/fd/N is followed (to the directory it holds), a name below one never is
            boolean fdItself = p.getParent() != null && p.getParent().equals(Path.of("/proc/self/fd"));
            Map<String, Object> a = fdItself ? Files.readAttributes(p, "unix:mode,uid")
                    : Files.readAttributes(p, "unix:mode,uid", NOFOLLOW);
            detail = String.format("mode %04o, owner uid %d on the host", (Integer) a.get("mode") & 07777, a.get("uid"));
        } catch (IOException | RuntimeException e) {
            detail = "its directory may not be searched";
        }
        return new AccessDeniedException(root.description() + ": " + where, null, what + ": Permission denied ("
                + detail + "; this process reads as uid " + EUID + ", which may not"
                + (EUID == 0 ? "" : ": files of the container's other users are not readable to a rootless runtime;"
                + " see docs/rootless.md") + ")");
    }

    /** This process's effective uid, for errors; not 0: a rootless runtime's, which file permissions apply to. */
    static final long EUID = dev.berth.linux.internal.ProcStatus.effectiveUid();

    /**
     * Archives the child {@code name} of {@code dirFd} as {@code archiveName} (empty: contents only);
     * {@code where} is its path in the tree, for errors.
     */
    private void entry(int dirFd, String name, String archiveName, String where) throws IOException {
        Path p = name.equals(".") ? FsRoot.self(dirFd) : FsRoot.child(dirFd, name);
        Map<String, Object> a;
        try {
            a = Files.readAttributes(p, "unix:mode,uid,gid,size,lastModifiedTime,ino,dev,nlink,rdev", NOFOLLOW);
        } catch (AccessDeniedException e) {
            throw denied(root, where, FsRoot.self(dirFd), "its directory cannot be searched");
        }
        int mode = (Integer) a.get("mode");
        int type = mode & Syscalls.S_IFMT;
        if (archiveName.isEmpty() && type != Syscalls.S_IFDIR) {
            throw new IOException(root.description() + ": " + name + " is not a directory: only a directory's contents"
                    + " can be copied (a path ending in /.)");
        }
        if (type == Syscalls.S_IFDIR) {
            int child = root.openChildDirectory(dirFd, name);
            try {
                if (!archiveName.isEmpty()) {
                    put(header(archiveName + "/", TarConstants.LF_DIR, a), null, 0);
                }
                List<String> names = new ArrayList<>();
                try (var listing = Files.newDirectoryStream(FsRoot.self(child))) {
                    listing.forEach(e -> names.add(e.getFileName().toString()));
                } catch (AccessDeniedException e) {
                    throw denied(root, where, FsRoot.self(child), "its entries cannot be listed");
                }
                names.sort(null); // a stable archive for the same tree
                for (String n : names) {
                    entry(child, n, archiveName.isEmpty() ? n : archiveName + "/" + n,
                            where.equals("/") ? "/" + n : where + "/" + n);
                }
            } finally {
                root.close(child);
            }
            return;
        }
        if (type == Syscalls.S_IFLNK) {
            TarArchiveEntry e = header(archiveName, TarConstants.LF_SYMLINK, a);
            e.setLinkName(Files.readSymbolicLink(p).toString());
            put(e, null, 0);
            return;
        }
        if (type == Syscalls.S_IFREG) {
            String key = a.get("dev") + ":" + a.get("ino");
            if ((Integer) a.get("nlink") > 1) {
                String first = hardLinks.putIfAbsent(key, archiveName);
                if (first != null) {
                    TarArchiveEntry e = header(archiveName, TarConstants.LF_LINK, a);
                    e.setLinkName(first);
                    put(e, null, 0);
                    return;
                }
            }
            int fd;
            try {
                fd = root.openChild(dirFd, name, Syscalls.O_RDONLY);
            } catch (SyscallException e) {
                if (e.errno() == Syscalls.EACCES) {
                    throw denied(root, where, p, "it cannot be read");
                }
                throw e;
            }
            try {
                TarArchiveEntry e = header(archiveName, TarConstants.LF_NORMAL, a);
                e.setSize(dryRun ? 0 : (Long) a.get("size"));
                put(e, dryRun ? null : root.sys(), fd);
            } finally {
                root.close(fd);
            }
            return;
        }
        byte kind = type == Syscalls.S_IFCHR ? TarConstants.LF_CHR : type == Syscalls.S_IFBLK ? TarConstants.LF_BLK
                : type == Syscalls.S_IFIFO ? TarConstants.LF_FIFO : 0;
        if (kind == 0) {
            return; // a socket: nothing a tar can hold
        }
        TarArchiveEntry e = header(archiveName, kind, a);
        long rdev = (Long) a.get("rdev");
        e.setDevMajor((int) (((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & 0xfffff000L)));
        e.setDevMinor((int) ((rdev & 0xff) | ((rdev >>> 12) & 0xffffff00L)));
        put(e, null, 0);
    }

    private static TarArchiveEntry header(String name, byte kind, Map<String, Object> a) {
        TarArchiveEntry e = new TarArchiveEntry(name, kind, true);
        e.setMode((Integer) a.get("mode") & 07777);
        e.setUserId(((Integer) a.get("uid")).longValue());
        e.setGroupId(((Integer) a.get("gid")).longValue());
        // whole seconds, as tar keeps them: a fraction would cost every entry a PAX header
        e.setModTime(((FileTime) a.get("lastModifiedTime")).toMillis() / 1000 * 1000);
        return e;
    }

    /** Writes the header and, for a regular file, exactly its size in bytes read from {@code fd}. */
    private void put(TarArchiveEntry e, Syscalls sys, int fd) throws IOException {
        tar.putArchiveEntry(e);
        if (sys != null) {
            long left = e.getSize();
            while (left > 0) {
                int n = sys.read(fd, buffer, 0, (int) Math.min(buffer.length, left));
                if (n <= 0) {
                    throw new IOException(root.description() + ": " + e.getName() + " shrank while it was copied");
                }
                tar.write(buffer, 0, n);
                left -= n;
            }
        }
        tar.closeArchiveEntry();
    }
}
