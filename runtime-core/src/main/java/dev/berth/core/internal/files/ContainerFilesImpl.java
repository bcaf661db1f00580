package dev.berth.core.internal.files;

import dev.berth.core.ContainerFiles;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * {@link ContainerFiles} on a container's tree ({@link TreeAccess}) and the host's: a copy is an
 * archive of one tree extracted into the other, both confined as {@link FsRoot} confines them.
 * The docker {@code cp} rules decide which directory receives the archive and what its top entry
 * is called.
 */
public final class ContainerFilesImpl implements ContainerFiles {
    private final Syscalls sys;
    private final String id;
    private final TreeAccess container;
    private final FileOpener.Source readers;

    public ContainerFilesImpl(Syscalls sys, String id, TreeAccess container) {
        this(sys, id, container, container.readers());
    }

    /**
     * @param readers where a copy out gets its reader (a rootless runtime with subordinate ids: one in the user's
     *                namespace, which may read the files of the container's other users); null: this process reads
     */
    public ContainerFilesImpl(Syscalls sys, String id, TreeAccess container, FileOpener.Source readers) {
        this.sys = sys;
        this.id = id;
        this.container = container;
        this.readers = readers;
    }

    /** A reader for one copy out, or null when this process reads itself. */
    private FileOpener reader() throws IOException {
        return readers == null ? null : readers.start();
    }

    @Override
    public void copyTo(String containerDir, InputStream tar) throws IOException {
        try (TreeAccess.Opened t = container.open()) {
            TreeExtractor.extract(t.root(), CopyPaths.normalize(containerDir), tar, true);
        }
    }

    @Override
    public InputStream copyFrom(String containerPath) throws IOException {
        String name = CopyPaths.contentsOnly(containerPath) ? "" : topName(containerPath);
        return archive(container, containerPath, name);
    }

    /** The archive's top name: the last component of the path (the root: "."). */
    private static String topName(String path) {
        String n = CopyPaths.parentAndName(path)[1];
        return n.equals(".") ? "." : n;
    }

    /** Archives on a thread of its own into a pipe; the tree stays open until the archive is written. */
    private InputStream archive(TreeAccess access, String path, String name) throws IOException {
        TreeAccess.Opened t = access.open();
        FileOpener reader = null;
        try {
            reader = reader();
            if (kindOf(t.root(), reader, path) == Kind.MISSING) { // fails now, naming the path, not in the stream
                throw new NoSuchFileException(path, null, "no such file or directory in container " + id);
            }
            requireReadable(t.root(), reader, path);
        } catch (IOException | RuntimeException e) {
            if (reader != null) {
                reader.close();
            }
            t.close();
            throw e;
        }
        TarPipe pipe = new TarPipe();
        FileOpener r = reader;
        startArchiver(t.root(), reader, path, name, pipe, () -> {
            try (TreeAccess.Opened tree = t) {
                if (r != null) {
                    r.close();
                }
            }
        });
        return pipe.input();
    }

    /**
     * Starts a thread that archives {@code path} of {@code from} into the pipe, then closes
     * {@code done} (the tree it reads, where the caller hands it over); a failure reaches the reader.
     */
    private Thread startArchiver(FsRoot from, FileOpener reader, String path, String topName, TarPipe pipe,
            AutoCloseable done) {
        Thread writer = new Thread(() -> {
            try (AutoCloseable d = done; OutputStream out = pipe.output()) {
                if (reader == null) {
                    TreeArchiver.archive(from, CopyPaths.normalize(path), topName, out);
                } else {
                    TreeArchiver.archive(from, reader, CopyPaths.normalize(path), topName, out);
                }
            } catch (IOException e) {
                pipe.fail(e);
            } catch (Exception e) {
                pipe.fail(new IOException(e.getMessage(), e));
            }
        }, "berth-copy-" + id);
        writer.setDaemon(true);
        writer.start();
        return writer;
    }

    @Override
    public void copyIn(Path hostSource, String containerDest) throws IOException {
        Path source = hostSource.toAbsolutePath();
        try (FsRoot host = FsRoot.open(sys, Path.of("/"), "host");
                TreeAccess.Opened t = container.open()) {
            Kind src = kindOf(host, source.toString());
            Target target = target(t.root(), containerDest, "in container " + id, src, hostSource.toString(), "on the host");
            copy(host, null, source.toString(), target.topName, t.root(), target.directory, false);
        }
    }

    /**
     * docker's cp out. Rootless, every entry of the source is checked readable first (the user may not read the
     * files of the container's other users): a copy that cannot be whole fails naming the entry before anything is
     * written on the host. Should the copy fail all the same (the container changed the tree meanwhile), an entry it
     * made under a new name is removed again.
     */
    @Override
    public void copyOut(String containerSource, Path hostDest) throws IOException {
        try (FsRoot host = FsRoot.open(sys, Path.of("/"), "host");
                TreeAccess.Opened t = container.open();
                FileOpener reader = reader()) {
            Kind src = kindOf(t.root(), reader, containerSource);
            Target target = target(host, hostDest.toAbsolutePath().toString(), "on the host", src, containerSource,
                    "in container " + id);
            requireReadable(t.root(), reader, containerSource);
            Path made = target.topName.isEmpty() ? null : Path.of(target.directory, target.topName);
            boolean isNew = made != null && kindOf(host, made.toString()) == Kind.MISSING;
            try {
                copy(t.root(), reader, containerSource, target.topName, host, target.directory, false);
            } catch (IOException | RuntimeException e) {
                if (isNew) {
                    removePartial(made, e);
                }
                throw e;
            }
        }
    }

    /**
     * Rootless: fails naming the first entry of {@code path} this process (or its reader, when it has one) may not
     * read (as root: nothing to check).
     */
    private static void requireReadable(FsRoot root, FileOpener reader, String path) throws IOException {
        if (reader != null) {
            TreeArchiver.requireReadable(root, reader, path);
        } else if (TreeArchiver.EUID != 0) {
            TreeArchiver.requireReadable(root, path);
        }
    }

    /** Removes what a failed copy made at {@code made} on the host (its own new entry), no symlink followed. */
    private static void removePartial(Path made, Exception failure) {
        try {
            if (Files.isDirectory(made, LinkOption.NOFOLLOW_LINKS)) {
                Files.walkFileTree(made, new java.nio.file.SimpleFileVisitor<>() {
                    @Override
                    public java.nio.file.FileVisitResult visitFile(Path f, java.nio.file.attribute.BasicFileAttributes a)
                            throws IOException {
                        Files.delete(f);
                        return java.nio.file.FileVisitResult.CONTINUE;
                    }

                    @Override
                    public java.nio.file.FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                        Files.delete(d);
                        return java.nio.file.FileVisitResult.CONTINUE;
                    }
                });
            } else {
                Files.deleteIfExists(made);
            }
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /** Archives {@code path} of {@code from} and extracts it into {@code dir} of {@code to}, streaming. */
    private void copy(FsRoot from, FileOpener reader, String path, String topName, FsRoot to, String dir,
            boolean keepOwners) throws IOException {
        TarPipe pipe = new TarPipe();
        Thread writer = startArchiver(from, reader, path, topName, pipe, () -> { });
        try (InputStream in = pipe.input()) {
            TreeExtractor.extract(to, dir, in, keepOwners);
        } finally {
            try {
                writer.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** What a copy's source or destination is. */
    enum Kind { MISSING, FILE, DIRECTORY }

    /** Where an archive is extracted, and the name of its top entry there ("" for contents only). */
    record Target(String directory, String topName) {}

    /**
     * docker's cp rules. A source directory: into an existing destination directory under its
     * own name (its contents, for a source ending in /.); as the destination, when that does not
     * exist. A source file: into an existing destination directory under its own name; as the
     * destination otherwise (replacing a file), whose parent must exist.
     */
    static Target rules(Kind src, String source, Kind dest, String destination, Kind destParent) throws IOException {
        String[] d = CopyPaths.parentAndName(destination);
        String srcName = CopyPaths.parentAndName(source)[1];
        if (src == Kind.MISSING) {
            throw new NoSuchFileException(source, null, "no such file or directory");
        }
        if (src == Kind.DIRECTORY) {
            if (dest == Kind.FILE) {
                throw new IOException("cannot copy a directory to a file: " + source + " to " + destination);
            }
            if (dest == Kind.MISSING) { // made, as a copy of the source named like the destination
                return parentMustExist(destParent, destination, new Target(d[0], d[1]));
            }
            return new Target(CopyPaths.normalize(destination), CopyPaths.contentsOnly(source) ? "" : srcName);
        }
        if (dest == Kind.DIRECTORY) {
            return new Target(CopyPaths.normalize(destination), srcName);
        }
        if (dest == Kind.MISSING && destination.endsWith("/")) {
            throw new NoSuchFileException(destination, null, "the destination directory must exist");
        }
        return parentMustExist(destParent, destination, new Target(d[0], d[1]));
    }

    private static Target parentMustExist(Kind parent, String destination, Target t) throws IOException {
        if (parent != Kind.DIRECTORY) {
            throw new NoSuchFileException(destination, null, "its directory " + t.directory() + " does not exist");
        }
        return t;
    }

    private Target target(FsRoot dest, String destination, String destWhere, Kind src, String source, String srcWhere)
            throws IOException {
        Kind d = kindOf(dest, destination);
        Kind parent = kindOf(dest, CopyPaths.parentAndName(destination)[0]);
        try {
            return rules(src, source, d, destination, parent);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(e.getFile(), null, e.getReason() + " "
                    + (e.getFile().equals(source) ? srcWhere : destWhere));
        } catch (IOException e) {
            throw new IOException(e.getMessage() + " (source " + srcWhere + ", destination " + destWhere + ")", e);
        }
    }

    /** {@link #kindOf(FsRoot, String)}, opened by {@code reader} when there is one. */
    static Kind kindOf(FsRoot root, FileOpener reader, String path) throws IOException {
        if (reader == null) {
            return kindOf(root, path);
        }
        String[] pn = CopyPaths.parentAndName(path);
        int parent;
        try {
            parent = reader.open(root.fd(), FsRoot.relative(pn[0]), FsRoot.DIR, FsRoot.IN_ROOT);
        } catch (SyscallException e) {
            if (e.errno() == Syscalls.EACCES) {
                throw new AccessDeniedException(root.description() + ": " + CopyPaths.normalize(path), null,
                        "a directory on its way cannot be searched: Permission denied (by the root of the user's"
                        + " namespace either: its owner is none of the user's ids; see docs/rootless.md)");
            }
            return Kind.MISSING;
        }
        try {
            int fd;
            try {
                fd = reader.open(parent, pn[1], Syscalls.O_PATH | Syscalls.O_NOFOLLOW | Syscalls.O_CLOEXEC,
                        FsRoot.BENEATH_NO_LINKS);
            } catch (SyscallException e) {
                return Kind.MISSING;
            }
            try {
                return root.sys().fstat(fd, path).type() == Syscalls.S_IFDIR ? Kind.DIRECTORY : Kind.FILE;
            } finally {
                root.close(fd);
            }
        } finally {
            root.close(parent);
        }
    }

    /** What {@code path} is in the tree; a symlink as the last component counts as a file (not followed). */
    static Kind kindOf(FsRoot root, String path) throws IOException {
        String[] pn = CopyPaths.parentAndName(path);
        int parent;
        try {
            parent = root.openDirectory(pn[0]);
        } catch (SyscallException e) {
            if (e.errno() == Syscalls.EACCES) { // not "missing": a directory on the way this process may not search
                throw new AccessDeniedException(root.description() + ": " + CopyPaths.normalize(path), null,
                        "a directory on its way cannot be searched: Permission denied (this process reads as uid "
                        + TreeArchiver.EUID + (TreeArchiver.EUID == 0 ? ")" : "; see docs/rootless.md)"));
            }
            return Kind.MISSING;
        }
        try {
            Path p = pn[1].equals(".") ? FsRoot.self(parent) : FsRoot.child(parent, pn[1]);
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (AccessDeniedException e) {
                throw TreeArchiver.denied(root, CopyPaths.normalize(path), FsRoot.self(parent),
                        "its directory cannot be searched");
            } catch (IOException e) {
                return Kind.MISSING;
            }
            return a.isDirectory() ? Kind.DIRECTORY : Kind.FILE;
        } finally {
            root.close(parent);
        }
    }
}
