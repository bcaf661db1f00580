package dev.berth.image;

import java.util.Locale;
import java.util.Objects;

/** An OCI platform: {@code os}, {@code architecture} and optional {@code variant} (empty string). */
public record Platform(String os, String architecture, String variant) {
  public Platform {
    Objects.requireNonNull(os, "os");
    Objects.requireNonNull(architecture, "architecture");
    variant = variant == null ? "" : variant;
  }

  /** linux plus the JVM's architecture in OCI (GOARCH) spelling: amd64 for x86_64, arm64 for aarch64. */
  public static Platform host() {
    return new Platform("linux", ociArchitecture(System.getProperty("os.arch")), "");
  }

  /** Maps a Java/uname architecture name to GOARCH. */
  public static String ociArchitecture(String arch) {
    String a = arch.toLowerCase(Locale.ROOT);
    switch (a) {
      case "x86_64":
      case "amd64":
        return "amd64";
      case "aarch64":
      case "arm64":
        return "arm64";
      case "x86":
      case "i386":
      case "i686":
        return "386";
      case "ppc64le":
        return "ppc64le";
      case "s390x":
        return "s390x";
      case "riscv64":
        return "riscv64";
      default:
        return a.startsWith("arm") ? "arm" : a;
    }
  }

  /** Whether an image for {@code other} runs here (os and architecture equal; variant ignored). */
  public boolean runs(Platform other) {
    return os.equals(other.os) && architecture.equals(other.architecture);
  }

  @Override
  public String toString() {
    return os + "/" + architecture + (variant.isEmpty() ? "" : "/" + variant);
  }
}
