package dev.berth.cgroups.internal;

import dev.berth.cgroups.CgroupException;
import dev.berth.cgroups.internal.linux.SyscallException;
import dev.berth.cgroups.internal.linux.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * File operations on cgroupfs. Every error names the path, the value written and the kernel's error
 * text, and carries the errno, which callers match on (never the text: strerror is localised). Writes
 * are a single {@code write(2)} on a file opened {@code O_WRONLY|O_TRUNC} (like runc), never creating
 * files. Subclassed by tests to emulate kernfs on a temp dir.
 */
public class CgroupFs {

  /** Thrown for a failed filesystem operation; {@link #errno()} says why. */
  public static final class FsException extends CgroupException {
    private static final long serialVersionUID = 1L;
    private final int errno;
    private final String errorText;

    public FsException(String message, int errno, String errorText, Throwable cause) {
      super(message, cause);
      this.errno = errno;
      this.errorText = errorText;
    }

    /** The errno of the failed call, 0 when unknown. */
    public int errno() {
      return errno;
    }

    public String errorText() {
      return errorText;
    }

    public boolean isBusy() {
      return errno == Syscalls.EBUSY;
    }

    public boolean isNotFound() {
      return errno == Syscalls.ENOENT;
    }
  }

  private final Syscalls sys;

  public CgroupFs(Syscalls sys) {
    this.sys = sys;
  }

  /** strerror-like text of an I/O exception from NIO. */
  public static String errorText(IOException e) {
    if (e instanceof NoSuchFileException) return "No such file or directory";
    if (e instanceof AccessDeniedException) return "Permission denied";
    if (e instanceof FileAlreadyExistsException) return "File exists";
    if (e instanceof DirectoryNotEmptyException) return "Directory not empty";
    if (e instanceof FileSystemException) {
      String r = ((FileSystemException) e).getReason();
      if (r != null) return r;
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /** The errno NIO's exception type stands for, 0 where the type does not say. */
  public static int errno(IOException e) {
    if (e instanceof NoSuchFileException) return Syscalls.ENOENT;
    if (e instanceof AccessDeniedException) return Syscalls.EACCES;
    if (e instanceof FileAlreadyExistsException) return Syscalls.EEXIST;
    if (e instanceof DirectoryNotEmptyException) return Syscalls.ENOTEMPTY;
    return 0;
  }

  public void write(Path file, String value) {
    try {
      sys.writeFile(file.toString(), value.getBytes(StandardCharsets.UTF_8));
    } catch (SyscallException e) {
      throw new FsException("write " + file + " \"" + value + "\": " + e.errorText(), e.errno(), e.errorText(), e);
    }
  }

  public String read(Path file) {
    try {
      return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    } catch (IOException e) {
      String t = errorText(e);
      throw new FsException("read " + file + ": " + t, errno(e), t, e);
    }
  }

  /** The content, or empty when the file does not exist. */
  public Optional<String> readIfExists(Path file) {
    if (!Files.exists(file)) return Optional.empty();
    try {
      return Optional.of(read(file));
    } catch (FsException e) {
      if (e.isNotFound()) return Optional.empty();
      throw e;
    }
  }

  public boolean exists(Path p) {
    return Files.exists(p);
  }

  /** mkdir; returns false when it already existed as a directory. */
  public boolean mkdir(Path dir) {
    try {
      sys.mkdir(dir.toString(), 0755);
      return true;
    } catch (SyscallException e) {
      if (e.errno() == Syscalls.EEXIST && Files.isDirectory(dir)) return false;
      throw new FsException("mkdir " + dir + ": " + e.errorText(), e.errno(), e.errorText(), e);
    }
  }

  public void rmdir(Path dir) {
    try {
      sys.rmdir(dir.toString());
    } catch (SyscallException e) {
      throw new FsException("rmdir " + dir + ": " + e.errorText(), e.errno(), e.errorText(), e);
    }
  }

  public List<Path> childDirs(Path dir) {
    List<Path> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) return out;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        if (Files.isDirectory(p)) out.add(p);
      }
    } catch (IOException e) {
      String t = errorText(e);
      throw new FsException("list " + dir + ": " + t, errno(e), t, e);
    }
    out.sort(null);
    return out;
  }
}
