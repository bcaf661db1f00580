package dev.berth.image.registry;

import dev.berth.image.ImageException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS set-up for one registry, from the directories podman and docker use, {@code
 * DIR/HOST[:PORT]/} (e.g. {@code /etc/containers/certs.d/registry.example:5000/}): the JDK's CA
 * certificates plus the registry's own {@code *.crt}, and client certificates for mutual TLS as
 * {@code NAME.cert} (a PEM certificate chain, the client's first) with its private key {@code
 * NAME.key} (PEM: PKCS#8, PKCS#1 RSA or SEC1 EC; unencrypted). Hostnames are verified by the JDK.
 */
final class RegistryTls {
  private static final Logger LOG = LoggerFactory.getLogger(RegistryTls.class);
  private static final byte[] OID_RSA = {0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01};
  private static final byte[] OID_EC = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

  private RegistryTls() {}

  /** A client certificate chain and its private key, read from {@code certFile} and {@code keyFile}. */
  record ClientIdentity(Path certFile, Path keyFile, List<X509Certificate> chain, PrivateKey key) {
    @Override
    public String toString() {
      return "ClientIdentity[" + certFile + ", " + keyFile + "]"; // never the key
    }
  }

  /** The extra CA certificates for {@code registry} found below {@code dirs}. */
  static List<X509Certificate> caCertificates(String registry, List<Path> dirs) throws ImageException {
    List<X509Certificate> out = new ArrayList<>();
    for (Path f : files(registry, dirs)) {
      if (f.getFileName().toString().endsWith(".crt")) {
        out.addAll(certificates(f, "CA certificate file " + f + " for registry " + registry));
      }
    }
    return out;
  }

  /**
   * The client certificates for {@code registry} below {@code dirs}: each {@code NAME.cert} with its
   * {@code NAME.key}. A certificate without its key, a key without its certificate, an unreadable or
   * encrypted file, or a key that is not the certificate's is refused, naming the file.
   */
  static List<ClientIdentity> clientIdentities(String registry, List<Path> dirs) throws ImageException {
    List<ClientIdentity> out = new ArrayList<>();
    List<Path> files = files(registry, dirs);
    for (Path f : files) {
      String name = f.getFileName().toString();
      if (name.endsWith(".key")) {
        Path cert = f.resolveSibling(name.substring(0, name.length() - 4) + ".cert");
        if (!files.contains(cert)) {
          throw new ImageException("client key " + f + " for registry " + registry + " has no certificate " + cert.getFileName()
              + " beside it");
        }
      }
      if (!name.endsWith(".cert")) {
        continue;
      }
      Path keyFile = f.resolveSibling(name.substring(0, name.length() - 5) + ".key");
      if (!files.contains(keyFile)) {
        throw new ImageException("client certificate " + f + " for registry " + registry + " has no key " + keyFile.getFileName()
            + " beside it");
      }
      List<X509Certificate> chain = certificates(f, "client certificate " + f + " for registry " + registry);
      if (chain.isEmpty()) {
        throw new ImageException("client certificate " + f + " for registry " + registry + " holds no certificate");
      }
      warnIfExposed(keyFile);
      PrivateKey key = privateKey(keyFile, "client key " + keyFile + " for registry " + registry);
      checkPair(chain.get(0).getPublicKey(), key, f, keyFile);
      out.add(new ClientIdentity(f, keyFile, chain, key));
    }
    return out;
  }

  private static List<Path> files(String registry, List<Path> dirs) throws ImageException {
    List<Path> out = new ArrayList<>();
    for (Path dir : dirs) {
      Path d = dir.resolve(registry);
      if (!Files.isDirectory(d)) {
        continue;
      }
      try (Stream<Path> s = Files.list(d)) {
        out.addAll(s.sorted().toList());
      } catch (IOException e) {
        throw new ImageException("reading the certificates of registry " + registry + " in " + d + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  private static List<X509Certificate> certificates(Path f, String what) throws ImageException {
    List<X509Certificate> out = new ArrayList<>();
    try (InputStream in = Files.newInputStream(f)) {
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
    } catch (IOException e) {
      throw new ImageException(what + " cannot be read: " + e.getMessage(), e);
    } catch (GeneralSecurityException e) {
      throw new ImageException(what + " is not PEM/DER X.509: " + e.getMessage(), e);
    }
    return out;
  }

  private static void warnIfExposed(Path keyFile) {
    try {
      Set<PosixFilePermission> p = Files.getPosixFilePermissions(keyFile, LinkOption.NOFOLLOW_LINKS);
      if (p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ)) {
        LOG.warn("client key {} is readable by its group or others; make it 0600", keyFile);
      }
    } catch (IOException | UnsupportedOperationException e) {
      LOG.debug("permissions of {}: {}", keyFile, e.toString());
    }
  }

  /** Reads a PEM private key: PKCS#8 ({@code PRIVATE KEY}), PKCS#1 ({@code RSA PRIVATE KEY}) or SEC1 ({@code EC PRIVATE KEY}). */
  static PrivateKey privateKey(Path f, String what) throws ImageException {
    String pem;
    try {
      pem = Files.readString(f, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new ImageException(what + " cannot be read: " + e.getMessage(), e);
    }
    return privateKey(pem, what);
  }

  static PrivateKey privateKey(String pem, String what) throws ImageException {
    int begin = pem.indexOf("-----BEGIN ");
    int labelEnd = begin < 0 ? -1 : pem.indexOf("-----", begin + 11);
    if (begin < 0 || labelEnd < 0) {
      throw new ImageException(what + " is not a PEM private key (no -----BEGIN line)");
    }
    String label = pem.substring(begin + 11, labelEnd);
    int end = pem.indexOf("-----END " + label + "-----", labelEnd);
    if (end < 0) {
      throw new ImageException(what + ": PEM block `" + label + "` has no END line");
    }
    String body = pem.substring(labelEnd + 5, end);
    if (label.equals("ENCRYPTED PRIVATE KEY") || body.contains("Proc-Type:") || body.contains("DEK-Info:")) {
      throw new ImageException(what + " is encrypted; an unencrypted key is needed (as podman and docker read it)");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(body.trim());
    } catch (IllegalArgumentException e) {
      throw new ImageException(what + ": PEM block `" + label + "` is not base64: " + e.getMessage());
    }
    try {
      switch (label) {
        case "PRIVATE KEY":
          return pkcs8(der);
        case "RSA PRIVATE KEY":
          return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(wrapPkcs8(OID_RSA, new byte[] {0x05, 0x00}, der)));
        case "EC PRIVATE KEY":
          return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(wrapPkcs8(OID_EC, sec1Curve(der), der)));
        default:
          throw new ImageException(what + ": PEM block `" + label
              + "` is not a private key (expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
      }
    } catch (GeneralSecurityException | IllegalArgumentException | IndexOutOfBoundsException e) {
      throw new ImageException(what + ": `" + label + "` is not a valid key: " + e.getMessage(), e);
    }
  }

  private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
    GeneralSecurityException last = null;
    for (String alg : List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS")) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        last = e;
      }
    }
    throw last;
  }

  /** The named-curve OID ({@code [0] parameters}) of a SEC1 ECPrivateKey; openssl always writes it. */
  private static byte[] sec1Curve(byte[] der) {
    // ECPrivateKey ::= SEQUENCE { version INTEGER, privateKey OCTET STRING, [0] parameters, [1] publicKey }
    int[] seq = header(der, 0, 0x30);
    int p = seq[0];
    int end = p + seq[1];
    while (p < end) {
      int tag = der[p] & 0xff;
      int[] h = header(der, p, tag);
      if (tag == 0xa0) {
        int[] oid = header(der, h[0], 0x06);
        byte[] out = new byte[oid[0] + oid[1] - h[0]];
        System.arraycopy(der, h[0], out, 0, out.length);
        return out;
      }
      p = h[0] + h[1];
    }
    throw new IllegalArgumentException("the EC key names no curve (no [0] parameters)");
  }

  /** {@code {contentOffset, length}} of the DER element at {@code p}, which must have tag {@code tag}. */
  private static int[] header(byte[] der, int p, int tag) {
    if ((der[p] & 0xff) != tag) {
      throw new IllegalArgumentException("DER tag " + (der[p] & 0xff) + " at offset " + p + ", expected " + tag);
    }
    int len = der[p + 1] & 0xff;
    int q = p + 2;
    if (len >= 0x80) {
      int n = len & 0x7f;
      if (n == 0 || n > 3) {
        throw new IllegalArgumentException("DER length of " + n + " bytes at offset " + p);
      }
      len = 0;
      for (int i = 0; i < n; i++) {
        len = (len << 8) | (der[q++] & 0xff);
      }
    }
    if (q + len > der.length) {
      throw new IllegalArgumentException("DER element at offset " + p + " runs past the end");
    }
    return new int[] {q, len};
  }

  /** PrivateKeyInfo ::= SEQUENCE { INTEGER 0, SEQUENCE { algorithm OID, parameters }, OCTET STRING key }. */
  private static byte[] wrapPkcs8(byte[] algorithmOid, byte[] parameters, byte[] key) {
    ByteArrayOutputStream alg = new ByteArrayOutputStream();
    alg.writeBytes(algorithmOid);
    alg.writeBytes(parameters);
    ByteArrayOutputStream info = new ByteArrayOutputStream();
    info.writeBytes(new byte[] {0x02, 0x01, 0x00});
    info.writeBytes(der(0x30, alg.toByteArray()));
    info.writeBytes(der(0x04, key));
    return der(0x30, info.toByteArray());
  }

  private static byte[] der(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int n = content.length;
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else if (n < 0x10000) {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n);
    } else {
      out.write(0x83);
      out.write(n >> 16);
      out.write(n >> 8);
      out.write(n);
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  /** Refuses a key that is not the certificate's: it signs a challenge the certificate's key must verify. */
  private static void checkPair(PublicKey pub, PrivateKey key, Path certFile, Path keyFile) throws ImageException {
    String alg = switch (pub.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "Ed448", "EdDSA" -> pub.getAlgorithm();
      default -> null;
    };
    if (alg == null) {
      throw new ImageException("client certificate " + certFile + " has a " + pub.getAlgorithm()
          + " key; supported: RSA, EC, Ed25519, Ed448");
    }
    if (!pub.getAlgorithm().equals(key.getAlgorithm())) {
      throw new ImageException("client key " + keyFile + " (" + key.getAlgorithm() + ") does not match certificate " + certFile
          + " (" + pub.getAlgorithm() + ")");
    }
    try {
      byte[] challenge = new byte[32];
      new SecureRandom().nextBytes(challenge);
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(challenge);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(pub);
      v.update(challenge);
      if (!v.verify(sig)) {
        throw new ImageException("client key " + keyFile + " does not match certificate " + certFile);
      }
    } catch (GeneralSecurityException e) {
      throw new ImageException("client key " + keyFile + " does not match certificate " + certFile + ": " + e.getMessage(), e);
    }
  }

  /** An SSL context trusting the JDK's CAs and {@code extra}, presenting {@code identities} when a server asks. */
  static SSLContext context(List<X509Certificate> extra, List<ClientIdentity> identities) throws ImageException {
    try {
      if (extra.isEmpty() && identities.isEmpty()) {
        return SSLContext.getDefault();
      }
      TrustManager[] trust = null; // the JDK's
      if (!extra.isEmpty()) {
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
        trust = tmf.getTrustManagers();
      }
      KeyManager[] keys = null;
      if (!identities.isEmpty()) {
        char[] none = new char[0];
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        int n = 0;
        for (ClientIdentity id : identities) {
          ks.setKeyEntry("client-" + n++, id.key(), none, id.chain().toArray(new Certificate[0]));
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, none);
        keys = kmf.getKeyManagers();
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(keys, trust, null);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new ImageException("setting up TLS: " + e.getMessage(), e);
    }
  }

  static SSLContext context(List<X509Certificate> extra) throws ImageException {
    return context(extra, List.of());
  }
}
