package dev.berth.image.registry;

import dev.berth.image.ImageException;
import dev.berth.image.internal.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds a registry's credentials in the files podman, skopeo and docker use (containers-auth.json
 * and docker's config.json share the format): {@code auths.HOST.auth} (base64 {@code user:pass}),
 * {@code credHelpers.HOST} and {@code credsStore}, a helper run as {@code docker-credential-NAME
 * get} with the server on stdin and {@code {"Username","Secret"}} on stdout. The first file with an
 * answer for the registry wins. Errors name the file and the key, never a value.
 */
final class AuthFiles {
  private static final Logger LOG = LoggerFactory.getLogger(AuthFiles.class);
  private static final long MAX_FILE_BYTES = 1 << 20;
  private static final String HUB_SERVER = "https://index.docker.io/v1/";

  private final List<Path> files;
  private final Optional<Path> helperDirectory;

  AuthFiles(List<Path> files, Optional<Path> helperDirectory) {
    this.files = List.copyOf(files);
    this.helperDirectory = helperDirectory;
  }

  /** The files of {@code options}, or the default search path for this environment. */
  static AuthFiles of(PullOptions options, Map<String, String> env, Path home) {
    return new AuthFiles(options.authFiles().orElseGet(() -> defaultFiles(env, home)), options.credentialHelperDirectory());
  }

  static List<Path> defaultFiles(Map<String, String> env, Path home) {
    List<Path> out = new ArrayList<>();
    String explicit = env.get("REGISTRY_AUTH_FILE");
    if (explicit != null && !explicit.isEmpty()) {
      out.add(Path.of(explicit));
    }
    String xdg = env.get("XDG_RUNTIME_DIR");
    if (xdg != null && !xdg.isEmpty()) {
      out.add(Path.of(xdg, "containers", "auth.json"));
    }
    out.add(home.resolve(".config/containers/auth.json"));
    out.add(home.resolve(".docker/config.json"));
    return out;
  }

  List<Path> files() {
    return files;
  }

  /** The keys a registry may be filed under. */
  private static List<String> keys(String registry) {
    if (registry.equals(RegistryReference.DOCKER_HUB)) {
      return List.of("docker.io", HUB_SERVER, "index.docker.io", "registry-1.docker.io", "https://index.docker.io");
    }
    return List.of(registry, "https://" + registry, "http://" + registry);
  }

  Optional<Credentials> lookup(String registry) throws IOException {
    for (Path f : files) {
      Optional<Credentials> c = lookup(f, registry);
      if (c.isPresent()) {
        LOG.debug("credentials for {} from {}", registry, f);
        return c;
      }
    }
    return Optional.empty();
  }

  @SuppressWarnings("unchecked")
  private Optional<Credentials> lookup(Path file, String registry) throws IOException {
    byte[] bytes;
    try {
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new ImageException("auth file " + file + " is over " + MAX_FILE_BYTES + " bytes");
      }
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    if (bytes.length == 0) {
      return Optional.empty();
    }
    Map<String, Object> doc;
    try {
      doc = Json.readObject(bytes, "auth file " + file);
    } catch (ImageException e) {
      // the parser's message may quote the text around the error: a secret, so it is not passed on
      throw new ImageException("auth file " + file + " is not a valid JSON object");
    }
    Object helpers = doc.get("credHelpers");
    if (helpers instanceof Map<?, ?> h) {
      for (String k : keys(registry)) {
        if (h.get(k) instanceof String name && !name.isEmpty()) {
          return helper(name, registry, file);
        }
      }
    }
    Object auths = doc.get("auths");
    if (auths instanceof Map<?, ?> a) {
      for (String k : keys(registry)) {
        if (a.get(k) instanceof Map<?, ?> entry && entry.get("identitytoken") instanceof String idToken && !idToken.isEmpty()) {
          return Optional.of(Credentials.identityToken(idToken)); // docker login's OAuth2 refresh token
        }
        if (a.get(k) instanceof Map<?, ?> entry && entry.get("auth") instanceof String auth && !auth.isEmpty()) {
          return Optional.of(decode(auth, file, k));
        }
      }
    }
    if (doc.get("credsStore") instanceof String store && !store.isEmpty()) {
      return helper(store, registry, file);
    }
    return Optional.empty();
  }

  private static Credentials decode(String auth, Path file, String key) throws ImageException {
    String plain;
    try {
      plain = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new ImageException("auth file " + file + ": auths." + key + ".auth is not base64");
    }
    int colon = plain.indexOf(':');
    if (colon <= 0) {
      throw new ImageException("auth file " + file + ": auths." + key + ".auth is not base64 of user:password");
    }
    return new Credentials(plain.substring(0, colon), plain.substring(colon + 1));
  }

  /** Runs {@code docker-credential-NAME get}; a helper that has nothing for the server exits non-zero. */
  private Optional<Credentials> helper(String name, String registry, Path file) throws IOException {
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new ImageException("auth file " + file + ": invalid credential helper name `" + name + "`");
    }
    String exe = "docker-credential-" + name;
    String command = helperDirectory.map(d -> d.resolve(exe).toString()).orElse(exe);
    Process p;
    try {
      p = new ProcessBuilder(command, "get").redirectError(ProcessBuilder.Redirect.DISCARD).start();
    } catch (IOException e) {
      throw new ImageException("credential helper " + exe + " (named in " + file + ") cannot be run: " + e.getMessage(), e);
    }
    try {
      try (OutputStream in = p.getOutputStream()) {
        in.write((registry.equals(RegistryReference.DOCKER_HUB) ? HUB_SERVER : registry).getBytes(StandardCharsets.UTF_8));
      }
      byte[] out;
      try (InputStream o = p.getInputStream()) {
        out = o.readNBytes((int) MAX_FILE_BYTES);
      }
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        throw new ImageException("credential helper " + exe + " did not answer within 30 s");
      }
      if (p.exitValue() != 0) {
        LOG.debug("credential helper {} has no credentials for {} (exit {})", exe, registry, p.exitValue());
        return Optional.empty();
      }
      Map<String, Object> doc = Json.readObject(out, "the answer of credential helper " + exe);
      if (!(doc.get("Username") instanceof String user) || !(doc.get("Secret") instanceof String secret)) {
        throw new ImageException("credential helper " + exe + " answered without Username and Secret");
      }
      if (user.isEmpty() || secret.isEmpty()) {
        throw new ImageException("credential helper " + exe + " answered with an empty Username or Secret");
      }
      return Optional.of(new Credentials(user, secret)); // "<token>": an identity token, for the bearer flow
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while running credential helper " + exe);
    } finally {
      p.destroy();
    }
  }
}
