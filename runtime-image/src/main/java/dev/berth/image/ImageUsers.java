package dev.berth.image;

import dev.berth.image.internal.linux.ErrnoException;
import dev.berth.image.internal.linux.LinuxFs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Resolves an image {@code User} ({@code name}, {@code uid}, {@code name:group}, {@code uid:gid}) to
 * numeric ids against the image's own {@code /etc/passwd} and {@code /etc/group}, read from the
 * merged view of its unpacked layers without ever leaving them:
 *
 * <ul>
 *   <li>paths are looked up component by component across the layers top-most first, as
 *       overlayfs does (0:0 whiteouts hide, opaque directories stop the descent);
 *   <li>symlinks are followed inside that view only (absolute targets restart at the image root,
 *       {@code ..} stops at it, at most 40 hops) — a link to a host path reads nothing of the host;
 *   <li>the final file is opened with {@code openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS)} from its
 *       layer, must be a regular file (a FIFO or device is refused, never opened blocking) and at
 *       most 1 MiB (CVE-2024-9676: huge or endless passwd files).
 * </ul>
 */
public final class ImageUsers {
  private ImageUsers() {}

  /** Largest passwd/group file read. */
  public static final int MAX_FILE = 1 << 20;

  /** Numeric identity of the container process. */
  public record User(int uid, int gid, List<Integer> additionalGids, String home) {
    public User {
      additionalGids = List.copyOf(additionalGids);
    }
  }

  public static User resolve(PreparedImage image, String user) throws ImageException {
    return resolve(image.lowerDirs(), user);
  }

  /** Resolves {@code user} against the layers (top-most first). Empty means root. */
  public static User resolve(List<Path> lowerTopFirst, String user) throws ImageException {
    String spec = user == null ? "" : user.trim();
    String userPart = spec;
    String groupPart = null;
    int colon = spec.indexOf(':');
    if (colon >= 0) {
      userPart = spec.substring(0, colon);
      groupPart = spec.substring(colon + 1);
    }
    List<String[]> passwd = parse(read(lowerTopFirst, "/etc/passwd"), 7);
    List<String[]> groups = parse(read(lowerTopFirst, "/etc/group"), 4);
    Integer uid = null;
    String name = null;
    int gid = 0;
    String home = "/";
    if (userPart.isEmpty()) {
      userPart = "0";
    }
    Integer numericUser = number(userPart);
    for (String[] p : passwd) {
      boolean match = numericUser != null ? numericUser.equals(number(p[2])) : p[0].equals(userPart);
      if (match && number(p[2]) != null && number(p[3]) != null) {
        uid = number(p[2]);
        name = p[0];
        gid = number(p[3]);
        home = p[5].isEmpty() ? "/" : p[5];
        break;
      }
    }
    if (uid == null) {
      if (numericUser == null) {
        throw new ImageException("unable to find user " + userPart + ": no matching entries in the image's /etc/passwd");
      }
      uid = numericUser;
    }
    if (groupPart != null && !groupPart.isEmpty()) {
      Integer numericGroup = number(groupPart);
      if (numericGroup != null) {
        gid = numericGroup;
      } else {
        Integer found = null;
        for (String[] g : groups) {
          if (g[0].equals(groupPart) && number(g[2]) != null) {
            found = number(g[2]);
            break;
          }
        }
        if (found == null) {
          throw new ImageException("unable to find group " + groupPart + ": no matching entries in the image's /etc/group");
        }
        gid = found;
      }
    }
    Set<Integer> extra = new LinkedHashSet<>();
    if (name != null && (groupPart == null || groupPart.isEmpty())) {
      for (String[] g : groups) {
        Integer id = number(g[2]);
        if (id == null || id == gid) {
          continue;
        }
        for (String member : g[3].split(",")) {
          if (member.trim().equals(name)) {
            extra.add(id);
          }
        }
      }
    }
    return new User(uid, gid, new ArrayList<>(extra), home);
  }

  private static Integer number(String s) {
    if (s == null || s.isEmpty() || s.length() > 10) {
      return null;
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return null;
      }
    }
    long v = Long.parseLong(s);
    return v > 0xfffffffeL ? null : (int) v;
  }

  private static List<String[]> parse(Optional<String> content, int fields) {
    List<String[]> out = new ArrayList<>();
    if (content.isEmpty()) {
      return out;
    }
    for (String line : content.get().split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split(":", -1);
      if (f.length < fields) {
        String[] padded = new String[fields];
        for (int i = 0; i < fields; i++) {
          padded[i] = i < f.length ? f[i] : "";
        }
        f = padded;
      }
      out.add(f);
    }
    return out;
  }

  /** Reads an absolute path of the merged image view; empty when it does not exist. */
  public static Optional<String> read(List<Path> lowerTopFirst, String path) throws ImageException {
    Found f = lookup(lowerTopFirst, path);
    if (f == null) {
      return Optional.empty();
    }
    int root;
    try {
      root = LinuxFs.openat(LinuxFs.AT_FDCWD, f.layer, LinuxFs.O_PATH | LinuxFs.O_DIRECTORY | LinuxFs.O_CLOEXEC, 0);
    } catch (ErrnoException e) {
      throw new ImageException("image " + path + ": " + e.getMessage(), e);
    }
    try {
      int fd = LinuxFs.openat2(root, f.rel, LinuxFs.O_RDONLY | LinuxFs.O_CLOEXEC | LinuxFs.O_NONBLOCK | LinuxFs.O_NOCTTY,
          LinuxFs.RESOLVE_BENEATH | LinuxFs.RESOLVE_NO_SYMLINKS | LinuxFs.RESOLVE_NO_MAGICLINKS | LinuxFs.RESOLVE_NO_XDEV);
      try {
        LinuxFs.Stat st = LinuxFs.lstatat(fd, "");
        if (st.type() != LinuxFs.S_IFREG) {
          throw new ImageException("image " + path + " is not a regular file; refusing to read it");
        }
        byte[] b = LinuxFs.readBounded(fd, MAX_FILE, path);
        if (b == null) {
          throw new ImageException("image " + path + " is larger than " + MAX_FILE + " bytes; refusing to read it");
        }
        return Optional.of(new String(b, StandardCharsets.UTF_8));
      } finally {
        LinuxFs.closeFd(fd);
      }
    } catch (ErrnoException e) {
      throw new ImageException("image " + path + ": " + e.getMessage(), e);
    } finally {
      LinuxFs.closeFd(root);
    }
  }

  private record Found(String layer, String rel) {}

  /** Overlay-style lookup across layers; null when absent. Refuses non-regular final files later. */
  private static Found lookup(List<Path> layerPaths, String path) throws ImageException {
    List<String> layers = new ArrayList<>();
    for (Path p : layerPaths) {
      layers.add(p.toAbsolutePath().toString());
    }
    List<String> todo = new ArrayList<>(split(path));
    List<String> done = new ArrayList<>();
    List<String> dirLayers = new ArrayList<>();
    resetToRoot(layers, dirLayers);
    int hops = 0;
    while (!todo.isEmpty()) {
      String c = todo.remove(0);
      if (c.equals("..")) {
        if (!done.isEmpty()) {
          done.remove(done.size() - 1);
        }
        // re-walk from the root to recompute the contributing layers
        List<String> again = new ArrayList<>(done);
        again.addAll(todo);
        todo = again;
        done.clear();
        resetToRoot(layers, dirLayers);
        continue;
      }
      String rel = done.isEmpty() ? c : String.join("/", done) + "/" + c;
      String hit = null;
      LinuxFs.Stat hitStat = null;
      int hitIndex = -1;
      for (int i = 0; i < dirLayers.size(); i++) {
        LinuxFs.Stat st = lstat(dirLayers.get(i) + "/" + rel);
        if (st != null) {
          hit = dirLayers.get(i);
          hitStat = st;
          hitIndex = i;
          break;
        }
      }
      if (hit == null || hitStat.isWhiteout()) {
        return null;
      }
      if (hitStat.type() == LinuxFs.S_IFLNK) {
        if (++hops > 40) {
          throw new ImageException("image " + path + ": too many levels of symbolic links");
        }
        String target;
        try {
          target = LinuxFs.readlink(hit + "/" + rel);
        } catch (ErrnoException e) {
          throw new ImageException("image " + path + ": " + e.getMessage(), e);
        }
        List<String> again = new ArrayList<>();
        if (!target.startsWith("/")) {
          again.addAll(done);
        }
        again.addAll(split(target));
        again.addAll(todo);
        todo = again;
        done.clear();
        resetToRoot(layers, dirLayers);
        continue;
      }
      if (todo.isEmpty()) {
        return new Found(hit, rel);
      }
      if (!hitStat.isDir()) {
        return null;
      }
      List<String> next = new ArrayList<>();
      for (int i = hitIndex; i < dirLayers.size(); i++) {
        String l = dirLayers.get(i);
        LinuxFs.Stat st = i == hitIndex ? hitStat : lstat(l + "/" + rel);
        if (st == null) {
          continue;
        }
        if (!st.isDir()) {
          break; // a whiteout or non-directory hides everything below
        }
        next.add(l);
        if (opaque(l + "/" + rel)) {
          break;
        }
      }
      dirLayers.clear();
      dirLayers.addAll(next);
      done.add(c);
    }
    return null; // the root itself is not a file
  }

  private static void resetToRoot(List<String> layers, List<String> dirLayers) throws ImageException {
    dirLayers.clear();
    for (String l : layers) {
      dirLayers.add(l);
      if (opaque(l)) {
        break;
      }
    }
  }

  private static List<String> split(String p) {
    List<String> out = new ArrayList<>();
    for (String s : p.split("/")) {
      if (!s.isEmpty() && !s.equals(".")) {
        out.add(s);
      }
    }
    return out;
  }

  private static LinuxFs.Stat lstat(String p) throws ImageException {
    try {
      return LinuxFs.lstatatOrNull(LinuxFs.AT_FDCWD, p);
    } catch (ErrnoException e) {
      if (e.errno() == LinuxFs.ENOTDIR) {
        return null;
      }
      throw new ImageException("image lookup " + p + ": " + e.getMessage(), e);
    }
  }

  private static boolean opaque(String dir) throws ImageException {
    try {
      byte[] v = LinuxFs.lgetxattr(dir, "trusted.overlay.opaque");
      return v != null && v.length == 1 && v[0] == 'y';
    } catch (ErrnoException e) {
      return false; // no xattr support: nothing can be opaque
    }
  }
}
