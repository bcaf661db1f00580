package dev.berth.image.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * Small file helpers: private directories, atomic writes, recursive delete that never follows
 * symlinks, random names.
 */
public final class Files2 {
  private Files2() {}

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
  private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_ATTR =
      PosixFilePermissions.asFileAttribute(OWNER_ONLY);

  /**
   * Makes {@code dir} (its parent must exist) a directory only its owner can enter: created 0700,
   * or, when it exists with any other mode, changed to 0700. An unpacked layer holds setuid files
   * and device nodes an image shipped; the modes of the directories above it are the only thing
   * keeping other local users from running or opening them (CVE-2021-41091), so an area found
   * looser (made by an older version, or by hand) is tightened instead of trusted.
   */
  public static void privateDirectory(Path dir) throws IOException {
    try {
      // mkdir(2) applies the umask on top; the check below settles whatever it left
      Files.createDirectory(dir, OWNER_ONLY_ATTR);
    } catch (FileAlreadyExistsException e) {
      if (!Files.isDirectory(dir)) {
        throw new IOException("mkdir(" + dir + "): exists and is not a directory", e);
      }
    }
    if (!Files.getPosixFilePermissions(dir).equals(OWNER_ONLY)) {
      try {
        Files.setPosixFilePermissions(dir, OWNER_ONLY);
      } catch (FileSystemException e) {
        String reason = e.getReason() != null ? e.getReason() : e.getClass().getSimpleName();
        throw new IOException("chmod(" + dir + ", 0700): " + reason, e);
      }
    }
  }

  /**
   * Creates {@code dir} (and missing parents) with mode 0700 for itself unless it exists; an
   * existing directory keeps its mode (it may be shared with other software, as {@code /var/lib}
   * is). Missing parents get the usual umask modes.
   */
  public static void createPrivateIfMissing(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    Path parent = dir.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    privateDirectory(dir);
  }

  /**
   * Refuses a directory that {@code euid} does not own: its owner could change modes or swap what
   * is inside under the user that opens it.
   */
  public static void requireOwner(Path dir, int euid, String what) throws IOException {
    int owner = (Integer) Files.getAttribute(dir, "unix:uid");
    if (owner != euid) {
      throw new IOException(what + " " + dir + ": owned by uid " + owner + ", not by uid " + euid
          + " that opens it; refusing a store another user controls (chown it, or choose another root)");
    }
  }

  /**
   * {@link #requireOwner}, and refuses a directory that others may write: they could rename the
   * areas inside it and put their own in their place.
   */
  public static void requireOwnedRoot(Path dir, int euid, String what) throws IOException {
    requireOwner(dir, euid, what);
    int mode = (Integer) Files.getAttribute(dir, "unix:mode");
    if ((mode & 022) != 0) {
      throw new IOException(what + " " + dir + ": mode " + Integer.toOctalString(mode & 07777)
          + " lets other users write it and replace its areas; refusing it (chmod go-w " + dir + ")");
    }
  }

  public static String randomId() {
    byte[] b = new byte[8];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** Writes {@code bytes} to a temp file next to {@code target}, fsyncs, renames over it. */
  public static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path tmp = target.resolveSibling(".tmp-" + target.getFileName() + "-" + randomId());
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        OutputStream out = java.nio.channels.Channels.newOutputStream(ch);
        out.write(bytes);
        out.flush();
        ch.force(true);
      }
      move(tmp, target);
      fsyncDir(target.getParent());
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  public static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("rename " + from + " -> " + to + " is not atomic here", e);
    }
  }

  public static void fsyncDir(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException ignored) {
      // best effort: some file systems refuse fsync on directories
    }
  }

  /** Deletes a tree without following symlinks; missing is fine. */
  public static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
            dir.toFile().setWritable(true, true);
            dir.toFile().setExecutable(true, true);
            dir.toFile().setReadable(true, true);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
            if (exc instanceof NoSuchFileException) {
              return FileVisitResult.CONTINUE;
            }
            if (exc instanceof java.nio.file.AccessDeniedException
                && Files.isDirectory(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
              // a directory its owner may not read (mode 0000 in an image, unpacked rootless):
              // the walk opens it before preVisitDirectory could open it up
              java.io.File f = file.toFile();
              if (f.setReadable(true, true) & f.setExecutable(true, true) & f.setWritable(true, true)) {
                deleteTree(file);
                return FileVisitResult.CONTINUE;
              }
              throw exc; // not the owner's to open up
            }
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
            Files.deleteIfExists(dir);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  /** Quiet variant for cleanup paths; adds failures as suppressed to {@code primary} when given. */
  public static void deleteTreeQuietly(Path root, Throwable primary) {
    try {
      deleteTree(root);
    } catch (IOException e) {
      if (primary != null) {
        primary.addSuppressed(e);
      }
    }
  }
}
