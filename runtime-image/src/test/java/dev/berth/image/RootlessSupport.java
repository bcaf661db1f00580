package dev.berth.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.opentest4j.AssertionFailedError;

/** For the *RootlessIT classes: they run only as an ordinary user (.ci/rootless-suite.sh). */
final class RootlessSupport {
  private RootlessSupport() {}

  /**
   * This process's effective uid; fails (not skips) the test when it is 0, since the rootless
   * stage promises an unprivileged user and a rootless test run as root would prove nothing.
   */
  static String requireUnprivileged() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          String euid = line.split("\\s+")[2];
          if (euid.equals("0")) {
            throw new AssertionFailedError("a *RootlessIT runs as an unprivileged user (.ci/rootless-suite.sh), not as root");
          }
          return euid;
        }
      }
    } catch (IOException e) {
      throw new AssertionFailedError("cannot read /proc/self/status: " + e.getMessage());
    }
    throw new AssertionFailedError("no Uid line in /proc/self/status");
  }
}
