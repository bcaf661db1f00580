package dev.berth.image.registry;

import dev.berth.image.BlobVerificationException;
import dev.berth.image.Descriptor;
import dev.berth.image.Digest;
import dev.berth.image.ImageException;
import dev.berth.image.LimitExceededException;
import dev.berth.image.MediaTypes;
import dev.berth.image.internal.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OCI distribution protocol against one registry, over {@link HttpClient} (HTTP/2 where the
 * registry offers it): manifests with media-type negotiation, blobs as resumable streams, the
 * anonymous, basic and bearer-token flows, redirects, retries with backoff and {@code 429
 * Retry-After}. Bytes are handed on unverified; the caller verifies them (the image store does, while
 * it streams). Thread-safe; one client serves a whole pull.
 *
 * <p>HTTPS always comes first; plain HTTP is tried only when HTTPS fails and the registry is on
 * loopback or marked insecure. {@code Authorization} goes only to the registry's own host and port,
 * never along a redirect to another host, and credentials go to a token realm only over HTTPS (or
 * loopback). No credential or token is ever logged or put into a message.
 */
public final class RegistryClient {
  private static final Logger LOG = LoggerFactory.getLogger(RegistryClient.class);
  static final String MANIFEST_ACCEPT = String.join(", ", MediaTypes.OCI_INDEX, MediaTypes.OCI_MANIFEST,
      MediaTypes.DOCKER_MANIFEST_LIST, MediaTypes.DOCKER_MANIFEST);
  private static final int MAX_REDIRECTS = 5;
  private static final int MAX_ERROR_BODY = 64 * 1024;
  private static final int MAX_TOKEN_BODY = 1 << 20;

  private final String registry;
  private final PullOptions options;
  private final HttpClient http;
  private final URI base;
  private final AuthFiles authFiles;
  private final ConcurrentHashMap<String, String> authorizations = new ConcurrentHashMap<>();
  private final Semaphore downloads;
  private volatile Optional<Credentials> credentials;

  /** A manifest or index as the registry sent it; the digest is the sha256 of {@code bytes}. */
  public record Manifest(byte[] bytes, String mediaType, Digest digest) {}

  private RegistryClient(String registry, PullOptions options, HttpClient http, URI base, AuthFiles authFiles) {
    this.registry = registry;
    this.options = options;
    this.http = http;
    this.base = base;
    this.authFiles = authFiles;
    this.downloads = new Semaphore(options.maxConcurrentDownloads());
  }

  /**
   * Reaches {@code registry} ({@code host[:port]} as in references; Docker Hub's API host is used
   * for {@code docker.io}) by pinging {@code /v2/}: over HTTPS, or plain HTTP when HTTPS fails and
   * the registry is on loopback or marked insecure in {@code options}.
   */
  public static RegistryClient connect(String registry, PullOptions options) throws IOException {
    return connect(registry, options, System.getenv(), Path.of(System.getProperty("user.home")));
  }

  static RegistryClient connect(String registry, PullOptions options, Map<String, String> env, Path home)
      throws IOException {
    String apiHost = registry.equals(RegistryReference.DOCKER_HUB) ? RegistryReference.DOCKER_HUB_API : registry;
    AuthFiles auth = AuthFiles.of(options, env, home);
    HttpClient tls = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(options.connectTimeout())
        .sslContext(RegistryTls.context(RegistryTls.caCertificates(registry, options.certDirectories()),
            RegistryTls.clientIdentities(registry, options.certDirectories())))
        .version(HttpClient.Version.HTTP_2)
        .build();
    RegistryClient https = new RegistryClient(registry, options, tls, URI.create("https://" + apiHost), auth);
    boolean mayFallBack = options.insecure(registry) || isLoopback(hostOf(apiHost));
    try {
      // a plain HTTP server may never answer a TLS ClientHello: where plain HTTP is allowed, wait
      // briefly (loopback answers at once); elsewhere the connect timeout applies
      https.ping(mayFallBack && isLoopback(hostOf(apiHost)) ? Duration.ofSeconds(3) : options.connectTimeout());
      return https;
    } catch (RegistryException e) {
      if (e.status() != 0) {
        throw e; // it answered over https
      }
      throwIfClientCertificateWanted(registry, options, e);
      if (!mayFallBack) {
        boolean tlsFailed = e.getCause() instanceof javax.net.ssl.SSLException;
        throw new RegistryException(e.getMessage()
            + (tlsFailed ? " (plain HTTP is used only for loopback registries and ones marked insecure)" : ""),
            0, Optional.empty(), e.getCause());
      }
      LOG.debug("registry {}: https failed ({}); trying plain http", registry, e.getMessage());
      HttpClient plain = HttpClient.newBuilder()
          .followRedirects(HttpClient.Redirect.NEVER)
          .connectTimeout(options.connectTimeout())
          .version(HttpClient.Version.HTTP_1_1)
          .build();
      RegistryClient http = new RegistryClient(registry, options, plain, URI.create("http://" + apiHost), auth);
      try {
        http.ping(options.connectTimeout());
      } catch (RegistryException also) {
        if (also.status() != 400) {
          also.addSuppressed(e);
          throw also;
        }
        // an HTTPS server answers a plain request with 400 (Go's "Client sent an HTTP request to an
        // HTTPS server"): the https attempt was only slow (a loaded machine, a cold JVM); it gets
        // the whole connect timeout now, and its failure is the one reported
        try {
          https.ping(options.connectTimeout());
          return https;
        } catch (RegistryException again) {
          throwIfClientCertificateWanted(registry, options, again);
          again.addSuppressed(also);
          throw again;
        }
      } catch (IOException also) {
        also.addSuppressed(e);
        throw also;
      }
      return http;
    }
  }

  /** Turns a server's refusal of the handshake for want of a client certificate into a message saying so. */
  private static void throwIfClientCertificateWanted(String registry, PullOptions options, RegistryException e) {
    Optional<String> alert = clientCertificateAlert(e);
    if (alert.isPresent()) {
      // it speaks TLS and wants a client certificate: plain HTTP is no answer
      throw new RegistryException("registry " + registry + " refused the TLS handshake (" + alert.get()
          + "): it wants a client certificate it trusts; put NAME.cert and NAME.key in " + registry + "/ below one of "
          + options.certDirectories(), 0, Optional.empty(), e.getCause());
    }
  }

  /** {@code https://host[:port]} or {@code http://…}: where the API is served. */
  public URI baseUri() {
    return base;
  }

  public String registry() {
    return registry;
  }

  private void ping(Duration timeout) throws IOException {
    HttpRequest req = HttpRequest.newBuilder(base.resolve("/v2/")).timeout(timeout).GET().build();
    HttpResponse<InputStream> r;
    java.util.concurrent.CompletableFuture<HttpResponse<InputStream>> f =
        http.sendAsync(req, HttpResponse.BodyHandlers.ofInputStream());
    try {
      // bounded here: the request timeout does not cover a TLS handshake that never completes
      r = f.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while reaching registry " + registry);
    } catch (java.util.concurrent.TimeoutException e) {
      f.cancel(true);
      throw new RegistryException("registry " + registry + " cannot be reached at " + base + ": no answer within "
          + timeout.toMillis() + " ms", 0, Optional.empty(), new java.net.http.HttpTimeoutException("no answer to GET /v2/"));
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable c = e.getCause();
      IOException io = c instanceof IOException x ? x : new IOException(String.valueOf(c), c);
      throw new RegistryException("registry " + registry + " cannot be reached at " + base + ": " + describe(io), 0,
          Optional.empty(), io);
    }
    try (InputStream body = r.body()) {
      body.readNBytes(MAX_ERROR_BODY);
    }
    if (r.statusCode() != 200 && r.statusCode() != 401) {
      throw new RegistryException("registry " + registry + " at " + base + " does not speak the registry API v2: GET /v2/ answered "
          + r.statusCode(), r.statusCode(), Optional.empty());
    }
  }

  // ---- manifests

  /**
   * Fetches {@code reference} (a tag or a digest) of {@code repository}, refusing more than {@code
   * maxBytes}. A digest reference is verified; so is the registry's {@code Docker-Content-Digest}.
   */
  public Manifest manifest(String repository, String reference, long maxBytes, String what) throws IOException {
    URI uri = base.resolve("/v2/" + repository + "/manifests/" + reference);
    HttpResponse<InputStream> r = get(repository, uri, Map.of("Accept", MANIFEST_ACCEPT), what);
    byte[] b;
    try (InputStream in = r.body()) {
      long declared = r.headers().firstValueAsLong("Content-Length").orElse(-1);
      if (declared > maxBytes) {
        throw new LimitExceededException(what + ": manifest " + reference + " is " + declared + " bytes, over the limit of " + maxBytes);
      }
      b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
      if (b.length > maxBytes) {
        throw new LimitExceededException(what + ": manifest " + reference + " is over the limit of " + maxBytes + " bytes");
      }
    }
    Digest computed = Digest.sha256Of(b);
    if (reference.contains(":")) {
      Digest wanted = Digest.parse(reference);
      Digest actual = wanted.sameAlgorithm(wanted.newMessageDigest().digest(b));
      if (!actual.equals(wanted)) {
        throw new BlobVerificationException(what + ": manifest " + wanted + " from " + registry + " failed verification: got " + actual);
      }
    }
    Optional<String> header = r.headers().firstValue("Docker-Content-Digest");
    if (header.isPresent() && header.get().startsWith("sha256:") && !reference.contains(":")) {
      if (!header.get().equals(computed.toString())) {
        throw new BlobVerificationException(what + ": registry " + registry + " says manifest " + reference + " is "
            + header.get() + " but its bytes are " + computed);
      }
    }
    String type = r.headers().firstValue("Content-Type").map(t -> t.split(";", 2)[0].trim()).orElse("");
    if (!MediaTypes.isIndex(type) && !MediaTypes.isManifest(type)) {
      type = bodyMediaType(b, what).orElse(type);
    }
    return new Manifest(b, type, computed);
  }

  private static Optional<String> bodyMediaType(byte[] b, String what) {
    try {
      Object t = Json.readObject(b, what + " manifest").get("mediaType");
      return t instanceof String s ? Optional.of(s) : Optional.empty();
    } catch (ImageException e) {
      return Optional.empty();
    }
  }

  // ---- blobs

  /**
   * Opens blob {@code d} of {@code repository} as a stream that resumes with {@code Range} after a
   * dropped connection (up to {@code maxAttempts} times) and stops a registry that sends more than
   * {@code d.size()} bytes. At most {@code maxConcurrentDownloads} blob streams are open at once;
   * this call waits for a slot.
   */
  public InputStream blob(String repository, Descriptor d, String what) throws IOException {
    try {
      downloads.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(what + ": interrupted while waiting to download blob " + d.digest());
    }
    return new BlobStream(repository, d, what);
  }

  private final class BlobStream extends InputStream {
    private final String repository;
    private final Descriptor d;
    private final String what;
    private volatile InputStream current;
    private long position;
    private int resumes;
    private volatile boolean closed;

    BlobStream(String repository, Descriptor d, String what) {
      this.repository = repository;
      this.d = d;
      this.what = what;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      if (closed) {
        throw new IOException("blob " + d.digest() + ": stream closed");
      }
      while (true) {
        try {
          if (current == null) {
            current = open();
          }
          int n = current.read(buf, off, len);
          if (n < 0) {
            if (position < d.size()) {
              throw new IOException("the connection ended after " + position + " of " + d.size() + " bytes");
            }
            return -1;
          }
          position += n;
          if (position > d.size()) {
            throw new BlobVerificationException("blob " + d.digest() + " (" + d.mediaType() + ") failed verification: registry "
                + registry + " sent more than its " + d.size() + " bytes");
          }
          return n;
        } catch (ImageException | InterruptedIOException e) {
          throw e;
        } catch (IOException e) {
          if (Thread.currentThread().isInterrupted() || closed) {
            throw new InterruptedIOException(what + ": download of blob " + d.digest() + " ended at byte " + position
                + (closed ? " (aborted)" : " (interrupted)"));
          }
          closeCurrent();
          if (++resumes >= options.maxAttempts()) {
            throw new RegistryException(what + ": download of blob " + d.digest() + " from " + registry + " failed after "
                + resumes + " attempts at byte " + position + ": " + describe(e), 0, Optional.empty(), e);
          }
          LOG.debug("{}: blob {} dropped at byte {} ({}); resuming", what, d.digest(), position, describe(e));
          sleep(backoff(resumes), what);
        }
      }
    }

    private InputStream open() throws IOException {
      URI uri = base.resolve("/v2/" + repository + "/blobs/" + d.digest());
      Map<String, String> headers = position > 0 ? Map.of("Range", "bytes=" + position + "-") : Map.of();
      HttpResponse<InputStream> r = get(repository, uri, headers, what);
      InputStream in = r.body();
      if (position > 0) {
        if (r.statusCode() == 206) {
          String range = r.headers().firstValue("Content-Range").orElse("");
          if (!range.startsWith("bytes " + position + "-")) {
            in.close();
            throw new RegistryException(what + ": registry " + registry + " answered a resume of blob " + d.digest()
                + " from byte " + position + " with Content-Range `" + range + "`", 206, Optional.empty());
          }
        } else {
          // no range support: skip what was read already
          try {
            in.skipNBytes(position);
          } catch (IOException e) {
            in.close();
            throw e;
          }
        }
      }
      return in;
    }

    private void closeCurrent() {
      InputStream c = current;
      if (c != null) {
        try {
          c.close();
        } catch (IOException e) {
          LOG.debug("closing a dropped blob stream: {}", e.toString());
        }
        current = null;
      }
    }

    /** Ends the download; may be called from another thread than the reader's (an abort). */
    @Override
    public synchronized void close() {
      if (!closed) {
        closed = true;
        closeCurrent();
        downloads.release();
      }
    }
  }

  // ---- requests: retries, redirects, auth

  /**
   * GETs {@code uri} and returns a 2xx response with its body unread: authenticates on 401 (once),
   * follows redirects (http/https only, never https to http except to loopback or insecure hosts,
   * Authorization only to the registry's own host), retries connection errors and 5xx with
   * exponential backoff and 429 after its Retry-After, and turns the rest into a {@link
   * RegistryException} carrying the registry's error code.
   */
  HttpResponse<InputStream> get(String repository, URI uri, Map<String, String> headers, String what) throws IOException {
    boolean authenticated = false;
    int attempt = 0;
    URI target = uri;
    int redirects = 0;
    while (true) {
      attempt++;
      HttpRequest.Builder rb = HttpRequest.newBuilder(target).GET();
      headers.forEach(rb::header);
      boolean sameHost = sameAuthority(target, base);
      String authorization = authorizations.get(scope(repository));
      if (sameHost && authorization != null) {
        rb.header("Authorization", authorization);
      }
      HttpResponse<InputStream> r;
      try {
        r = http.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException(what + ": interrupted while talking to registry " + registry);
      } catch (IOException e) {
        if (attempt >= options.maxAttempts()) {
          throw new RegistryException(what + ": registry " + registry + " failed " + attempt + " times: " + describe(e)
              + " (" + redact(target) + ")", 0, Optional.empty(), e);
        }
        LOG.debug("{}: {} failed ({}); retrying", what, redact(target), describe(e));
        sleep(backoff(attempt), what);
        continue;
      }
      int status = r.statusCode();
      if (status >= 200 && status < 300) {
        return r;
      }
      if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
        String location = r.headers().firstValue("Location").orElse(null);
        drain(r);
        if (location == null) {
          throw new RegistryException(what + ": registry " + registry + " redirected without a Location", status, Optional.empty());
        }
        if (++redirects > MAX_REDIRECTS) {
          throw new RegistryException(what + ": registry " + registry + " redirected more than " + MAX_REDIRECTS + " times",
              status, Optional.empty());
        }
        target = redirectTarget(target, location, what);
        attempt--; // a redirect is not a failed attempt
        continue;
      }
      if (status == 401 && sameHost && !authenticated) {
        String challenge = r.headers().firstValue("WWW-Authenticate").orElse(null);
        RegistryException failure = error(r, what);
        authenticated = true;
        if (authenticate(repository, challenge, what, failure)) {
          attempt--;
          continue;
        }
        throw failure;
      }
      if (status == 429) {
        RegistryException failure = error(r, what);
        Optional<Duration> after = retryAfter(r);
        if (attempt >= options.maxAttempts()) {
          throw failure;
        }
        Duration wait = after.orElse(backoff(attempt));
        if (wait.compareTo(options.maxRetryAfter()) > 0) {
          throw new RegistryException(failure.getMessage() + "; it asks to wait " + wait.toSeconds() + " s, over the limit of "
              + options.maxRetryAfter().toSeconds() + " s", 429, failure.code());
        }
        LOG.debug("{}: registry {} answered 429; waiting {} ms", what, registry, wait.toMillis());
        sleep(wait, what);
        continue;
      }
      if (status >= 500 && status != 501 && status != 505) {
        RegistryException failure = error(r, what);
        if (attempt >= options.maxAttempts()) {
          throw failure;
        }
        LOG.debug("{}: {} answered {}; retrying", what, redact(target), status);
        sleep(backoff(attempt), what);
        continue;
      }
      throw error(r, what);
    }
  }

  private URI redirectTarget(URI from, String location, String what) throws RegistryException {
    URI to;
    try {
      to = from.resolve(new URI(location));
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw new RegistryException(what + ": registry " + registry + " redirected to an invalid URI", 0, Optional.empty());
    }
    String scheme = to.getScheme() == null ? "" : to.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http")) {
      throw new RegistryException(what + ": registry " + registry + " redirected to a `" + scheme
          + "` URI; only http and https are followed", 0, Optional.empty());
    }
    if (to.getHost() == null) {
      throw new RegistryException(what + ": registry " + registry + " redirected to a URI without a host", 0, Optional.empty());
    }
    if (scheme.equals("http") && "https".equals(from.getScheme()) && !isLoopback(to.getHost())
        && !options.insecure(authority(to))) {
      throw new RegistryException(what + ": registry " + registry + " redirected from https to plain http ("
          + to.getHost() + "); refused", 0, Optional.empty());
    }
    return to;
  }

  /** Handles a 401's challenge; false when there is nothing more to try. */
  private boolean authenticate(String repository, String header, String what, RegistryException failure)
      throws IOException {
    Optional<Challenge> c = Challenge.parse(header);
    if (c.isEmpty()) {
      return false;
    }
    Optional<Credentials> creds = credentials();
    switch (c.get().scheme()) {
      case "basic":
        if (creds.isEmpty()) {
          return false;
        }
        if (creds.get().isIdentityToken()) {
          throw new RegistryException(failure.getMessage() + "; the credentials for " + registry
              + " are an identity token (OAuth2 refresh token), which is sent only to a bearer token endpoint, and the registry"
              + " asked for Basic auth", 401, failure.code());
        }
        if (!"https".equals(base.getScheme()) && !isLoopback(base.getHost())) {
          throw new RegistryException(failure.getMessage() + "; credentials are not sent over plain http to a host that is not loopback",
              401, failure.code());
        }
        authorizations.put(scope(repository), basic(creds.get()));
        return true;
      case "bearer":
        authorizations.put(scope(repository), "Bearer " + token(c.get(), repository, creds, what));
        return true;
      default:
        return false;
    }
  }

  /** The OAuth2 client_id sent with a refresh token, as the token spec asks of clients. */
  private static final String CLIENT_ID = "berth";

  private static String basic(Credentials c) {
    return "Basic " + Base64.getEncoder().encodeToString((c.username() + ":" + c.secret()).getBytes(StandardCharsets.UTF_8));
  }

  private String token(Challenge c, String repository, Optional<Credentials> creds, String what) throws IOException {
    String realm = c.param("realm").orElseThrow(() -> new RegistryException(
        what + ": registry " + registry + " asked for a bearer token without a realm", 401, Optional.of("UNAUTHORIZED")));
    URI realmUri;
    try {
      realmUri = new URI(realm);
    } catch (URISyntaxException e) {
      throw new RegistryException(what + ": registry " + registry + " named an invalid token realm", 401, Optional.empty());
    }
    String scheme = realmUri.getScheme() == null ? "" : realmUri.getScheme().toLowerCase(Locale.ROOT);
    if ((!scheme.equals("https") && !scheme.equals("http")) || realmUri.getHost() == null) {
      throw new RegistryException(what + ": registry " + registry + " named a token realm that is not an http(s) URL", 401,
          Optional.empty());
    }
    boolean safe = scheme.equals("https") || isLoopback(realmUri.getHost()) || options.insecure(authority(realmUri));
    StringBuilder q = new StringBuilder();
    c.param("service").ifPresent(s -> q.append("service=").append(URLEncoder.encode(s, StandardCharsets.UTF_8)));
    String scope = "repository:" + repository + ":pull";
    q.append(q.length() > 0 ? "&" : "").append("scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
    if (creds.isPresent() && !safe) {
      throw new RegistryException(what + ": registry " + registry + " sent the token realm " + redact(realmUri)
          + " over plain http; credentials are not sent there", 401, Optional.empty());
    }
    HttpRequest.Builder rb;
    if (creds.isPresent() && creds.get().isIdentityToken()) {
      // the distribution token spec's OAuth2 flow: the refresh token is exchanged by a POST
      q.append("&grant_type=refresh_token&client_id=").append(CLIENT_ID)
          .append("&refresh_token=").append(URLEncoder.encode(creds.get().secret(), StandardCharsets.UTF_8));
      rb = HttpRequest.newBuilder(realmUri).timeout(Duration.ofSeconds(60))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString(q.toString(), StandardCharsets.UTF_8));
    } else {
      String sep = realmUri.getRawQuery() == null ? "?" : "&";
      rb = HttpRequest.newBuilder(URI.create(realm + sep + q)).GET().timeout(Duration.ofSeconds(60));
      if (creds.isPresent()) {
        rb.header("Authorization", basic(creds.get()));
      }
    }
    String realmName = realmUri.getScheme() + "://" + realmUri.getRawAuthority() + realmUri.getRawPath();
    HttpResponse<InputStream> r;
    IOException last = null;
    for (int attempt = 1; ; attempt++) {
      try {
        r = http.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() >= 500 && attempt < options.maxAttempts()) {
          drain(r);
          sleep(backoff(attempt), what);
          continue;
        }
        break;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException(what + ": interrupted while fetching a token from " + realmName);
      } catch (IOException e) {
        last = e;
        if (attempt >= options.maxAttempts()) {
          throw new RegistryException(what + ": token endpoint " + realmName + " of registry " + registry + " failed: "
              + describe(last), 0, Optional.empty(), last);
        }
        sleep(backoff(attempt), what);
      }
    }
    byte[] body;
    try (InputStream in = r.body()) {
      body = in.readNBytes(MAX_TOKEN_BODY + 1);
    }
    int status = r.statusCode();
    if (status != 200) {
      Optional<String> code = errorCode(body);
      if (code.isEmpty() && (status == 401 || status == 403)) {
        code = Optional.of(status == 401 ? "UNAUTHORIZED" : "DENIED");
      }
      throw new RegistryException(what + ": token endpoint " + realmName + " of registry " + registry + " answered "
          + status + code.map(x -> " " + x).orElse("")
          + (status == 401 || (status == 400 && creds.isPresent() && creds.get().isIdentityToken())
              ? (creds.isPresent() ? (creds.get().isIdentityToken() ? " (the identity token was refused)" : " (the credentials were refused)")
                  : " (no credentials for " + registry + ")") : ""),
          status, code);
    }
    if (body.length > MAX_TOKEN_BODY) {
      throw new LimitExceededException(what + ": token endpoint " + realmName + " answered more than " + MAX_TOKEN_BODY + " bytes");
    }
    Map<String, Object> doc;
    try {
      doc = Json.readObject(body, "token answer");
    } catch (ImageException e) {
      throw new RegistryException(what + ": token endpoint " + realmName + " answered something that is not a JSON object", 200,
          Optional.empty());
    }
    Object t = doc.get("token");
    if (!(t instanceof String) || ((String) t).isEmpty()) {
      t = doc.get("access_token");
    }
    if (!(t instanceof String token) || token.isEmpty() || !token.matches("[\\x21-\\x7e]+")) {
      throw new RegistryException(what + ": token endpoint " + realmName + " answered without a usable token", 200, Optional.empty());
    }
    return token;
  }

  private Optional<Credentials> credentials() throws IOException {
    Optional<Credentials> c = credentials;
    if (c == null) {
      synchronized (this) {
        c = credentials;
        if (c == null) {
          c = options.credentials(registry);
          if (c.isEmpty()) {
            c = authFiles.lookup(registry);
          }
          credentials = c;
        }
      }
    }
    return c;
  }

  private static String scope(String repository) {
    return repository;
  }

  private RegistryException error(HttpResponse<InputStream> r, String what) throws IOException {
    byte[] body;
    try (InputStream in = r.body()) {
      body = in.readNBytes(MAX_ERROR_BODY);
    }
    int status = r.statusCode();
    Optional<String> code = errorCode(body);
    Optional<String> message = errorMessage(body);
    if (code.isEmpty()) {
      code = switch (status) {
        case 401 -> Optional.of("UNAUTHORIZED");
        case 403 -> Optional.of("DENIED");
        case 429 -> Optional.of("TOOMANYREQUESTS");
        default -> Optional.empty();
      };
    }
    String hint = switch (status) {
      case 401 -> credentialsKnown() ? " (the credentials were refused)" : " (no credentials for " + registry + "; log in or pass them)";
      case 404 -> " (no such image, tag or blob)";
      default -> "";
    };
    return new RegistryException(what + ": registry " + registry + " answered " + status + code.map(x -> " " + x).orElse("")
        + message.map(m -> ": " + m).orElse("") + hint, status, code);
  }

  private boolean credentialsKnown() {
    Optional<Credentials> c = credentials;
    return c != null && c.isPresent();
  }

  @SuppressWarnings("unchecked")
  private static Optional<String> errorCode(byte[] body) {
    return firstError(body).map(e -> e.get("code")).filter(String.class::isInstance).map(String.class::cast)
        .filter(s -> s.matches("[A-Z_]{1,64}"));
  }

  private static Optional<String> errorMessage(byte[] body) {
    return firstError(body).map(e -> e.get("message")).filter(String.class::isInstance).map(String.class::cast)
        .map(RegistryClient::printable).filter(s -> !s.isEmpty());
  }

  private static Optional<Map<?, ?>> firstError(byte[] body) {
    if (body.length == 0) {
      return Optional.empty();
    }
    try {
      Object errors = Json.readObject(body, "registry error").get("errors");
      if (errors instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof Map<?, ?> m) {
        return Optional.of(m);
      }
    } catch (ImageException e) {
      // not a registry error document
    }
    return Optional.empty();
  }

  /** A registry's message, shown to a user: printable ASCII, at most 200 characters. */
  private static String printable(String s) {
    String p = s.replaceAll("[^\\x20-\\x7e]", "?");
    return p.length() > 200 ? p.substring(0, 200) + "…" : p;
  }

  private static Optional<Duration> retryAfter(HttpResponse<?> r) {
    Optional<String> v = r.headers().firstValue("Retry-After").map(String::trim);
    if (v.isEmpty()) {
      return Optional.empty();
    }
    try {
      long s = Long.parseLong(v.get());
      return Optional.of(Duration.ofSeconds(Math.max(0, s)));
    } catch (NumberFormatException notSeconds) {
      try {
        ZonedDateTime at = ZonedDateTime.parse(v.get(), DateTimeFormatter.RFC_1123_DATE_TIME);
        Duration d = Duration.between(ZonedDateTime.now(at.getZone()), at);
        return Optional.of(d.isNegative() ? Duration.ZERO : d);
      } catch (DateTimeParseException e) {
        return Optional.empty();
      }
    }
  }

  private Duration backoff(int attempt) {
    long base = options.initialBackoff().toMillis();
    long ms = base * (1L << Math.min(attempt - 1, 10));
    ms = Math.min(ms, 30_000);
    long jitter = ms == 0 ? 0 : ThreadLocalRandom.current().nextLong(ms / 4 + 1);
    return Duration.ofMillis(ms + jitter);
  }

  private static void sleep(Duration d, String what) throws InterruptedIOException {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(what + ": interrupted while waiting to retry");
    }
  }

  private static void drain(HttpResponse<InputStream> r) throws IOException {
    try (InputStream in = r.body()) {
      in.readNBytes(MAX_ERROR_BODY);
    }
  }

  private static boolean sameAuthority(URI a, URI b) {
    return a.getScheme().equalsIgnoreCase(b.getScheme()) && authority(a).equalsIgnoreCase(authority(b));
  }

  private static String authority(URI u) {
    int port = u.getPort();
    return u.getHost() + (port < 0 ? "" : ":" + port);
  }

  /** A URI for a message: scheme, host, port and path, without query (a presigned URL's query is a credential). */
  static String redact(URI u) {
    return u.getScheme() + "://" + u.getRawAuthority() + (u.getRawPath() == null ? "" : u.getRawPath());
  }

  static String hostOf(String hostPort) {
    if (hostPort.startsWith("[")) {
      int end = hostPort.indexOf(']');
      return end > 0 ? hostPort.substring(1, end) : hostPort;
    }
    int colon = hostPort.lastIndexOf(':');
    return colon > 0 ? hostPort.substring(0, colon) : hostPort;
  }

  /** localhost, 127.0.0.0/8 and ::1, by name or literal; names other than localhost are not resolved. */
  static boolean isLoopback(String host) {
    if (host == null) {
      return false;
    }
    String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    if (h.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (!h.matches("[0-9.]+") && !h.contains(":")) {
      return false; // a name: resolving it would let DNS decide
    }
    try {
      return InetAddress.getByName(h).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** An exception for a message: its class and message, and its cause's when it has none (HttpClient's ConnectException). */
  /** The TLS alert, when a server refused the handshake for want of a (valid) client certificate. */
  static Optional<String> clientCertificateAlert(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage();
      if (t instanceof javax.net.ssl.SSLException && m != null) {
        for (String alert : List.of("certificate_required", "bad_certificate", "unknown_ca", "certificate_unknown")) {
          if (m.contains("Received fatal alert: " + alert)) {
            return Optional.of(alert);
          }
        }
      }
    }
    return Optional.empty();
  }

  private static String describe(IOException e) {
    String m = e.getMessage();
    if ((m == null || m.isEmpty()) && e.getCause() != null) {
      return e.getClass().getSimpleName() + ": " + e.getCause().getClass().getSimpleName()
          + (e.getCause().getMessage() == null ? "" : " " + e.getCause().getMessage());
    }
    return e.getClass().getSimpleName() + (m == null || m.isEmpty() ? "" : " " + m);
  }
}
