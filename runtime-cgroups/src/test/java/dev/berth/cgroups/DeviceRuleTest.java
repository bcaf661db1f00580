package dev.berth.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DeviceRuleTest {

  @Test
  void parsesDockersSyntax() {
    assertThat(DeviceRule.parse("c 1:3 rwm")).isEqualTo(DeviceRule.allow(DeviceRule.Type.CHAR, 1, 3, "rwm"));
    assertThat(DeviceRule.parse("b 7:* r")).isEqualTo(DeviceRule.allow(DeviceRule.Type.BLOCK, 7, DeviceRule.ANY, "r"));
    assertThat(DeviceRule.parse(" a *:* rwm ")).isEqualTo(DeviceRule.allowAll());
    assertThat(DeviceRule.parse("c 136:* mw").access()).as("canonical order").isEqualTo("wm");
  }

  @Test
  void v1EntriesAndNames() {
    assertThat(DeviceRule.allow(DeviceRule.Type.CHAR, 136, DeviceRule.ANY, "rw").entry()).isEqualTo("c 136:* rw");
    assertThat(DeviceRule.denyAll().entry()).isEqualTo("a");
    assertThat(DeviceRule.deny(DeviceRule.Type.BLOCK, 8, 0, "w")).hasToString("deny b 8:0 w");
  }

  @Test
  void badRulesNameTheFieldAndValue() {
    assertThatThrownBy(() -> DeviceRule.parse("x 1:3 rwm")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("devices: \"x 1:3 rwm\" is not a rule like \"c 1:3 rwm\"");
    assertThatThrownBy(() -> DeviceRule.parse("c 1:3 rwx")).hasMessageContaining("is not a rule");
    assertThatThrownBy(() -> DeviceRule.parse("c 99999999999:3 r")).hasMessageContaining("major must be 0..4095");
    assertThatThrownBy(() -> DeviceRule.allow(DeviceRule.Type.CHAR, 1, 3, ""))
        .hasMessage("devices[c 1:3 ]: access must be a non-empty subset of \"rwm\", got \"\"");
    assertThatThrownBy(() -> DeviceRule.allow(DeviceRule.Type.CHAR, 1, 3, "rr")).hasMessageContaining("subset");
    assertThatThrownBy(() -> DeviceRule.allow(DeviceRule.Type.CHAR, 1, 1 << 20, "r"))
        .hasMessageContaining("minor must be 0..1048575");
    assertThatThrownBy(() -> DeviceRule.allow(DeviceRule.Type.ALL, 1, DeviceRule.ANY, "rwm"))
        .hasMessageContaining("an 'a' (all devices) rule covers every number");
    assertThatThrownBy(() -> DeviceRule.allow(DeviceRule.Type.ALL, DeviceRule.ANY, DeviceRule.ANY, "r"))
        .hasMessageContaining("all of \"rwm\"");
  }

  @Test
  void resourcesRefuseAPolicyNeitherVersionCanExpress() {
    Resources.Builder b = Resources.builder()
        .deviceRule(DeviceRule.allow(DeviceRule.Type.CHAR, DeviceRule.ANY, DeviceRule.ANY, "m"))
        .deviceRule(DeviceRule.deny(DeviceRule.Type.CHAR, 1, 3, "m"));
    assertThatThrownBy(b::build).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("devices[1]: \"deny c 1:3 m\" cannot be expressed after \"allow c *:* m\"");
    Resources ok = Resources.builder().deviceRule(DeviceRule.parse("c 1:3 rwm")).build();
    assertThat(ok.devices()).containsExactly(DeviceRule.parse("c 1:3 rwm"));
    assertThat(ok.isEmpty()).isFalse();
    assertThat(ok.toBuilder().build()).isEqualTo(ok);
  }
}
