package dev.berth.image.registry;

import dev.berth.image.ImageException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The TLS trust for one registry: the JDK's CA certificates plus the registry's own from the
 * directories podman and docker use, {@code DIR/HOST[:PORT]/*.crt} (e.g. {@code
 * /etc/containers/certs.d/registry.example:5000/ca.crt}). Hostnames are verified by the JDK.
 */
final class RegistryTls {
  private RegistryTls() {}

  /** The extra CA certificates for {@code registry} found below {@code dirs}. */
  static List<X509Certificate> caCertificates(String registry, List<Path> dirs) throws ImageException {
    List<X509Certificate> out = new ArrayList<>();
    for (Path dir : dirs) {
      Path d = dir.resolve(registry);
      if (!Files.isDirectory(d)) {
        continue;
      }
      try (Stream<Path> s = Files.list(d)) {
        for (Path f : s.sorted().toList()) {
          if (!f.getFileName().toString().endsWith(".crt")) {
            continue;
          }
          try (InputStream in = Files.newInputStream(f)) {
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
              out.add((X509Certificate) c);
            }
          } catch (GeneralSecurityException e) {
            throw new ImageException("CA certificate file " + f + " for registry " + registry + " is not PEM/DER X.509: "
                + e.getMessage(), e);
          }
        }
      } catch (IOException e) {
        throw new ImageException("reading CA certificates of registry " + registry + " from " + d + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  /** An SSL context trusting the JDK's CAs and {@code extra}. */
  static SSLContext context(List<X509Certificate> extra) throws ImageException {
    try {
      if (extra.isEmpty()) {
        return SSLContext.getDefault();
      }
      TrustManagerFactory jdk = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      jdk.init((KeyStore) null);
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      int n = 0;
      for (TrustManager tm : jdk.getTrustManagers()) {
        if (tm instanceof X509TrustManager x) {
          for (X509Certificate c : x.getAcceptedIssuers()) {
            ks.setCertificateEntry("jdk-" + n++, c);
          }
        }
      }
      for (X509Certificate c : extra) {
        ks.setCertificateEntry("registry-" + n++, c);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new ImageException("setting up TLS trust: " + e.getMessage(), e);
    }
  }
}
