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

  /** The user name docker and podman store with an identity token (an OAuth2 refresh token) as the secret. */
  public static final String IDENTITY_TOKEN_USER = "<token>";

  /** Credentials whose secret is an identity token (an OAuth2 refresh token) rather than a password. */
  public static Credentials identityToken(String refreshToken) {
    return new Credentials(IDENTITY_TOKEN_USER, refreshToken);
  }

  /**
   * Whether the secret is an identity token: it is only sent to a bearer token endpoint, as the
   * refresh token of {@code grant_type=refresh_token}, never as Basic auth.
   */
  public boolean isIdentityToken() {
    return username.equals(IDENTITY_TOKEN_USER);
  }

  @Override
  public String toString() {
    return "Credentials[username=" + username + ", secret=<redacted>]";
  }
}
