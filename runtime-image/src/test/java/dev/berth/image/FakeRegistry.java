package dev.berth.image;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * An in-JVM registry (plain HTTP on 127.0.0.1) for tests: serves manifests and blobs with Range,
 * anonymous, basic or bearer auth (its own token endpoint), and faults a test sets per path: a
 * connection dropped mid-blob, a corrupted byte, 429 with Retry-After, 5xx, redirects. Records every
 * request (path, Range, Authorization) for assertions.
 */
final class FakeRegistry implements AutoCloseable {
  /** One request as the fake saw it. */
  record Seen(String method, String path, String range, String authorization) {}

  /** What a test makes a request answer instead of the normal response; null to answer normally. */
  interface Fault {
    boolean handle(HttpExchange x, byte[] normalBody) throws IOException;
  }

  final HttpServer server;
  final Map<String, byte[]> manifests = new ConcurrentHashMap<>(); // repo:ref -> bytes
  final Map<String, String> manifestTypes = new ConcurrentHashMap<>();
  final Map<String, byte[]> blobs = new ConcurrentHashMap<>(); // digest -> bytes
  final List<Seen> seen = new CopyOnWriteArrayList<>();
  final Map<String, List<Fault>> faults = new ConcurrentHashMap<>(); // path prefix -> one-shot faults, in order
  final AtomicInteger tokenRequests = new AtomicInteger();
  volatile String basicUser;
  volatile String basicPassword;
  volatile boolean bearer;
  /** When set, the token endpoint accepts only the OAuth2 refresh-token grant with this token. */
  volatile String refreshToken;
  final List<Map<String, String>> tokenForms = new java.util.concurrent.CopyOnWriteArrayList<>();
  volatile String tokenRealm;
  volatile Function<HttpExchange, Integer> tokenFailure = x -> 0;

  /** Per-registry CA directories ({@code CERTS/127.0.0.1:PORT/ca.crt}) for {@code PullOptions.certDirectories}. */
  static final Path CERTS;
  private static final Path KEYSTORE;

  static {
    try {
      Path dir = Files.createTempDirectory("fake-registry-tls");
      dir.toFile().deleteOnExit();
      KEYSTORE = dir.resolve("ks.p12");
      CERTS = Files.createDirectory(dir.resolve("certs.d"));
      run("keytool", "-genkeypair", "-alias", "reg", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=127.0.0.1",
          "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-keystore", KEYSTORE.toString(), "-storetype", "PKCS12",
          "-storepass", "changeit");
      run("keytool", "-exportcert", "-rfc", "-alias", "reg", "-keystore", KEYSTORE.toString(), "-storepass", "changeit",
          "-file", dir.resolve("ca.crt").toString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void run(String... cmd) throws IOException {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (p.waitFor() != 0) {
        throw new IOException(String.join(" ", cmd) + ": " + new String(out, StandardCharsets.UTF_8));
      }
    } catch (InterruptedException e) {
      throw new IOException(e);
    }
  }

  final boolean tls;

  /** A registry over HTTPS, its certificate in {@link #CERTS}. */
  FakeRegistry() throws IOException {
    this(true);
  }

  FakeRegistry(boolean tls) throws IOException {
    this.tls = tls;
    InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    if (tls) {
      HttpsServer s = HttpsServer.create(any, 0);
      try {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(KEYSTORE)) {
          ks.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        s.setHttpsConfigurator(new HttpsConfigurator(ctx));
      } catch (java.security.GeneralSecurityException e) {
        throw new IOException(e);
      }
      server = s;
    } else {
      server = HttpServer.create(any, 0);
    }
    server.setExecutor(Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "fake-registry");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/", this::handle);
    server.start();
    tokenRealm = scheme() + "://" + host() + "/token";
    if (tls) {
      Path d = Files.createDirectories(CERTS.resolve(host()));
      Files.copy(CERTS.getParent().resolve("ca.crt"), d.resolve("ca.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  String scheme() {
    return tls ? "https" : "http";
  }

  String host() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  /** Publishes an OCI layout's blobs and its index/manifests under {@code repo:tag}. */
  void publish(String repo, String tag, byte[] manifest, String mediaType) {
    Digest d = Digest.sha256Of(manifest);
    manifests.put(repo + ":" + tag, manifest);
    manifests.put(repo + ":" + d, manifest);
    manifestTypes.put(repo + ":" + tag, mediaType);
    manifestTypes.put(repo + ":" + d, mediaType);
  }

  Digest blob(byte[] b) {
    Digest d = Digest.sha256Of(b);
    blobs.put(d.toString(), b);
    return d;
  }

  void fault(String pathPrefix, Fault f) {
    faults.computeIfAbsent(pathPrefix, k -> new CopyOnWriteArrayList<>()).add(f);
  }

  long blobGets(Digest d) {
    return seen.stream().filter(s -> s.path().endsWith("/blobs/" + d)).count();
  }

  private void handle(HttpExchange x) throws IOException {
    try (x) {
      String path = x.getRequestURI().getPath();
      seen.add(new Seen(x.getRequestMethod(), path, x.getRequestHeaders().getFirst("Range"),
          x.getRequestHeaders().getFirst("Authorization")));
      if (path.equals("/token")) {
        token(x);
        return;
      }
      if (!authorised(x)) {
        return;
      }
      byte[] body = null;
      String type = "application/octet-stream";
      int status = 200;
      String contentRange = null;
      if (path.equals("/v2/")) {
        body = "{}".getBytes(StandardCharsets.UTF_8);
      } else if (path.contains("/manifests/")) {
        String repo = path.substring(4, path.indexOf("/manifests/"));
        String ref = path.substring(path.indexOf("/manifests/") + 11);
        body = manifests.get(repo + ":" + ref);
        type = manifestTypes.get(repo + ":" + ref);
        if (body == null) {
          error(x, 404, "MANIFEST_UNKNOWN", "manifest unknown");
          return;
        }
      } else if (path.contains("/blobs/")) {
        String digest = path.substring(path.indexOf("/blobs/") + 7);
        body = blobs.get(digest);
        if (body == null) {
          error(x, 404, "BLOB_UNKNOWN", "blob unknown to registry");
          return;
        }
      } else {
        error(x, 404, "NAME_UNKNOWN", "no such path");
        return;
      }
      for (Map.Entry<String, List<Fault>> f : faults.entrySet()) {
        if (path.startsWith(f.getKey()) && !f.getValue().isEmpty()) {
          Fault fault = f.getValue().remove(0);
          if (fault.handle(x, body)) {
            return;
          }
        }
      }
      String range = x.getRequestHeaders().getFirst("Range");
      if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
        int from = Integer.parseInt(range.substring(6, range.length() - 1));
        contentRange = "bytes " + from + "-" + (body.length - 1) + "/" + body.length;
        byte[] rest = new byte[body.length - from];
        System.arraycopy(body, from, rest, 0, rest.length);
        body = rest;
        status = 206;
      }
      x.getResponseHeaders().set("Content-Type", type);
      if (contentRange != null) {
        x.getResponseHeaders().set("Content-Range", contentRange);
      }
      send(x, status, body);
    }
  }

  static void send(HttpExchange x, int status, byte[] body) throws IOException {
    x.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream o = x.getResponseBody()) {
        o.write(body);
      }
    }
  }

  static void error(HttpExchange x, int status, String code, String message) throws IOException {
    x.getResponseHeaders().set("Content-Type", "application/json");
    send(x, status, ("{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}]}")
        .getBytes(StandardCharsets.UTF_8));
  }

  private boolean authorised(HttpExchange x) throws IOException {
    String auth = x.getRequestHeaders().getFirst("Authorization");
    if (bearer) {
      if (auth != null && auth.equals("Bearer good-token")) {
        return true;
      }
      x.getResponseHeaders().set("WWW-Authenticate",
          "Bearer realm=\"" + tokenRealm + "\",service=\"fake\",scope=\"repository:x:pull\"");
      error(x, 401, "UNAUTHORIZED", "authentication required");
      return false;
    }
    if (basicUser != null) {
      String want = "Basic " + Base64.getEncoder().encodeToString((basicUser + ":" + basicPassword).getBytes(StandardCharsets.UTF_8));
      if (want.equals(auth)) {
        return true;
      }
      x.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"fake\"");
      error(x, 401, "UNAUTHORIZED", "authentication required");
      return false;
    }
    return true;
  }

  private void token(HttpExchange x) throws IOException {
    tokenRequests.incrementAndGet();
    int fail = tokenFailure.apply(x);
    if (fail != 0) {
      send(x, fail, "token service is down".getBytes(StandardCharsets.UTF_8));
      return;
    }
    if (refreshToken != null) {
      // the OAuth2 refresh-token grant of the distribution token spec: a form POST, answered with access_token
      Map<String, String> form = new java.util.HashMap<>();
      String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      for (String kv : body.split("&")) {
        int eq = kv.indexOf('=');
        if (eq > 0) {
          form.put(java.net.URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8),
              java.net.URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
        }
      }
      tokenForms.add(form);
      if (!x.getRequestMethod().equals("POST") || !"refresh_token".equals(form.get("grant_type"))
          || form.get("client_id") == null || !"fake".equals(form.get("service")) || form.get("scope") == null) {
        error(x, 400, "UNSUPPORTED", "expected a refresh_token grant");
        return;
      }
      if (!refreshToken.equals(form.get("refresh_token"))) {
        send(x, 401, "{\"error\":\"invalid_grant\"}".getBytes(StandardCharsets.UTF_8));
        return;
      }
      x.getResponseHeaders().set("Content-Type", "application/json");
      send(x, 200, "{\"access_token\":\"good-token\",\"expires_in\":300,\"refresh_token\":\"next\"}".getBytes(StandardCharsets.UTF_8));
      return;
    }
    if (basicUser != null) {
      String want = "Basic " + Base64.getEncoder().encodeToString((basicUser + ":" + basicPassword).getBytes(StandardCharsets.UTF_8));
      if (!want.equals(x.getRequestHeaders().getFirst("Authorization"))) {
        error(x, 401, "UNAUTHORIZED", "bad credentials");
        return;
      }
    }
    x.getResponseHeaders().set("Content-Type", "application/json");
    send(x, 200, "{\"token\":\"good-token\",\"expires_in\":300}".getBytes(StandardCharsets.UTF_8));
  }

  List<Seen> requests(String pathPart) {
    List<Seen> out = new ArrayList<>();
    for (Seen s : seen) {
      if (s.path().contains(pathPart)) {
        out.add(s);
      }
    }
    return out;
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
