package dev.berth.image.registry;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One {@code WWW-Authenticate} challenge (RFC 7235): a scheme ({@code basic}, {@code bearer},
 * lowercased) and its parameters, e.g. {@code Bearer realm="https://auth.example/token",
 * service="registry.example",scope="repository:app:pull"}.
 */
record Challenge(String scheme, Map<String, String> params) {
  Challenge {
    params = Map.copyOf(params);
  }

  Optional<String> param(String name) {
    return Optional.ofNullable(params.get(name));
  }

  /** Parses the first challenge of a header value; empty when it is malformed. */
  static Optional<Challenge> parse(String header) {
    if (header == null) {
      return Optional.empty();
    }
    String s = header.trim();
    int i = 0;
    while (i < s.length() && isToken(s.charAt(i))) {
      i++;
    }
    if (i == 0) {
      return Optional.empty();
    }
    String scheme = s.substring(0, i).toLowerCase(Locale.ROOT);
    Map<String, String> params = new LinkedHashMap<>();
    while (i < s.length()) {
      while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == ',')) {
        i++;
      }
      int k = i;
      while (i < s.length() && isToken(s.charAt(i))) {
        i++;
      }
      if (k == i) {
        break;
      }
      String key = s.substring(k, i).toLowerCase(Locale.ROOT);
      while (i < s.length() && s.charAt(i) == ' ') {
        i++;
      }
      if (i >= s.length() || s.charAt(i) != '=') {
        break; // a second challenge's scheme: only the first is read
      }
      i++;
      while (i < s.length() && s.charAt(i) == ' ') {
        i++;
      }
      StringBuilder v = new StringBuilder();
      if (i < s.length() && s.charAt(i) == '"') {
        i++;
        while (i < s.length() && s.charAt(i) != '"') {
          if (s.charAt(i) == '\\' && i + 1 < s.length()) {
            i++;
          }
          v.append(s.charAt(i++));
        }
        if (i >= s.length()) {
          return Optional.empty(); // unterminated quote
        }
        i++;
      } else {
        while (i < s.length() && s.charAt(i) != ',' && s.charAt(i) != ' ') {
          v.append(s.charAt(i++));
        }
      }
      params.putIfAbsent(key, v.toString());
    }
    return Optional.of(new Challenge(scheme, params));
  }

  private static boolean isToken(char c) {
    return c > 32 && c < 127 && "()<>@,;:\\\"/[]?={} ".indexOf(c) < 0;
  }
}
