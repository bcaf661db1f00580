package dev.berth.core.internal.seccomp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a seccomp profile in the OCI runtime-spec / Docker JSON format. Errors name the profile and the
 * field: {@code seccomp profile x.json: syscalls[3].action: unknown action "SCMP_ACT_FOO"}. Unknown fields
 * are refused, so that a misspelt {@code errnoret} cannot silently turn into EPERM.
 */
public final class ProfileParser {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> TOP = Set.of("defaultAction", "defaultErrnoRet", "architectures", "archMap",
            "flags", "syscalls", "comment");
    private static final Set<String> RULE = Set.of("names", "name", "action", "errnoRet", "args", "includes",
            "excludes", "comment");
    private static final Set<String> ARG = Set.of("index", "value", "valueTwo", "op");
    private static final Set<String> FILTER = Set.of("caps", "arches", "minKernel");
    private static final Set<String> ARCH_MAP = Set.of("architecture", "subArchitectures");
    private static final Set<String> FLAGS = Set.of("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
    private static final Pattern ARCH = Pattern.compile("SCMP_ARCH_[A-Z0-9_]+");
    private static final Pattern KERNEL = Pattern.compile("\\d+(\\.\\d+)*");
    private static final Pattern SYSCALL = Pattern.compile("[a-z_][a-z0-9_]*");
    private static final int MAX_ERRNO = 4095;

    private ProfileParser() {}

    /** @throws IllegalArgumentException naming the profile and the field */
    public static SeccompProfile parse(String name, String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("seccomp profile " + name + ": not JSON: " + e.getOriginalMessage());
        }
        try {
            return profile(name, root);
        } catch (FieldException e) {
            throw new IllegalArgumentException("seccomp profile " + name + ": " + e.getMessage());
        }
    }

    private static final class FieldException extends RuntimeException {
        FieldException(String field, String message) {
            super(field + ": " + message);
        }
    }

    private static SeccompProfile profile(String name, JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new FieldException("(top)", "not a JSON object");
        }
        known(root, TOP, "");
        SeccompAction def = action(root.get("defaultAction"), "defaultAction");
        Integer defErrno = errno(root.get("defaultErrnoRet"), "defaultErrnoRet");
        List<String> arches = new ArrayList<>();
        JsonNode a = root.get("architectures");
        for (int i = 0; a != null && !a.isNull() && i < array(a, "architectures").size(); i++) {
            arches.add(arch(a.get(i), "architectures[" + i + "]"));
        }
        Map<String, List<String>> archMap = new LinkedHashMap<>();
        JsonNode m = root.get("archMap");
        for (int i = 0; m != null && !m.isNull() && i < array(m, "archMap").size(); i++) {
            String f = "archMap[" + i + "]";
            JsonNode e = m.get(i);
            known(e, ARCH_MAP, f + ".");
            String main = arch(e.get("architecture"), f + ".architecture");
            List<String> subs = new ArrayList<>();
            JsonNode s = e.get("subArchitectures");
            for (int j = 0; s != null && !s.isNull() && j < array(s, f + ".subArchitectures").size(); j++) {
                subs.add(arch(s.get(j), f + ".subArchitectures[" + j + "]"));
            }
            archMap.put(main, subs);
        }
        List<String> flags = new ArrayList<>();
        JsonNode fl = root.get("flags");
        for (int i = 0; fl != null && !fl.isNull() && i < array(fl, "flags").size(); i++) {
            String flag = text(fl.get(i), "flags[" + i + "]");
            if (!FLAGS.contains(flag)) {
                throw new FieldException("flags[" + i + "]", "unknown flag \"" + flag + "\"");
            }
            flags.add(flag);
        }
        List<SyscallRule> rules = new ArrayList<>();
        JsonNode sc = root.get("syscalls");
        for (int i = 0; sc != null && !sc.isNull() && i < array(sc, "syscalls").size(); i++) {
            rules.add(rule(sc.get(i), "syscalls[" + i + "]"));
        }
        return new SeccompProfile(name, def, defErrno, arches, archMap, flags, rules);
    }

    private static SyscallRule rule(JsonNode r, String f) {
        if (!r.isObject()) {
            throw new FieldException(f, "not an object");
        }
        known(r, RULE, f + ".");
        List<String> names = new ArrayList<>();
        JsonNode n = r.get("names");
        for (int i = 0; n != null && !n.isNull() && i < array(n, f + ".names").size(); i++) {
            names.add(syscall(n.get(i), f + ".names[" + i + "]"));
        }
        if (r.hasNonNull("name")) {
            names.add(syscall(r.get("name"), f + ".name"));
        }
        if (names.isEmpty()) {
            throw new FieldException(f + ".names", "no syscall named");
        }
        SeccompAction action = action(r.get("action"), f + ".action");
        Integer errnoRet = errno(r.get("errnoRet"), f + ".errnoRet");
        if (errnoRet != null && !action.takesData()) {
            throw new FieldException(f + ".errnoRet", "only an SCMP_ACT_ERRNO or SCMP_ACT_TRACE rule returns one, not "
                    + action);
        }
        List<ArgCondition> args = new ArrayList<>();
        JsonNode as = r.get("args");
        for (int i = 0; as != null && !as.isNull() && i < array(as, f + ".args").size(); i++) {
            args.add(arg(as.get(i), f + ".args[" + i + "]"));
        }
        return new SyscallRule(names, action, errnoRet, args, filter(r.get("includes"), f + ".includes"),
                filter(r.get("excludes"), f + ".excludes"));
    }

    private static ArgCondition arg(JsonNode a, String f) {
        if (!a.isObject()) {
            throw new FieldException(f, "not an object");
        }
        known(a, ARG, f + ".");
        JsonNode idx = a.get("index");
        if (idx == null || !idx.canConvertToInt() || !idx.isIntegralNumber()) {
            throw new FieldException(f + ".index", "missing or not an integer");
        }
        int index = idx.intValue();
        if (index < 0 || index > 5) {
            throw new FieldException(f + ".index", index + " is not an argument (0-5)");
        }
        String op = text(a.get("op"), f + ".op");
        CompareOp cmp;
        try {
            cmp = CompareOp.valueOf(op);
        } catch (IllegalArgumentException e) {
            throw new FieldException(f + ".op", "unknown operator \"" + op + "\"");
        }
        return new ArgCondition(index, u64(a.get("value"), f + ".value"), u64(a.get("valueTwo"), f + ".valueTwo"), cmp);
    }

    private static RuleFilter filter(JsonNode n, String f) {
        if (n == null || n.isNull()) {
            return RuleFilter.NONE;
        }
        if (!n.isObject()) {
            throw new FieldException(f, "not an object");
        }
        known(n, FILTER, f + ".");
        List<String> caps = new ArrayList<>();
        JsonNode c = n.get("caps");
        for (int i = 0; c != null && !c.isNull() && i < array(c, f + ".caps").size(); i++) {
            String cap = text(c.get(i), f + ".caps[" + i + "]");
            try {
                dev.berth.core.Capability.parse(cap);
            } catch (IllegalArgumentException e) {
                throw new FieldException(f + ".caps[" + i + "]", "unknown capability \"" + cap + "\"");
            }
            caps.add(cap);
        }
        List<String> arches = new ArrayList<>();
        JsonNode a = n.get("arches");
        for (int i = 0; a != null && !a.isNull() && i < array(a, f + ".arches").size(); i++) {
            arches.add(text(a.get(i), f + ".arches[" + i + "]"));
        }
        String minKernel = null;
        if (n.hasNonNull("minKernel")) {
            minKernel = text(n.get("minKernel"), f + ".minKernel");
            if (!KERNEL.matcher(minKernel).matches()) {
                throw new FieldException(f + ".minKernel", "not a kernel version: \"" + minKernel + "\"");
            }
        }
        return new RuleFilter(caps, arches, minKernel);
    }

    private static void known(JsonNode obj, Set<String> fields, String prefix) {
        if (!obj.isObject()) {
            throw new FieldException(prefix.isEmpty() ? "(top)" : prefix.substring(0, prefix.length() - 1),
                    "not an object");
        }
        for (Iterator<String> it = obj.fieldNames(); it.hasNext();) {
            String k = it.next();
            if (!fields.contains(k)) {
                throw new FieldException(prefix + k, "unknown field");
            }
        }
    }

    private static JsonNode array(JsonNode n, String f) {
        if (!n.isArray()) {
            throw new FieldException(f, "not an array");
        }
        return n;
    }

    private static String text(JsonNode n, String f) {
        if (n == null || n.isNull()) {
            throw new FieldException(f, "missing");
        }
        if (!n.isTextual()) {
            throw new FieldException(f, "not a string");
        }
        return n.textValue();
    }

    private static SeccompAction action(JsonNode n, String f) {
        String s = text(n, f);
        try {
            return SeccompAction.valueOf(s);
        } catch (IllegalArgumentException e) {
            throw new FieldException(f, "unknown action \"" + s + "\"");
        }
    }

    private static String arch(JsonNode n, String f) {
        String s = text(n, f);
        if (!ARCH.matcher(s).matches()) {
            throw new FieldException(f, "unknown architecture \"" + s + "\"");
        }
        return s;
    }

    private static String syscall(JsonNode n, String f) {
        String s = text(n, f);
        if (!SYSCALL.matcher(s).matches()) {
            throw new FieldException(f, "not a syscall name: \"" + s + "\"");
        }
        return s;
    }

    private static Integer errno(JsonNode n, String f) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0 || n.intValue() > MAX_ERRNO) {
            throw new FieldException(f, "not an errno (0-" + MAX_ERRNO + "): " + n);
        }
        return n.intValue();
    }

    private static long u64(JsonNode n, String f) {
        if (n == null || n.isNull()) {
            return 0;
        }
        if (!n.isIntegralNumber()) {
            throw new FieldException(f, "not an integer: " + n);
        }
        BigInteger v = n.bigIntegerValue();
        if (v.signum() < 0 || v.bitLength() > 64) {
            throw new FieldException(f, "not an unsigned 64-bit value: " + n);
        }
        return v.longValue();
    }
}
