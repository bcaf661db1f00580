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
    private final FileOpener opener; // null: this process opens; else every entry is opened through it
    private final boolean dryRun;
    private final TarArchiveOutputStream tar;
    private final Map<String, String> hardLinks = new HashMap<>(); // "dev:ino" -> first name
    private final byte[] buffer = new byte[64 * 1024];

    private TreeArchiver(FsRoot root, FileOpener opener, OutputStream out, boolean dryRun) {
        this.root = root;
        this.opener = opener;
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
        walk(new TreeArchiver(root, null, out, false), path, topName);
    }

    /**
     * {@link #archive} with every entry opened by {@code opener} (a rootless runtime's reader in the user
     * namespace): this process then reads, lists and stats only through the fds it is given.
     */
    static void archive(FsRoot root, FileOpener opener, String path, String topName, OutputStream out)
            throws IOException {
        walk(new TreeArchiver(root, opener, out, false), path, topName);
    }

    /** {@link #requireReadable(FsRoot, String)} as {@code opener} opens. */
    static void requireReadable(FsRoot root, FileOpener opener, String path) throws IOException {
        walk(new TreeArchiver(root, opener, OutputStream.nullOutputStream(), true), path, "x");
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
        walk(new TreeArchiver(root, null, OutputStream.nullOutputStream(), true), path, "x");
    }

    private static void walk(TreeArchiver a, String path, String topName) throws IOException {
        String[] split = CopyPaths.parentAndName(path);
        int parent = a.opener == null ? a.root.openDirectory(split[0]) : a.openThrough(a.root.fd(),
                FsRoot.relative(split[0]), FsRoot.DIR, FsRoot.IN_ROOT, split[0]);
        try {
            String where = split[1].equals(".") ? split[0] : CopyPaths.normalize(split[0] + "/" + split[1]);
            if (a.opener == null) {
                a.entry(parent, split[1], topName, where);
            } else {
                a.entryThrough(parent, split[1], 0, topName, where);
            }
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
            // the fd itself ("."): its /proc/self/fd link followed, to the directory (not the magic link's own lstat)
            a = Files.readAttributes(p, "unix:mode,uid,gid,size,lastModifiedTime,ino,dev,nlink,rdev",
                    name.equals(".") ? new LinkOption[0] : NOFOLLOW);
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

    // ---- through an opener: every entry opened by it, then read, listed and stated by fd ----

    /** The open flags for an entry of this type ({@code S_IF*}; 0: unknown): nothing blocks, no symlink is followed. */
    private static int flagsFor(int type) {
        if (type == Syscalls.S_IFDIR) {
            return Syscalls.O_RDONLY | Syscalls.O_DIRECTORY | Syscalls.O_NOFOLLOW;
        }
        if (type == Syscalls.S_IFREG) {
            return Syscalls.O_RDONLY | Syscalls.O_NOFOLLOW | Syscalls.O_NONBLOCK;
        }
        return Syscalls.O_PATH | Syscalls.O_NOFOLLOW; // symlinks, FIFOs, devices, sockets: never opened for reading
    }

    /** Opens {@code path} below {@code dirFd} through the opener; {@code where} names it in errors. */
    private int openThrough(int dirFd, String path, int flags, long resolve, String where) throws IOException {
        try {
            return opener.open(dirFd, path, flags | Syscalls.O_CLOEXEC, resolve);
        } catch (SyscallException e) {
            if (e.errno() == Syscalls.EACCES || e.errno() == Syscalls.EPERM) {
                throw deniedThrough(dirFd, path, where, flags);
            }
            if (e.errno() == Syscalls.ENOENT) {
                throw new java.nio.file.NoSuchFileException(root.description() + ": " + where, null,
                        "no such file or directory (gone while it was copied?)");
            }
            if (e.errno() == Syscalls.ELOOP || e.errno() == Syscalls.EXDEV || e.errno() == Syscalls.ENOTDIR) {
                throw new IOException(root.description() + ": " + where + " changed while it was copied (" + e.getMessage()
                        + "): no symlink is followed out of its directory");
            }
            throw new IOException(root.description() + ": " + where + ": " + e.getMessage(), e);
        }
    }

    /** What the namespace's root may not open: one line with the entry's mode and host owner where they show. */
    private AccessDeniedException deniedThrough(int dirFd, String path, String where, int flags) {
        String detail = "its directory may not be searched";
        if ((flags & Syscalls.O_PATH) == 0) {
            try {
                int fd = opener.open(dirFd, path, Syscalls.O_PATH | Syscalls.O_NOFOLLOW | Syscalls.O_CLOEXEC,
                        FsRoot.BENEATH_NO_LINKS);
                try {
                    Syscalls.FileStat st = root.sys().fstat(fd, where);
                    detail = String.format("mode %04o, owner uid %d on the host", st.mode() & 07777, st.uid());
                } finally {
                    root.close(fd);
                }
            } catch (IOException | RuntimeException e) {
                // the detail stays the general one
            }
        }
        return new AccessDeniedException(root.description() + ": " + where, null, ((flags & Syscalls.O_DIRECTORY) != 0
                ? "its entries cannot be listed" : (flags & Syscalls.O_PATH) != 0 ? "a directory on its way cannot be"
                + " searched" : "it cannot be read") + ": Permission denied (" + detail + "; read as the root of the"
                + " user's namespace, which may read only files of the user and its subordinate ids: its owner is"
                + " neither; see docs/rootless.md)");
    }

    /**
     * Archives the child {@code name} of {@code dirFd} as {@link #entry} does, opened through the opener: first as
     * {@code guess} says (a listing's type; 0: unknown), and again once its type is known when that asks for other
     * flags; a second change fails the copy.
     */
    private void entryThrough(int dirFd, String name, int guess, String archiveName, String where) throws IOException {
        int flags = flagsFor(guess);
        int fd = openThrough(dirFd, name, flags, FsRoot.BENEATH_NO_LINKS, where);
        try {
            Syscalls.FileStat st = root.sys().fstat(fd, where);
            if (flagsFor(st.type()) != flags) {
                root.close(fd);
                fd = -1;
                flags = flagsFor(st.type());
                fd = openThrough(dirFd, name, flags, FsRoot.BENEATH_NO_LINKS, where);
                st = root.sys().fstat(fd, where);
                if (flagsFor(st.type()) != flags) {
                    throw new IOException(root.description() + ": " + where + " changed its type while it was copied");
                }
            }
            archiveOpen(fd, st, archiveName, where);
        } finally {
            if (fd >= 0) {
                root.close(fd);
            }
        }
    }

    private void archiveOpen(int fd, Syscalls.FileStat st, String archiveName, String where) throws IOException {
        int type = st.type();
        if (archiveName.isEmpty() && type != Syscalls.S_IFDIR) {
            throw new IOException(root.description() + ": " + where + " is not a directory: only a directory's contents"
                    + " can be copied (a path ending in /.)");
        }
        if (type == Syscalls.S_IFDIR) {
            if (!archiveName.isEmpty()) {
                put(header(archiveName + "/", TarConstants.LF_DIR, st), null, 0);
            }
            List<Syscalls.DirEntry> entries = new ArrayList<>(root.sys().listDirectory(fd, where));
            entries.sort(java.util.Comparator.comparing(Syscalls.DirEntry::name)); // a stable archive
            for (Syscalls.DirEntry e : entries) {
                String n = e.name();
                entryThrough(fd, n, e.type(), archiveName.isEmpty() ? n : archiveName + "/" + n,
                        where.equals("/") ? "/" + n : where + "/" + n);
            }
            return;
        }
        if (type == Syscalls.S_IFLNK) {
            TarArchiveEntry e = header(archiveName, TarConstants.LF_SYMLINK, st);
            e.setLinkName(root.sys().readLink(fd, where));
            put(e, null, 0);
            return;
        }
        if (type == Syscalls.S_IFREG) {
            if (st.nlink() > 1) {
                String first = hardLinks.putIfAbsent(st.dev() + ":" + st.ino(), archiveName);
                if (first != null) {
                    TarArchiveEntry e = header(archiveName, TarConstants.LF_LINK, st);
                    e.setLinkName(first);
                    put(e, null, 0);
                    return;
                }
            }
            TarArchiveEntry e = header(archiveName, TarConstants.LF_NORMAL, st);
            e.setSize(dryRun ? 0 : st.size());
            put(e, dryRun ? null : root.sys(), fd);
            return;
        }
        byte kind = type == Syscalls.S_IFCHR ? TarConstants.LF_CHR : type == Syscalls.S_IFBLK ? TarConstants.LF_BLK
                : type == Syscalls.S_IFIFO ? TarConstants.LF_FIFO : 0;
        if (kind == 0) {
            return; // a socket: nothing a tar can hold
        }
        TarArchiveEntry e = header(archiveName, kind, st);
        long rdev = st.rdev();
        e.setDevMajor((int) (((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & 0xfffff000L)));
        e.setDevMinor((int) ((rdev & 0xff) | ((rdev >>> 12) & 0xffffff00L)));
        put(e, null, 0);
    }

    private static TarArchiveEntry header(String name, byte kind, Syscalls.FileStat st) {
        TarArchiveEntry e = new TarArchiveEntry(name, kind, true);
        e.setMode(st.mode() & 07777);
        e.setUserId(st.uid() & 0xffffffffL);
        e.setGroupId(st.gid() & 0xffffffffL);
        e.setModTime(st.mtimeSeconds() * 1000);
        return e;
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
