package dev.berth.image;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The token server of the distribution token flow, for tests: checks Basic credentials and answers
 * an ES256 JWT (its signing certificate in {@code x5c}) granting the scope asked for. Plain HTTP on
 * 127.0.0.1 (a loopback realm may be plain).
 */
final class TokenServer implements AutoCloseable {
  final HttpServer server;
  final String service;
  final String issuer;
  final Path certificate;
  private final PrivateKey key;
  private final String x5c;
  private final String basic;
  final List<String> scopes = new CopyOnWriteArrayList<>();
  final AtomicInteger failuresLeft = new AtomicInteger();

  TokenServer(Path dir, String user, String password) throws Exception {
    Files.createDirectories(dir);
    HostTools.run(dir, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "token.key", "-out", "token.crt", "-days", "2", "-subj", "/CN=berth token issuer");
    this.certificate = dir.resolve("token.crt");
    String pem = Files.readString(dir.resolve("token.key"));
    byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
    this.key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    try (var in = Files.newInputStream(certificate)) {
      this.x5c = Base64.getEncoder().encodeToString(CertificateFactory.getInstance("X.509").generateCertificate(in).getEncoded());
    }
    this.service = "berth-test-registry";
    this.issuer = "berth-test-issuer";
    this.basic = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "token-server");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/token", this::handle);
    server.start();
  }

  String realm() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
  }

  private static String b64(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private void handle(HttpExchange x) throws IOException {
    try (x) {
      if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        FakeRegistry.send(x, 503, "token service unavailable".getBytes(StandardCharsets.UTF_8));
        return;
      }
      if (!basic.equals(x.getRequestHeaders().getFirst("Authorization"))) {
        FakeRegistry.error(x, 401, "UNAUTHORIZED", "bad credentials");
        return;
      }
      List<String> access = new ArrayList<>();
      String query = x.getRequestURI().getRawQuery() == null ? "" : x.getRequestURI().getRawQuery();
      for (String kv : query.split("&")) {
        if (kv.startsWith("scope=")) {
          String scope = URLDecoder.decode(kv.substring(6), StandardCharsets.UTF_8);
          scopes.add(scope);
          String[] p = scope.split(":");
          if (p.length == 3) {
            StringBuilder actions = new StringBuilder();
            for (String a : p[2].split(",")) {
              actions.append(actions.length() > 0 ? "," : "").append('"').append(a).append('"');
            }
            access.add("{\"type\":\"" + p[0] + "\",\"name\":\"" + p[1] + "\",\"actions\":[" + actions + "]}");
          }
        }
      }
      long now = Instant.now().getEpochSecond();
      String header = "{\"typ\":\"JWT\",\"alg\":\"ES256\",\"x5c\":[\"" + x5c + "\"]}";
      String claims = "{\"iss\":\"" + issuer + "\",\"sub\":\"berth\",\"aud\":\"" + service + "\",\"exp\":" + (now + 300)
          + ",\"nbf\":" + (now - 10) + ",\"iat\":" + now + ",\"jti\":\"" + UUID.randomUUID() + "\",\"access\":["
          + String.join(",", access) + "]}";
      String signingInput = b64(header.getBytes(StandardCharsets.UTF_8)) + "." + b64(claims.getBytes(StandardCharsets.UTF_8));
      String jwt;
      try {
        Signature sig = Signature.getInstance("SHA256withECDSAinP1363Format");
        sig.initSign(key);
        sig.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        jwt = signingInput + "." + b64(sig.sign());
      } catch (java.security.GeneralSecurityException e) {
        throw new IOException(e);
      }
      x.getResponseHeaders().set("Content-Type", "application/json");
      FakeRegistry.send(x, 200, ("{\"token\":\"" + jwt + "\",\"expires_in\":300}").getBytes(StandardCharsets.UTF_8));
    }
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
