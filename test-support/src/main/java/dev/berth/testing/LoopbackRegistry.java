package dev.berth.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Debian's {@code docker-registry} (CNCF distribution) on 127.0.0.1 for integration tests: TLS with
 * a CA and server certificate made here by openssl, htpasswd (bcrypt) auth, storage in a temp dir.
 * {@link #close} kills the process and waits for it.
 */
public final class LoopbackRegistry implements AutoCloseable {
  public static final String USER = "berth";
  public static final String PASSWORD = "pull-test-pw";

  public final Path dir;
  public final int port;
  public final Path certDir; // certs.d layout root: certDir/127.0.0.1:PORT/ca.crt
  private final Process process;

  /** Starts a registry with htpasswd auth and its files below {@code dir}; skips (or fails, strict) when a tool is missing. */
  public LoopbackRegistry(Path dir) throws Exception {
    this(dir, null);
  }

  /**
   * Token auth instead of htpasswd when {@code token} is given: the registry sends clients to its
   * realm and accepts JWTs of its issuer signed by the key of {@code token.certificate()}.
   */
  public record TokenAuth(String realm, String service, String issuer, Path certificate) {}

  public LoopbackRegistry(Path dir, TokenAuth token) throws Exception {
    this(dir, token, null);
  }

  /**
   * With {@code clientCa}, the registry requires mutual TLS: clients must present a certificate
   * signed by that CA ({@code http.tls.clientcas}).
   */
  public LoopbackRegistry(Path dir, TokenAuth token, Path clientCa) throws Exception {
    Preconditions.requireTool("docker-registry", "docker-registry");
    Preconditions.requireTool("openssl", "openssl");
    Preconditions.requireTool("htpasswd", "apache2-utils");
    this.dir = Files.createDirectories(dir);
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    run(dir, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=berth test CA");
    run(dir, "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
    Files.writeString(dir.resolve("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    run(dir, "openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "2", "-extfile", "san.ext");
    String htpasswd = run(dir, "htpasswd", "-Bbn", USER, PASSWORD);
    Files.writeString(dir.resolve("htpasswd"), htpasswd.trim() + "\n");
    certDir = dir.resolve("certs.d");
    Path hostCerts = Files.createDirectories(certDir.resolve(host()));
    Files.copy(dir.resolve("ca.crt"), hostCerts.resolve("ca.crt"));
    String config = String.join("\n",
        "version: 0.1",
        "log:",
        "  level: warn",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        "    rootdirectory: " + dir.resolve("data"),
        "http:",
        "  addr: " + host(),
        "  tls:",
        "    certificate: " + dir.resolve("server.crt"),
        "    key: " + dir.resolve("server.key"),
        clientCa == null ? "" : "    clientcas:\n      - " + clientCa,
        "auth:");
    String auth = token == null
        ? String.join("\n",
            "  htpasswd:",
            "    realm: berth-test",
            "    path: " + dir.resolve("htpasswd"))
        : String.join("\n",
            "  token:",
            "    realm: " + token.realm(),
            "    service: " + token.service(),
            "    issuer: " + token.issuer(),
            "    rootcertbundle: " + token.certificate());
    Files.writeString(dir.resolve("config.yml"), config + "\n" + auth + "\n");
    process = new ProcessBuilder("docker-registry", "serve", dir.resolve("config.yml").toString())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("registry.log").toFile())
        .start();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        break;
      } catch (IOException notYet) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          close();
          throw new IOException("docker-registry did not start: " + Files.readString(dir.resolve("registry.log")));
        }
        Thread.sleep(50);
      }
    }
  }

  public String host() {
    return "127.0.0.1:" + port;
  }

  /** {@code skopeo copy} into this registry with its CA and credentials. */
  public void push(Path cwd, String from, String repoTag, String... extra) throws Exception {
    java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("skopeo", "--insecure-policy", "copy", "-q"));
    cmd.addAll(java.util.List.of(extra));
    cmd.addAll(java.util.List.of("--dest-cert-dir", certDir.resolve(host()).toString(), "--dest-creds", USER + ":" + PASSWORD,
        from, "docker://" + host() + "/" + repoTag));
    run(cwd, cmd.toArray(String[]::new));
  }

  /** Runs {@code cmd} in {@code cwd}; returns its output, failing with it on a non-zero exit. */
  public static String run(Path cwd, String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
    return out;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor();
    }
  }
}
