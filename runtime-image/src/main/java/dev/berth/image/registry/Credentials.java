package dev.berth.image.registry;

import java.util.Objects;

/**
 * A user name and a secret (password or token) for one registry. {@link #toString} never shows the
 * secret, so a record that ends up in a log or a message leaks nothing.
 */
public record Credentials(String username, String secret) {
  public Credentials {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(secret, "secret");
    if (username.isEmpty()) {
      throw new IllegalArgumentException("credentials: empty username");
    }
  }

  @Override
  public String toString() {
    return "Credentials[username=" + username + ", secret=<redacted>]";
  }
}
