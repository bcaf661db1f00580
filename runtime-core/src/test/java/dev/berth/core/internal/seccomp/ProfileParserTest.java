package dev.berth.core.internal.seccomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.Seccomp;
import org.junit.jupiter.api.Test;

class ProfileParserTest {

    private static String rules(String fourth) {
        return """
                {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                  {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
                  {"names": ["write"], "action": "SCMP_ACT_ALLOW"},
                  {"names": ["close"], "action": "SCMP_ACT_ALLOW"},
                  %s]}""".formatted(fourth);
    }

    private static void fails(String json, String message) {
        assertThatThrownBy(() -> ProfileParser.parse("x.json", json)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @Test
    void errorsNameTheProfileAndTheField() {
        fails(rules("{\"names\": [\"exit\"], \"action\": \"SCMP_ACT_FOO\"}"),
                "seccomp profile x.json: syscalls[3].action: unknown action \"SCMP_ACT_FOO\"");
        fails(rules("{\"names\": [\"exit\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoret\": 5}"),
                "seccomp profile x.json: syscalls[3].errnoret: unknown field");
        fails(rules("{\"names\": [\"exit\"], \"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 5}"),
                "seccomp profile x.json: syscalls[3].errnoRet: only an SCMP_ACT_ERRNO or SCMP_ACT_TRACE rule returns "
                        + "one, not SCMP_ACT_ALLOW");
        fails(rules("{\"names\": [\"exit\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 5000}"),
                "seccomp profile x.json: syscalls[3].errnoRet: not an errno (0-4095): 5000");
        fails(rules("{\"names\": [\"exit\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 6, \"value\": 1, "
                + "\"op\": \"SCMP_CMP_EQ\"}]}"), "seccomp profile x.json: syscalls[3].args[0].index: 6 is not an argument (0-5)");
        fails(rules("{\"names\": [\"exit\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 1, "
                + "\"op\": \"SCMP_CMP_ABOUT\"}]}"), "seccomp profile x.json: syscalls[3].args[0].op: unknown operator "
                + "\"SCMP_CMP_ABOUT\"");
        fails(rules("{\"names\": [\"exit\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": -1, "
                + "\"op\": \"SCMP_CMP_EQ\"}]}"), "seccomp profile x.json: syscalls[3].args[0].value: not an unsigned 64-bit "
                + "value: -1");
        fails(rules("{\"names\": [], \"action\": \"SCMP_ACT_ALLOW\"}"), "seccomp profile x.json: syscalls[3].names: no "
                + "syscall named");
        fails(rules("{\"names\": [\"Exit; rm\"], \"action\": \"SCMP_ACT_ALLOW\"}"),
                "seccomp profile x.json: syscalls[3].names[0]: not a syscall name: \"Exit; rm\"");
        fails(rules("{\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": [\"CAP_SYS_WIZARD\"]}}"),
                "seccomp profile x.json: syscalls[3].includes.caps[0]: unknown capability \"CAP_SYS_WIZARD\"");
        fails(rules("{\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ALLOW\", \"excludes\": {\"minKernel\": \"new\"}}"),
                "seccomp profile x.json: syscalls[3].excludes.minKernel: not a kernel version: \"new\"");
        fails("{\"syscalls\": []}", "seccomp profile x.json: defaultAction: missing");
        fails("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"x86_64\"]}",
                "seccomp profile x.json: architectures[0]: unknown architecture \"x86_64\"");
        fails("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_FAST\"]}",
                "seccomp profile x.json: flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FAST\"");
        fails("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/run/agent.sock\"}",
                "seccomp profile x.json: listenerPath: unknown field");
        fails("[1]", "seccomp profile x.json: (top): not a JSON object");
        assertThatThrownBy(() -> ProfileParser.parse("x.json", "{\"defaultAction\": "))
                .hasMessageStartingWith("seccomp profile x.json: not JSON: ");
    }

    @Test
    void readsTheOciAndDockerFields() {
        SeccompProfile p = ProfileParser.parse("x.json", """
                {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
                 "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
                 "archMap": [{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
                 "flags": ["SECCOMP_FILTER_FLAG_LOG"],
                 "syscalls": [
                   {"name": "exit", "action": "SCMP_ACT_ALLOW", "comment": "the old single-name spelling"},
                   {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
                    "includes": {"arches": ["amd64"], "minKernel": "4.8"}, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
                   {"names": ["x"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": null},
                   {"names": ["y"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 18446744073709551615,
                    "op": "SCMP_CMP_EQ"}]}]}""");
        assertThat(p.defaultAction()).isEqualTo(SeccompAction.SCMP_ACT_ERRNO);
        assertThat(p.defaultErrnoRet()).isEqualTo(38);
        assertThat(p.architectures()).containsExactly("SCMP_ARCH_X86_64", "SCMP_ARCH_X86");
        assertThat(p.archMap()).containsEntry("SCMP_ARCH_AARCH64", java.util.List.of("SCMP_ARCH_ARM"));
        assertThat(p.flags()).containsExactly("SECCOMP_FILTER_FLAG_LOG");
        assertThat(p.syscalls().get(0).names()).containsExactly("exit");
        SyscallRule clone = p.syscalls().get(1);
        assertThat(clone.args()).containsExactly(new ArgCondition(0, 2114060288L, 0, CompareOp.SCMP_CMP_MASKED_EQ));
        assertThat(clone.includes()).isEqualTo(new RuleFilter(java.util.List.of(), java.util.List.of("amd64"), "4.8"));
        assertThat(clone.excludes().caps()).containsExactly("CAP_SYS_ADMIN");
        assertThat(p.syscalls().get(2).errnoRet()).isEqualTo(13);
        assertThat(p.syscalls().get(3).args().get(0).value()).isEqualTo(-1L);
    }

    @Test
    void theDefaultProfileParsesAndRefusesTheKeyring() {
        Seccomp d = Seccomp.defaultProfile();
        assertThat(d.isConfined()).isTrue();
        assertThat(d.name()).isEqualTo("default");
        assertThat(Seccomp.unconfined().isConfined()).isFalse();
        assertThatThrownBy(() -> Seccomp.profile("bad.json", "{}"))
                .hasMessage("seccomp profile bad.json: defaultAction: missing");
    }
}
