package dev.berth.cgroups.internal;

import dev.berth.cgroups.DeviceRule;
import java.util.ArrayList;
import java.util.List;

/**
 * An ordered list of {@link DeviceRule}s folded into the form the kernel keeps for a cgroup v1
 * {@code devices} cgroup: a default (allow or deny) and a list of exceptions to it, each with its
 * access. The v1 driver writes exactly this; the v2 driver compiles exactly this into BPF, so both
 * cgroup versions enforce the same policy.
 *
 * <p>A request for some access to a device is granted, as in the kernel's {@code devcgroup} checks:
 * under default deny, when one exception names the device and holds all of the requested access;
 * under default allow, unless some exception names the device and holds any of it.
 *
 * @param defaultAllow the behaviour for devices no exception names
 * @param exceptions   rules with {@code allow == !defaultAllow}, at most one per device set
 */
public record DevicePolicy(boolean defaultAllow, List<DeviceRule> exceptions) {

  public DevicePolicy {
    exceptions = List.copyOf(exceptions);
  }

  /**
   * Folds the rules over "deny everything".
   *
   * @throws IllegalArgumentException naming the rule a device policy cannot express
   */
  public static DevicePolicy of(List<DeviceRule> rules) {
    boolean defaultAllow = false;
    List<DeviceRule> ex = new ArrayList<>();
    for (int i = 0; i < rules.size(); i++) {
      DeviceRule r = rules.get(i);
      if (r.type() == DeviceRule.Type.ALL) {
        defaultAllow = r.allow();
        ex.clear();
      } else if (r.allow() != defaultAllow) {
        add(ex, r);
      } else {
        subtract(ex, r, i, defaultAllow);
      }
    }
    return new DevicePolicy(defaultAllow, ex);
  }

  /** Adds an exception, merging its access into one that names the same devices. */
  private static void add(List<DeviceRule> ex, DeviceRule r) {
    for (int k = 0; k < ex.size(); k++) {
      DeviceRule e = ex.get(k);
      if (e.sameDevices(r)) {
        ex.set(k, new DeviceRule(e.allow(), e.type(), e.major(), e.minor(), e.access() + missing(r.access(), e.access())));
        return;
      }
    }
    ex.add(r);
  }

  /**
   * A rule that agrees with the default takes its access away from the exception naming the same
   * devices. Where a broader exception (a wildcard) covers it, neither the v1 kernel nor a faithful
   * v2 program can carve the hole, so that is refused rather than silently ignored.
   */
  private static void subtract(List<DeviceRule> ex, DeviceRule r, int index, boolean defaultAllow) {
    for (int k = 0; k < ex.size(); k++) {
      DeviceRule e = ex.get(k);
      if (e.sameDevices(r)) {
        String left = missing(e.access(), r.access());
        if (left.isEmpty()) {
          ex.remove(k--);
        } else {
          ex.set(k, new DeviceRule(e.allow(), e.type(), e.major(), e.minor(), left));
        }
      } else if (e.covers(r) && overlaps(e.access(), r.access())) {
        throw new IllegalArgumentException("devices[" + index + "]: \"" + r + "\" cannot be expressed after \"" + e
            + "\" (a cgroup device policy cannot " + (defaultAllow ? "allow" : "deny")
            + " part of a wildcard it " + (defaultAllow ? "denies" : "allows") + "); list the devices one by one");
      }
    }
  }

  /** The letters of {@code a} that are not in {@code b}. */
  private static String missing(String a, String b) {
    StringBuilder s = new StringBuilder();
    for (char c : a.toCharArray()) {
      if (b.indexOf(c) < 0) s.append(c);
    }
    return s.toString();
  }

  private static boolean overlaps(String a, String b) {
    return missing(a, b).length() < a.length();
  }

  /**
   * Whether the policy grants {@code access} (letters from "rwm") to a device: the reference
   * semantics the BPF program and the v1 kernel implement, used by tests to check them.
   */
  public boolean permits(DeviceRule.Type type, long major, long minor, String access) {
    DeviceRule probe = new DeviceRule(true, type, major, minor, access);
    for (DeviceRule e : exceptions) {
      if (!e.covers(probe)) continue;
      if (defaultAllow && overlaps(access, e.access())) return false;
      if (!defaultAllow && missing(access, e.access()).isEmpty()) return true;
    }
    return defaultAllow;
  }

  /**
   * The writes that move a v1 devices cgroup from {@code previous} (null: unknown, e.g. a new
   * cgroup that inherited its parent's list) to this policy, as {@code {file, value}} pairs in
   * order. With an unknown or different default, the default is written first (the kernel then
   * clears every exception) and each exception after it. With the same default, only the
   * difference is written, additions before removals, so that nothing both policies grant is
   * refused in between.
   */
  public List<String[]> v1Writes(DevicePolicy previous) {
    List<String[]> out = new ArrayList<>();
    String grant = defaultAllow ? "devices.deny" : "devices.allow";
    String revoke = defaultAllow ? "devices.allow" : "devices.deny";
    boolean incremental = previous != null && previous.defaultAllow == defaultAllow;
    if (!incremental) {
      out.add(new String[] {defaultAllow ? "devices.allow" : "devices.deny", "a"});
    }
    for (DeviceRule e : exceptions) {
      if (!incremental || !previous.exceptions.contains(e)) {
        out.add(new String[] {grant, e.entry()}); // the kernel merges access into an existing entry
      }
    }
    if (incremental) {
      for (DeviceRule old : previous.exceptions) {
        String kept = exceptions.stream().filter(old::sameDevices).map(DeviceRule::access).findFirst().orElse("");
        String gone = missing(old.access(), kept);
        if (!gone.isEmpty()) {
          out.add(new String[] {revoke, new DeviceRule(old.allow(), old.type(), old.major(), old.minor(), gone).entry()});
        }
      }
    }
    return out;
  }
}
