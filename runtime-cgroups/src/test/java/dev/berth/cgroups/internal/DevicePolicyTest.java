package dev.berth.cgroups.internal;

import static dev.berth.cgroups.DeviceRule.ANY;
import static dev.berth.cgroups.DeviceRule.Type.BLOCK;
import static dev.berth.cgroups.DeviceRule.Type.CHAR;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cgroups.DeviceRule;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class DevicePolicyTest {

  static final List<DeviceRule> CONTAINER = List.of(
      DeviceRule.allow(CHAR, ANY, ANY, "m"), DeviceRule.allow(BLOCK, ANY, ANY, "m"),
      DeviceRule.parse("c 1:3 rwm"), DeviceRule.parse("c 1:5 rwm"), DeviceRule.parse("c 136:* rwm"));

  private static List<String> writes(DevicePolicy p, DevicePolicy previous) {
    return p.v1Writes(previous).stream().map(w -> w[0] + "=" + w[1]).collect(Collectors.toList());
  }

  @Test
  void rulesFoldOverDenyEverything() {
    DevicePolicy p = DevicePolicy.of(CONTAINER);
    assertThat(p.defaultAllow()).isFalse();
    assertThat(p.permits(CHAR, 1, 3, "rw")).isTrue();
    assertThat(p.permits(CHAR, 136, 7, "rw")).isTrue();
    assertThat(p.permits(BLOCK, 7, 0, "m")).as("mknod of any node, as docker allows").isTrue();
    assertThat(p.permits(BLOCK, 7, 0, "r")).as("but not opening it").isFalse();
    assertThat(p.permits(CHAR, 10, 232, "rw")).as("/dev/kvm").isFalse();
    assertThat(p.permits(CHAR, 1, 3, "rwm")).as("one exception must hold all of the access").isTrue();
    assertThat(p.permits(CHAR, 1, 4, "r")).isFalse();
  }

  @Test
  void laterRulesOverrideEarlierOnesForTheSameDevices() {
    DevicePolicy p = DevicePolicy.of(List.of(DeviceRule.parse("c 1:3 rwm"), DeviceRule.parse("c 1:3 r"),
        DeviceRule.deny(CHAR, 1, 3, "w"), DeviceRule.parse("b 7:0 r"), DeviceRule.parse("b 7:0 w")));
    assertThat(p.exceptions()).containsExactly(DeviceRule.parse("c 1:3 rm"), DeviceRule.parse("b 7:0 rw"));
    assertThat(p.permits(CHAR, 1, 3, "w")).isFalse();
    assertThat(p.permits(BLOCK, 7, 0, "rw")).isTrue();
    DevicePolicy gone = DevicePolicy.of(List.of(DeviceRule.parse("c 1:3 rw"), DeviceRule.deny(CHAR, 1, 3, "rwm")));
    assertThat(gone.exceptions()).isEmpty();
  }

  @Test
  void allowAllThenDenyExceptions() {
    DevicePolicy p = DevicePolicy.of(List.of(DeviceRule.parse("c 1:3 r"), DeviceRule.allowAll(),
        DeviceRule.deny(BLOCK, 8, ANY, "rw")));
    assertThat(p.defaultAllow()).isTrue();
    assertThat(p.exceptions()).containsExactly(DeviceRule.deny(BLOCK, 8, ANY, "rw"));
    assertThat(p.permits(BLOCK, 8, 0, "r")).isFalse();
    assertThat(p.permits(BLOCK, 8, 0, "m")).isTrue();
    assertThat(p.permits(CHAR, 10, 232, "rw")).isTrue();
    assertThat(writes(p, null)).containsExactly("devices.allow=a", "devices.deny=b 8:* rw");
  }

  @Test
  void aNewCgroupGetsTheDefaultFirstThenEachException() {
    assertThat(writes(DevicePolicy.of(CONTAINER), null)).containsExactly("devices.deny=a",
        "devices.allow=c *:* m", "devices.allow=b *:* m", "devices.allow=c 1:3 rwm", "devices.allow=c 1:5 rwm",
        "devices.allow=c 136:* rwm");
  }

  @Test
  void anUpdateAddsBeforeItRemovesAndNeverDeniesEverything() {
    DevicePolicy before = DevicePolicy.of(CONTAINER);
    DevicePolicy after = DevicePolicy.of(List.of(DeviceRule.allow(CHAR, ANY, ANY, "m"), DeviceRule.parse("c 1:3 r"),
        DeviceRule.parse("c 1:5 rwm"), DeviceRule.parse("b 7:2 rw")));
    assertThat(writes(after, before)).containsExactly("devices.allow=c 1:3 r", "devices.allow=b 7:2 rw",
        "devices.deny=b *:* m", "devices.deny=c 1:3 wm", "devices.deny=c 136:* rwm");
    assertThat(writes(before, before)).isEmpty();
    DevicePolicy open = DevicePolicy.of(List.of(DeviceRule.allowAll()));
    assertThat(writes(open, before)).as("a new default: written first").containsExactly("devices.allow=a");
  }
}
