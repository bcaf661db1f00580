package dev.berth.image.registry;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.berth.image.ImageException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The registries configuration podman, skopeo and buildah share (containers-registries.conf(5),
 * version 2, TOML): {@code /etc/containers/registries.conf} and then {@code
 * /etc/containers/registries.conf.d/*.conf} in lexical order, each drop-in overriding what the
 * files before it said ({@code unqualified-search-registries} replaced when a later file sets it,
 * a {@code [[registry]]} replaced by a later one with the same prefix, others added).
 *
 * <p>Used: {@code unqualified-search-registries} (the registry of short names), {@code
 * [[registry]]} with {@code prefix}, {@code location}, {@code insecure}, {@code blocked}, {@code
 * mirror-by-digest-only} and {@code [[registry.mirror]]} with {@code location}, {@code insecure},
 * {@code pull-from-mirror}. Other keys (e.g. {@code short-name-mode}, {@code [aliases]}, {@code
 * credential-helpers}) are read by other tools and ignored here; the version 1 format ({@code
 * [registries.search]} …) is refused. Every error names the file and the key.
 */
public final class RegistriesConf {
  /** The system file; {@code $CONTAINERS_REGISTRIES_CONF} replaces it, as for podman. */
  public static final Path SYSTEM_FILE = Path.of("/etc/containers/registries.conf");
  /** The system drop-in directory. */
  public static final Path SYSTEM_DIR = Path.of("/etc/containers/registries.conf.d");
  /** A registries.conf larger than this is refused before it is read. */
  public static final long MAX_BYTES = 1 << 20;
  /** No file: Docker Hub for short names, no rewriting, no mirrors. */
  public static final RegistriesConf EMPTY = new RegistriesConf(List.of(), Optional.empty(), new LinkedHashMap<>());

  /** A mirror of a {@link Registry}. */
  public record Mirror(String location, boolean insecure, String pullFromMirror) {}

  /** One {@code [[registry]]} table, after the drop-ins were merged; {@code file} is where it came from. */
  public record Registry(String prefix, String location, boolean insecure, boolean blocked, boolean mirrorByDigestOnly,
      List<Mirror> mirrors, Path file) {}

  /** A place to pull a reference from: a mirror or the registry itself, with its rewritten repository. */
  public record Endpoint(String registry, String repository, boolean insecure, boolean mirror) {}

  private final List<String> searchRegistries;
  private final Optional<Path> searchFrom;
  private final Map<String, Registry> registries; // by prefix, in the order first seen

  private RegistriesConf(List<String> search, Optional<Path> searchFrom, Map<String, Registry> registries) {
    this.searchRegistries = List.copyOf(search);
    this.searchFrom = searchFrom;
    this.registries = registries;
  }

  /**
   * Reads {@code file} (when it exists) and then the {@code *.conf} files of {@code dropInDir} in
   * lexical order (when it exists).
   *
   * @throws ImageException naming the file and key of the first problem
   */
  public static RegistriesConf load(Path file, Optional<Path> dropInDir) throws IOException {
    List<Path> files = new ArrayList<>();
    if (Files.exists(file)) {
      files.add(file);
    }
    if (dropInDir.isPresent() && Files.isDirectory(dropInDir.get())) {
      List<Path> dropIns = new ArrayList<>();
      try (DirectoryStream<Path> s = Files.newDirectoryStream(dropInDir.get(), "*.conf")) {
        s.forEach(dropIns::add);
      }
      dropIns.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
      files.addAll(dropIns);
    }
    return load(files);
  }

  /** Reads {@code files} in order, later ones overriding earlier ones. */
  public static RegistriesConf load(List<Path> files) throws IOException {
    List<String> search = List.of();
    Optional<Path> searchFrom = Optional.empty();
    Map<String, Registry> regs = new LinkedHashMap<>();
    for (Path f : files) {
      JsonNode root = read(f);
      if (root == null) {
        continue; // nothing but comments
      }
      Fields top = new Fields(f, "");
      if (root.has("registries")) {
        throw top.error("registries", "the version 1 format ([registries.search], [registries.insecure], "
            + "[registries.block]) is not read; write unqualified-search-registries and [[registry]] tables (version 2)");
      }
      JsonNode s = root.get("unqualified-search-registries");
      if (s != null) {
        List<String> l = new ArrayList<>();
        int i = 0;
        for (JsonNode e : top.array(s, "unqualified-search-registries")) {
          String key = "unqualified-search-registries[" + i++ + "]";
          String r = top.string(e, key);
          top.registryName(r, key);
          l.add(r);
        }
        search = l;
        searchFrom = Optional.of(f);
      }
      JsonNode rs = root.get("registry");
      if (rs != null) {
        int i = 0;
        for (JsonNode r : top.array(rs, "registry")) {
          Registry reg = registry(new Fields(f, "registry[" + i++ + "]."), r);
          regs.remove(reg.prefix()); // a later file's table replaces it, and counts as later
          regs.put(reg.prefix(), reg);
        }
      }
    }
    return new RegistriesConf(search, searchFrom, regs);
  }

  /** The file's tree; null when it holds only comments. */
  private static JsonNode read(Path f) throws IOException {
    if (Files.exists(f) && !Files.isRegularFile(f)) {
      throw new ImageException("registries.conf " + f + ": not a regular file");
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(f)) {
      bytes = in.readNBytes((int) MAX_BYTES + 1);
    } catch (NoSuchFileException e) {
      throw new ImageException("registries.conf " + f + ": no such file", e);
    }
    if (bytes.length > MAX_BYTES) {
      throw new ImageException("registries.conf " + f + ": larger than " + MAX_BYTES + " bytes");
    }
    if (onlyComments(bytes)) {
      // the usual system file is all comments: no need to load the TOML parser (and databind's tree)
      return null;
    }
    JsonNode root;
    try {
      root = Holder.MAPPER.readTree(bytes);
    } catch (JacksonException e) {
      JsonLocation loc = e.getLocation();
      String where = loc != null && loc.getLineNr() > 0 ? " line " + loc.getLineNr() + ":" : "";
      String m = String.valueOf(e.getOriginalMessage()).lines().findFirst().orElse("").strip();
      throw new ImageException("registries.conf " + f + ":" + where + " not valid TOML: " + printable(m), e);
    }
    if (root == null || root.isMissingNode()) {
      return Holder.MAPPER.createObjectNode();
    }
    return root;
  }

  /** Whether every line is blank or a {@code #} comment (ASCII whitespace only). */
  static boolean onlyComments(byte[] b) {
    boolean lineStart = true;
    boolean comment = false;
    for (byte c : b) {
      if (c == '\n') {
        lineStart = true;
        comment = false;
      } else if (comment) {
        continue;
      } else if (c == '#' && lineStart) {
        comment = true;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        return false;
      }
    }
    return true;
  }

  /** Loaded on the first file with content. */
  private static final class Holder {
    static final TomlMapper MAPPER = new TomlMapper();
  }

  private static Registry registry(Fields k, JsonNode r) {
    if (!r.isObject()) {
      throw k.error("", "expected a table, got " + kind(r));
    }
    String location = r.has("location") ? k.string(r.get("location"), "location") : "";
    String prefix = r.has("prefix") ? k.string(r.get("prefix"), "prefix") : "";
    if (prefix.isEmpty()) {
      if (location.isEmpty()) {
        throw k.error("location", "a [[registry]] needs a location or a prefix");
      }
      prefix = location;
    }
    if (prefix.startsWith("*.")) {
      k.registryName(prefix.substring(2), "prefix");
    } else {
      k.location(prefix, "prefix");
    }
    if (location.isEmpty() && !prefix.startsWith("*.")) {
      location = prefix;
    } else if (!location.isEmpty()) {
      k.location(location, "location");
    }
    boolean insecure = k.bool(r, "insecure");
    boolean blocked = k.bool(r, "blocked");
    boolean byDigest = k.bool(r, "mirror-by-digest-only");
    List<Mirror> mirrors = new ArrayList<>();
    JsonNode ms = r.get("mirror");
    if (ms != null) {
      int i = 0;
      for (JsonNode m : k.array(ms, "mirror")) {
        Fields mk = new Fields(k.file, k.prefix + "mirror[" + i++ + "].");
        if (!m.isObject()) {
          throw mk.error("", "expected a table, got " + kind(m));
        }
        if (!m.has("location")) {
          throw mk.error("location", "a mirror needs a location");
        }
        String ml = mk.string(m.get("location"), "location");
        mk.location(ml, "location");
        String from = m.has("pull-from-mirror") ? mk.string(m.get("pull-from-mirror"), "pull-from-mirror") : "all";
        if (!List.of("all", "digest-only", "tag-only").contains(from)) {
          throw mk.error("pull-from-mirror", "`" + printable(from) + "`: use all, digest-only or tag-only");
        }
        mirrors.add(new Mirror(ml, mk.bool(m, "insecure"), from));
      }
    }
    return new Registry(prefix, location, insecure, blocked, byDigest, List.copyOf(mirrors), k.file);
  }

  /** The registries of {@code unqualified-search-registries}, in order (empty when no file sets it). */
  public List<String> searchRegistries() {
    return searchRegistries;
  }

  /** The file {@link #searchRegistries()} came from. */
  public Optional<Path> searchRegistriesFile() {
    return searchFrom;
  }

  /** The {@code [[registry]]} tables after merging, in order. */
  public List<Registry> registries() {
    return List.copyOf(registries.values());
  }

  /**
   * The registry of a short name ({@code busybox}, {@code team/app}): the only entry of {@code
   * unqualified-search-registries}, or Docker Hub when no file lists any. Several entries are
   * ambiguous: a name squatted on an earlier one would be pulled instead of the intended image, so
   * this refuses (as podman's default {@code short-name-mode="enforcing"} does without a terminal).
   *
   * @throws ImageException when several search registries are listed, naming them and the file
   */
  public String shortNameRegistry(String reference) {
    if (searchRegistries.isEmpty()) {
      return RegistryReference.DOCKER_HUB;
    }
    if (searchRegistries.size() == 1) {
      return searchRegistries.get(0);
    }
    throw new ImageException("pull " + reference + ": the short name is ambiguous: unqualified-search-registries in "
        + searchFrom.orElseThrow() + " lists " + String.join(", ", searchRegistries) + "; use a fully qualified reference"
        + " (e.g. " + searchRegistries.get(0) + "/" + reference + ") or set the default registry");
  }

  /** The {@code [[registry]]} whose prefix matches {@code ref} longest, if any. */
  public Optional<Registry> find(RegistryReference ref) {
    String name = ref.registry() + "/" + ref.repository();
    Registry best = null;
    for (Registry r : registries.values()) {
      if (matchLength(name, r.prefix()) >= 0 && (best == null || r.prefix().length() > best.prefix().length())) {
        best = r;
      }
    }
    return Optional.ofNullable(best);
  }

  /**
   * Where to pull {@code ref} from: the matching registry's mirrors (those that serve this kind of
   * reference: by tag or by digest), then its location; each with the repository rewritten as
   * {@code location + rest-of-name-after-prefix}. Without a match, the reference's own registry.
   *
   * @throws ImageException when the matching registry is blocked, naming it and the file
   */
  public List<Endpoint> endpoints(RegistryReference ref) {
    Optional<Registry> found = find(ref);
    if (found.isEmpty()) {
      return List.of(new Endpoint(ref.registry(), ref.repository(), false, false));
    }
    Registry r = found.get();
    String name = ref.registry() + "/" + ref.repository();
    if (r.blocked()) {
      throw new ImageException("pull " + ref + ": registry " + ref.registry() + " is blocked in " + r.file()
          + " ([[registry]] prefix \"" + r.prefix() + "\")");
    }
    int matched = matchLength(name, r.prefix());
    List<Endpoint> out = new ArrayList<>();
    boolean byDigest = ref.digest().isPresent();
    for (Mirror m : r.mirrors()) {
      boolean serves = switch (r.mirrorByDigestOnly() ? "digest-only" : m.pullFromMirror()) {
        case "digest-only" -> byDigest;
        case "tag-only" -> !byDigest;
        default -> true;
      };
      if (serves) {
        out.add(rewrite(m.location() + name.substring(matched), m.insecure(), true, r, ref));
      }
    }
    String location = r.location().isEmpty() ? name.substring(0, matched) : r.location();
    out.add(rewrite(location + name.substring(matched), r.insecure(), false, r, ref));
    return List.copyOf(out);
  }

  private static Endpoint rewrite(String name, boolean insecure, boolean mirror, Registry r, RegistryReference ref) {
    int slash = name.indexOf('/');
    if (slash < 0) {
      throw new ImageException("pull " + ref + ": [[registry]] prefix \"" + r.prefix() + "\" in " + r.file()
          + " rewrites it to `" + name + "`, which has no repository");
    }
    try {
      RegistryReference rr = new RegistryReference(name.substring(0, slash), name.substring(slash + 1), Optional.empty(),
          Optional.empty());
      return new Endpoint(rr.registry(), rr.repository(), insecure, mirror);
    } catch (IllegalArgumentException e) {
      throw new ImageException("pull " + ref + ": [[registry]] prefix \"" + r.prefix() + "\" in " + r.file()
          + " rewrites it to an invalid name: " + e.getMessage(), e);
    }
  }

  /**
   * The length of {@code name} that {@code prefix} matches, or -1: a prefix matches at a component
   * boundary; {@code *.example.com} matches the registry (host) part of any subdomain of
   * example.com, as containers/image's {@code refMatchingPrefix} does.
   */
  static int matchLength(String name, String prefix) {
    if (prefix.startsWith("*.")) {
      String domain = prefix.substring(1); // ".example.com"
      int slash = name.indexOf('/');
      String host = slash < 0 ? name : name.substring(0, slash);
      String hostOnly = host;
      int colon = host.lastIndexOf(':');
      if (colon >= 0 && !host.endsWith("]")) {
        hostOnly = host.substring(0, colon);
      }
      if (hostOnly.endsWith(domain) && hostOnly.length() > domain.length()) {
        return hostOnly.length(); // the port, if any, follows the match (podman's boundary includes ':')
      }
      return -1;
    }
    if (name.equals(prefix)) {
      return prefix.length();
    }
    if (name.startsWith(prefix) && name.length() > prefix.length()) {
      char c = name.charAt(prefix.length());
      if (c == '/' || c == ':' || c == '@') {
        return prefix.length();
      }
    }
    return -1;
  }

  private static String kind(JsonNode n) {
    return n.isTextual() ? "a string" : n.isBoolean() ? "a boolean" : n.isNumber() ? "a number" : n.isArray() ? "an array"
        : n.isObject() ? "a table" : "a " + n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
  }

  private static String printable(String s) {
    String p = s.replaceAll("[^\\x20-\\x7e]", "?");
    return p.length() > 200 ? p.substring(0, 200) + "…" : p;
  }

  /** Typed access to a table's keys, errors naming the file and the key. */
  private static final class Fields {
    final Path file;
    final String prefix;

    Fields(Path file, String prefix) {
      this.file = file;
      this.prefix = prefix;
    }

    ImageException error(String key, String problem) {
      String k = (prefix + key).replaceAll("\\.$", "");
      return new ImageException("registries.conf " + file + ": " + (k.isEmpty() ? "" : k + ": ") + problem);
    }

    String string(JsonNode n, String key) {
      if (!n.isTextual()) {
        throw error(key, "expected a string, got " + kind(n));
      }
      return n.textValue();
    }

    boolean bool(JsonNode table, String key) {
      JsonNode n = table.get(key);
      if (n == null) {
        return false;
      }
      if (!n.isBoolean()) {
        throw error(key, "expected true or false, got " + kind(n));
      }
      return n.booleanValue();
    }

    Iterable<JsonNode> array(JsonNode n, String key) {
      if (!n.isArray()) {
        throw error(key, "expected an array, got " + kind(n));
      }
      Iterator<JsonNode> it = n.elements();
      return () -> it;
    }

    void registryName(String r, String key) {
      try {
        new RegistryReference(r, "x", Optional.empty(), Optional.empty());
      } catch (IllegalArgumentException e) {
        throw error(key, "`" + printable(r) + "` is not a registry host[:port]");
      }
    }

    /** {@code host[:port][/path]}. */
    void location(String l, String key) {
      int slash = l.indexOf('/');
      try {
        new RegistryReference(slash < 0 ? l : l.substring(0, slash), slash < 0 ? "x" : l.substring(slash + 1),
            Optional.empty(), Optional.empty());
      } catch (IllegalArgumentException e) {
        throw error(key, "`" + printable(l) + "` is not host[:port][/path]: " + e.getMessage());
      }
    }
  }
}
