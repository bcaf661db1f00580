package dev.berth.image.registry;

import dev.berth.image.Platform;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How to pull: which platform of a multi-platform image, the default registry and mirrors,
 * credentials, TLS roots, insecure registries, retries and bounds. Immutable; made with {@link
 * #builder()}, changed with {@link #toBuilder()}.
 *
 * <p>Credentials are looked up, per registry, in {@link Builder#credentials} first, then in the
 * auth files: {@code $REGISTRY_AUTH_FILE}, {@code $XDG_RUNTIME_DIR/containers/auth.json}, {@code
 * ~/.docker/config.json} (with its {@code credHelpers} and {@code credsStore}, run as {@code
 * docker-credential-NAME get}), unless {@link Builder#authFiles} names the files instead.
 */
public final class PullOptions {
  /** Defaults: the host's platform, Docker Hub, the system auth files and certificate directories. */
  public static final PullOptions DEFAULTS = builder().build();

  private final Optional<Platform> platform;
  private final String defaultRegistry;
  private final Map<String, List<String>> mirrors;
  private final Set<String> insecureRegistries;
  private final List<Path> certDirectories;
  private final Optional<List<Path>> authFiles;
  private final Map<String, Credentials> credentials;
  private final Optional<Path> credentialHelperDirectory;
  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Duration maxRetryAfter;
  private final Duration connectTimeout;
  private final int maxConcurrentDownloads;
  private final boolean defaultRegistrySet;
  private final Optional<Path> registriesConf;
  private final Optional<Path> registriesConfDir;

  private PullOptions(Builder b) {
    this.platform = b.platform;
    this.defaultRegistry = b.defaultRegistry;
    this.mirrors = Map.copyOf(b.mirrors);
    this.insecureRegistries = Set.copyOf(b.insecureRegistries);
    this.certDirectories = List.copyOf(b.certDirectories);
    this.authFiles = b.authFiles.map(List::copyOf);
    this.credentials = Map.copyOf(b.credentials);
    this.credentialHelperDirectory = b.credentialHelperDirectory;
    this.maxAttempts = b.maxAttempts;
    this.initialBackoff = b.initialBackoff;
    this.maxRetryAfter = b.maxRetryAfter;
    this.connectTimeout = b.connectTimeout;
    this.maxConcurrentDownloads = b.maxConcurrentDownloads;
    this.defaultRegistrySet = b.defaultRegistrySet;
    this.registriesConf = b.registriesConf;
    this.registriesConfDir = b.registriesConfDir;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.platform = platform;
    b.defaultRegistry = defaultRegistry;
    b.mirrors.putAll(mirrors);
    b.insecureRegistries.addAll(insecureRegistries);
    b.certDirectories = certDirectories;
    b.authFiles = authFiles;
    b.credentials.putAll(credentials);
    b.credentialHelperDirectory = credentialHelperDirectory;
    b.maxAttempts = maxAttempts;
    b.initialBackoff = initialBackoff;
    b.maxRetryAfter = maxRetryAfter;
    b.connectTimeout = connectTimeout;
    b.maxConcurrentDownloads = maxConcurrentDownloads;
    b.defaultRegistrySet = defaultRegistrySet;
    b.registriesConf = registriesConf;
    b.registriesConfDir = registriesConfDir;
    return b;
  }

  /** The platform to pick from a multi-platform index; empty for the host's. */
  public Optional<Platform> platform() {
    return platform;
  }

  public String defaultRegistry() {
    return defaultRegistry;
  }

  /** Whether {@link Builder#defaultRegistry} was called: then it, not registries.conf, decides short names. */
  public boolean defaultRegistrySet() {
    return defaultRegistrySet;
  }

  /** Whether {@link Builder#mirror} named mirrors for {@code registry}: then they replace registries.conf's. */
  public boolean hasMirrors(String registry) {
    return mirrors.containsKey(registry);
  }

  /**
   * The registries.conf read: {@link Builder#registriesConf}, else {@code $CONTAINERS_REGISTRIES_CONF},
   * else {@link RegistriesConf#SYSTEM_FILE}; a missing file is no configuration.
   */
  public Path registriesConf() {
    return registriesConf.orElseGet(() -> {
      String env = System.getenv("CONTAINERS_REGISTRIES_CONF");
      return env != null && !env.isEmpty() ? Path.of(env) : RegistriesConf.SYSTEM_FILE;
    });
  }

  /** The drop-in directory read after {@link #registriesConf()}: {@link Builder#registriesConfDir}, else the system's. */
  public Path registriesConfDir() {
    return registriesConfDir.orElse(RegistriesConf.SYSTEM_DIR);
  }

  /** Mirrors tried, in order, before a registry; keyed by registry (e.g. {@code docker.io}). */
  public List<String> mirrors(String registry) {
    return mirrors.getOrDefault(registry, List.of());
  }

  /** Whether plain HTTP (after HTTPS failed) is allowed for {@code registry}: loopback, or marked insecure. */
  public boolean insecure(String registry) {
    return insecureRegistries.contains(registry);
  }

  public List<Path> certDirectories() {
    return certDirectories;
  }

  public Optional<List<Path>> authFiles() {
    return authFiles;
  }

  public Optional<Credentials> credentials(String registry) {
    return Optional.ofNullable(credentials.get(registry));
  }

  public Optional<Path> credentialHelperDirectory() {
    return credentialHelperDirectory;
  }

  public int maxAttempts() {
    return maxAttempts;
  }

  public Duration initialBackoff() {
    return initialBackoff;
  }

  public Duration maxRetryAfter() {
    return maxRetryAfter;
  }

  public Duration connectTimeout() {
    return connectTimeout;
  }

  public int maxConcurrentDownloads() {
    return maxConcurrentDownloads;
  }

  @Override
  public String toString() {
    // credentials are named by registry only
    return "PullOptions[platform=" + platform + ", defaultRegistry=" + defaultRegistry + ", mirrors=" + mirrors
        + ", insecure=" + insecureRegistries + ", certDirectories=" + certDirectories + ", authFiles=" + authFiles
        + ", credentialsFor=" + credentials.keySet() + ", maxAttempts=" + maxAttempts + ", registriesConf="
        + registriesConf() + ", registriesConfDir=" + registriesConfDir() + "]";
  }

  /** Builder of {@link PullOptions}; validates each value as it is set. */
  public static final class Builder {
    private Optional<Platform> platform = Optional.empty();
    private String defaultRegistry = RegistryReference.DOCKER_HUB;
    private final Map<String, List<String>> mirrors = new HashMap<>();
    private final Set<String> insecureRegistries = new LinkedHashSet<>();
    private List<Path> certDirectories = List.of(Path.of("/etc/containers/certs.d"), Path.of("/etc/docker/certs.d"));
    private Optional<List<Path>> authFiles = Optional.empty();
    private final Map<String, Credentials> credentials = new HashMap<>();
    private Optional<Path> credentialHelperDirectory = Optional.empty();
    private int maxAttempts = 5;
    private Duration initialBackoff = Duration.ofMillis(200);
    private Duration maxRetryAfter = Duration.ofSeconds(60);
    private Duration connectTimeout = Duration.ofSeconds(30);
    private int maxConcurrentDownloads = 3;
    private boolean defaultRegistrySet;
    private Optional<Path> registriesConf = Optional.empty();
    private Optional<Path> registriesConfDir = Optional.empty();

    private Builder() {}

    /**
     * Read this registries.conf (containers-registries.conf(5) v2) instead of {@code
     * $CONTAINERS_REGISTRIES_CONF} or {@code /etc/containers/registries.conf}; a missing file is no
     * configuration. The settings of this builder override the file's.
     */
    public Builder registriesConf(Path file) {
      this.registriesConf = Optional.of(file);
      return this;
    }

    /** Read the {@code *.conf} drop-ins of this directory instead of {@code /etc/containers/registries.conf.d}. */
    public Builder registriesConfDir(Path dir) {
      this.registriesConfDir = Optional.of(dir);
      return this;
    }

    /** Pull this platform of a multi-platform image (default: the host's). */
    public Builder platform(Platform p) {
      this.platform = Optional.of(p);
      return this;
    }

    public Builder defaultRegistry(String registry) {
      new RegistryReference(registry, "x", Optional.empty(), Optional.empty()); // validates the name
      this.defaultRegistry = registry;
      this.defaultRegistrySet = true;
      return this;
    }

    public Builder mirror(String registry, String mirror) {
      new RegistryReference(mirror, "x", Optional.empty(), Optional.empty());
      mirrors.merge(registry, List.of(mirror), (a, b) -> {
        List<String> l = new java.util.ArrayList<>(a);
        l.addAll(b);
        return List.copyOf(l);
      });
      return this;
    }

    /** Allows plain HTTP (after HTTPS failed) for {@code registry} ({@code host[:port]}). */
    public Builder insecureRegistry(String registry) {
      new RegistryReference(registry, "x", Optional.empty(), Optional.empty());
      insecureRegistries.add(registry);
      return this;
    }

    /** Directories laid out as {@code DIR/HOST[:PORT]/*.crt} holding per-registry CA certificates. */
    public Builder certDirectories(List<Path> dirs) {
      this.certDirectories = List.copyOf(dirs);
      return this;
    }

    /** Read credentials from these auth files (containers-auth.json / docker config format) only. */
    public Builder authFiles(List<Path> files) {
      this.authFiles = Optional.of(List.copyOf(files));
      return this;
    }

    public Builder credentials(String registry, Credentials c) {
      new RegistryReference(registry, "x", Optional.empty(), Optional.empty());
      credentials.put(registry, java.util.Objects.requireNonNull(c, "credentials"));
      return this;
    }

    /** Look for {@code docker-credential-*} helpers in this directory instead of on the PATH. */
    public Builder credentialHelperDirectory(Path dir) {
      this.credentialHelperDirectory = Optional.of(dir);
      return this;
    }

    /** Attempts per request (and per resumed blob) before giving up; at least 1. */
    public Builder maxAttempts(int n) {
      if (n < 1 || n > 100) {
        throw new IllegalArgumentException("maxAttempts " + n + ": use 1..100");
      }
      this.maxAttempts = n;
      return this;
    }

    /** First retry delay; doubled per attempt. */
    public Builder initialBackoff(Duration d) {
      if (d.isNegative()) {
        throw new IllegalArgumentException("initialBackoff " + d + " is negative");
      }
      this.initialBackoff = d;
      return this;
    }

    /** The longest {@code Retry-After} honoured; a 429 asking for more fails with TOOMANYREQUESTS. */
    public Builder maxRetryAfter(Duration d) {
      if (d.isNegative()) {
        throw new IllegalArgumentException("maxRetryAfter " + d + " is negative");
      }
      this.maxRetryAfter = d;
      return this;
    }

    public Builder connectTimeout(Duration d) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("connectTimeout " + d + " must be positive");
      }
      this.connectTimeout = d;
      return this;
    }

    /** Blobs downloaded at once per registry; at least 1. */
    public Builder maxConcurrentDownloads(int n) {
      if (n < 1 || n > 64) {
        throw new IllegalArgumentException("maxConcurrentDownloads " + n + ": use 1..64");
      }
      this.maxConcurrentDownloads = n;
      return this;
    }

    public PullOptions build() {
      return new PullOptions(this);
    }
  }
}
