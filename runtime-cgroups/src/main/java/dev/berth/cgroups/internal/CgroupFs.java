package dev.berth.cgroups.internal;

import dev.berth.cgroups.CgroupException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * File operations on cgroupfs. Every error names the path, the value written and the kernel's error
 * text. Writes are a single {@code write(2)} on a file opened {@code O_WRONLY|O_TRUNC} (like runc),
 * never creating files. Subclassed by tests to emulate kernfs on a temp dir.
 */
public class CgroupFs {

  /** Thrown for a failed filesystem operation; {@link #errorText()} is the strerror text. */
  public static final class FsException extends CgroupException {
    private static final long serialVersionUID = 1L;
    private final String errorText;

    public FsException(String message, String errorText, Throwable cause) {
      super(message, cause);
      this.errorText = errorText;
    }

    public String errorText() {
      return errorText;
    }

    public boolean isBusy() {
      return "Device or resource busy".equals(errorText);
    }

    public boolean isNotFound() {
      return "No such file or directory".equals(errorText);
    }
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

  public void write(Path file, String value) {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      int n = ch.write(buf);
      if (n != bytes.length) {
        throw new FsException("write " + file + " \"" + value + "\": short write (" + n + " of " + bytes.length + " bytes)", "short write", null);
      }
    } catch (IOException e) {
      String t = errorText(e);
      throw new FsException("write " + file + " \"" + value + "\": " + t, t, e);
    }
  }

  public String read(Path file) {
    try {
      return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    } catch (IOException e) {
      String t = errorText(e);
      throw new FsException("read " + file + ": " + t, t, e);
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
      Files.createDirectory(dir);
      return true;
    } catch (FileAlreadyExistsException e) {
      if (Files.isDirectory(dir)) return false;
      throw new FsException("mkdir " + dir + ": File exists", "File exists", e);
    } catch (IOException e) {
      String t = errorText(e);
      throw new FsException("mkdir " + dir + ": " + t, t, e);
    }
  }

  public void rmdir(Path dir) {
    try {
      Files.delete(dir);
    } catch (IOException e) {
      String t = errorText(e);
      throw new FsException("rmdir " + dir + ": " + t, t, e);
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
      throw new FsException("list " + dir + ": " + t, t, e);
    }
    out.sort(null);
    return out;
  }
}
