package dev.berth.image;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;

/**
 * A reverse proxy on 127.0.0.1 (plain HTTP, which loopback allows) in front of a real registry over
 * HTTPS, injecting faults a test queues per path prefix: drop the connection after N bytes, flip a
 * byte, answer 429 with Retry-After. Everything else passes through unchanged, headers included.
 */
final class FaultProxy implements AutoCloseable {
  enum Kind { DROP_HALF, CORRUPT, TOO_MANY_REQUESTS }

  private final HttpServer server;
  private final HttpClient upstream;
  private final URI target;
  final Map<String, List<Kind>> faults = new ConcurrentHashMap<>();
  final List<String> requests = new CopyOnWriteArrayList<>();

  FaultProxy(String targetHost, SSLContext trust) throws IOException {
    this.target = URI.create("https://" + targetHost);
    this.upstream = HttpClient.newBuilder().sslContext(trust).followRedirects(HttpClient.Redirect.NEVER)
        .version(HttpClient.Version.HTTP_1_1).build();
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "fault-proxy");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/", this::handle);
    server.start();
  }

  String host() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  void fault(String pathPrefix, Kind k) {
    faults.computeIfAbsent(pathPrefix, p -> new CopyOnWriteArrayList<>()).add(k);
  }

  private Kind nextFault(String path) {
    for (Map.Entry<String, List<Kind>> e : faults.entrySet()) {
      if (path.startsWith(e.getKey()) && !e.getValue().isEmpty()) {
        return e.getValue().remove(0);
      }
    }
    return null;
  }

  private void handle(HttpExchange x) throws IOException {
    try (x) {
      String path = x.getRequestURI().getRawPath();
      String range = x.getRequestHeaders().getFirst("Range");
      requests.add(x.getRequestMethod() + " " + path + (range == null ? "" : " " + range));
      Kind fault = nextFault(path);
      if (fault == Kind.TOO_MANY_REQUESTS) {
        x.getResponseHeaders().set("Retry-After", "1");
        FakeRegistry.error(x, 429, "TOOMANYREQUESTS", "proxy says slow down");
        return;
      }
      HttpRequest.Builder rb = HttpRequest.newBuilder(target.resolve(x.getRequestURI().getRawPath()
          + (x.getRequestURI().getRawQuery() == null ? "" : "?" + x.getRequestURI().getRawQuery())));
      rb.method(x.getRequestMethod(), HttpRequest.BodyPublishers.noBody());
      for (String h : List.of("Authorization", "Accept", "Range")) {
        String v = x.getRequestHeaders().getFirst(h);
        if (v != null) {
          rb.header(h, v);
        }
      }
      HttpResponse<byte[]> r;
      try {
        r = upstream.send(rb.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
      for (String h : List.of("Content-Type", "Docker-Content-Digest", "WWW-Authenticate", "Location", "Content-Range",
          "Docker-Distribution-Api-Version")) {
        r.headers().firstValue(h).ifPresent(v -> x.getResponseHeaders().set(h, v));
      }
      byte[] body = r.body();
      if (fault == Kind.CORRUPT && body.length > 0) {
        body = body.clone();
        body[body.length / 2] ^= 0x40;
      }
      x.sendResponseHeaders(r.statusCode(), body.length == 0 ? -1 : body.length);
      if (body.length > 0) {
        OutputStream o = x.getResponseBody();
        if (fault == Kind.DROP_HALF) {
          o.write(body, 0, body.length / 2);
          o.flush();
          return; // closing the exchange short of its length drops the connection
        }
        o.write(body);
        o.close();
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
