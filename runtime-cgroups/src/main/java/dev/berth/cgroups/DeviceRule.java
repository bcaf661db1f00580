package dev.berth.cgroups;

import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One rule of a cgroup device policy (OCI {@code linux.resources.devices[]}; docker
 * {@code --device-cgroup-rule}). A non-empty rule list is a default-deny policy: the rules are applied
 * in order over "deny everything", a later rule overriding an earlier one for the devices and access
 * they share. The same policy is written to the v1 {@code devices} controller and compiled into the
 * v2 {@code BPF_PROG_TYPE_CGROUP_DEVICE} program.
 *
 * @param allow  true to allow, false to deny
 * @param type   device type, or {@link Type#ALL} (then major and minor are wildcards)
 * @param major  major number, or {@link #ANY}
 * @param minor  minor number, or {@link #ANY}
 * @param access a non-empty subset of {@code "rwm"}: read, write, mknod
 */
public record DeviceRule(boolean allow, Type type, long major, long minor, String access) {

  /** Wildcard major or minor ({@code *}). */
  public static final long ANY = -1;
  /** Largest major number the kernel's dev_t holds (12 bits). */
  public static final long MAX_MAJOR = 4095;
  /** Largest minor number the kernel's dev_t holds (20 bits). */
  public static final long MAX_MINOR = (1 << 20) - 1;

  private static final Pattern SYNTAX = Pattern.compile("([abc])\\s+(\\*|\\d+):(\\*|\\d+)\\s+([rwm]+)");

  /** Device types, with their letter in cgroup v1 files. */
  public enum Type {
    ALL('a'),
    CHAR('c'),
    BLOCK('b');

    private final char letter;

    Type(char letter) {
      this.letter = letter;
    }

    public char letter() {
      return letter;
    }

    static Type of(char letter) {
      for (Type t : values()) {
        if (t.letter == letter) return t;
      }
      throw new IllegalArgumentException("devices: unknown device type '" + letter + "' (a, b or c)");
    }
  }

  public DeviceRule {
    Objects.requireNonNull(type, "devices: type");
    Objects.requireNonNull(access, "devices: access");
    String what = "devices[" + type.letter + " " + num(major) + ":" + num(minor) + " " + access + "]";
    if (major != ANY && (major < 0 || major > MAX_MAJOR)) {
      throw new IllegalArgumentException(what + ": major must be 0.." + MAX_MAJOR + " or * (-1), got " + major);
    }
    if (minor != ANY && (minor < 0 || minor > MAX_MINOR)) {
      throw new IllegalArgumentException(what + ": minor must be 0.." + MAX_MINOR + " or * (-1), got " + minor);
    }
    if (access.isEmpty() || !access.matches("[rwm]+") || access.chars().distinct().count() != access.length()) {
      throw new IllegalArgumentException(what + ": access must be a non-empty subset of \"rwm\", got \"" + access + "\"");
    }
    if (type == Type.ALL && (major != ANY || minor != ANY || access.length() != 3)) {
      // cgroup v1 reads "a" alone: a partial "all" rule could not be written faithfully.
      throw new IllegalArgumentException(what + ": an 'a' (all devices) rule covers every number and all of \"rwm\"");
    }
    access = canonical(access);
  }

  /** Allows {@code access} to the device(s). */
  public static DeviceRule allow(Type type, long major, long minor, String access) {
    return new DeviceRule(true, type, major, minor, access);
  }

  /** Denies {@code access} to the device(s). */
  public static DeviceRule deny(Type type, long major, long minor, String access) {
    return new DeviceRule(false, type, major, minor, access);
  }

  /** Allows every access to every device: turns the policy off. */
  public static DeviceRule allowAll() {
    return allow(Type.ALL, ANY, ANY, "rwm");
  }

  /** Denies every access to every device. */
  public static DeviceRule denyAll() {
    return deny(Type.ALL, ANY, ANY, "rwm");
  }

  /**
   * Parses an allow rule in docker's {@code --device-cgroup-rule} / cgroup v1 syntax, for example
   * {@code "c 1:3 rwm"}, {@code "b 7:* r"} or {@code "a *:* rwm"}.
   */
  public static DeviceRule parse(String rule) {
    Matcher m = SYNTAX.matcher(Objects.requireNonNull(rule, "devices").trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("devices: \"" + rule
          + "\" is not a rule like \"c 1:3 rwm\" (type a|b|c, major:minor with * for any, access from rwm)");
    }
    try {
      return allow(Type.of(m.group(1).charAt(0)), parseNumber(m.group(2)), parseNumber(m.group(3)), m.group(4));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("devices: \"" + rule + "\": number out of range", e);
    }
  }

  private static long parseNumber(String s) {
    return s.equals("*") ? ANY : Long.parseLong(s);
  }

  /** Whether this rule names every device this other rule names (type and numbers, not access). */
  public boolean covers(DeviceRule other) {
    return (type == Type.ALL || type == other.type)
        && (major == ANY || major == other.major)
        && (minor == ANY || minor == other.minor);
  }

  /** Whether this rule names exactly the devices the other names. */
  public boolean sameDevices(DeviceRule other) {
    return type == other.type && major == other.major && minor == other.minor;
  }

  /** {@code "c 1:3 rwm"}: the cgroup v1 spelling, without allow or deny. */
  public String entry() {
    return type == Type.ALL ? "a" : type.letter + " " + num(major) + ":" + num(minor) + " " + access;
  }

  @Override
  public String toString() {
    return (allow ? "allow " : "deny ") + (type == Type.ALL ? "a *:* rwm" : entry());
  }

  private static String num(long n) {
    return n == ANY ? "*" : Long.toString(n);
  }

  /** Access letters in the kernel's order, r w m. */
  static String canonical(String access) {
    StringBuilder b = new StringBuilder(3);
    for (char c : new char[] {'r', 'w', 'm'}) {
      if (access.indexOf(c) >= 0) b.append(c);
    }
    return b.toString();
  }
}
