package dev.berth.image;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A content digest {@code algorithm:hex}. Only {@code sha256} (64 hex digits) and {@code sha512} (128
 * hex digits) are accepted, lowercase, as the OCI image spec registers them.
 */
public final class Digest implements Comparable<Digest> {
  private static final Pattern SHA256 = Pattern.compile("[a-f0-9]{64}");
  private static final Pattern SHA512 = Pattern.compile("[a-f0-9]{128}");

  private final String algorithm;
  private final String hex;

  private Digest(String algorithm, String hex) {
    this.algorithm = algorithm;
    this.hex = hex;
  }

  /**
   * Parses {@code sha256:<64 hex>} or {@code sha512:<128 hex>}.
   *
   * @throws IllegalArgumentException naming the bad value
   */
  public static Digest parse(String value) {
    if (value == null) {
      throw new IllegalArgumentException("invalid digest: null");
    }
    int colon = value.indexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("invalid digest `" + value + "`: expected algorithm:hex");
    }
    String alg = value.substring(0, colon);
    String hex = value.substring(colon + 1);
    switch (alg) {
      case "sha256":
        if (!SHA256.matcher(hex).matches()) {
          throw new IllegalArgumentException(
              "invalid digest `" + value + "`: sha256 needs 64 lowercase hex digits");
        }
        break;
      case "sha512":
        if (!SHA512.matcher(hex).matches()) {
          throw new IllegalArgumentException(
              "invalid digest `" + value + "`: sha512 needs 128 lowercase hex digits");
        }
        break;
      default:
        throw new IllegalArgumentException(
            "invalid digest `" + value + "`: unsupported algorithm `" + alg + "`");
    }
    return new Digest(alg, hex);
  }

  /** The sha256 digest of the given hex value (already computed elsewhere). */
  public static Digest sha256(String hex) {
    return parse("sha256:" + hex);
  }

  /** The sha256 digest of {@code bytes}. */
  public static Digest sha256Of(byte[] bytes) {
    return new Digest("sha256", HexFormat.of().formatHex(newSha256().digest(bytes)));
  }

  /** The sha256 digest of a UTF-8 string. */
  public static Digest sha256Of(String s) {
    return sha256Of(s.getBytes(StandardCharsets.UTF_8));
  }

  /** A fresh {@link MessageDigest} for this digest's algorithm. */
  public MessageDigest newMessageDigest() {
    try {
      return MessageDigest.getInstance(algorithm.equals("sha256") ? "SHA-256" : "SHA-512");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Builds a digest from a finished {@link MessageDigest} of the same algorithm as this one. */
  public Digest sameAlgorithm(byte[] raw) {
    return new Digest(algorithm, HexFormat.of().formatHex(raw));
  }

  public String algorithm() {
    return algorithm;
  }

  public String hex() {
    return hex;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Digest d && d.algorithm.equals(algorithm) && d.hex.equals(hex);
  }

  @Override
  public int hashCode() {
    return Objects.hash(algorithm, hex);
  }

  @Override
  public int compareTo(Digest o) {
    return toString().compareTo(o.toString());
  }

  @Override
  public String toString() {
    return algorithm + ":" + hex;
  }
}
