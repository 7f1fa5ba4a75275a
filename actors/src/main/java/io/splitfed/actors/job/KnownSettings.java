package io.splitfed.actors.job;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The settings splitfed knows: every key under {@code splitfed.} that a {@code reference.conf} on
 * the class path defines. A user's file or {@code --set} that names any other key under
 * {@code splitfed.} is refused, with the nearest known key, instead of being ignored.
 */
public final class KnownSettings {

    private static final String ROOT = "splitfed";

    private final Map<String, Boolean> keys = new TreeMap<>(); // path -> whether it is an object (a free-form map when empty)

    private KnownSettings(Config reference) {
        ConfigValue root = reference.root().get(ROOT);
        if (root instanceof ConfigObject o) {
            walk(ROOT, o, keys);
        }
    }

    /** The settings the class path's {@code reference.conf} files define. */
    public static KnownSettings fromClassPath() {
        return new KnownSettings(ConfigFactory.parseResources(KnownSettings.class.getClassLoader(), "reference.conf"));
    }

    /**
     * Each key under {@code splitfed.} in {@code user} that is not a setting, as "key (where it
     * was set): not a setting; did you mean nearest?"; empty when all are known.
     */
    public List<String> unknown(Config user) {
        List<String> out = new ArrayList<>();
        ConfigValue root = user.root().get(ROOT);
        if (!(root instanceof ConfigObject o)) {
            return out;
        }
        Map<String, Boolean> given = new TreeMap<>();
        Map<String, ConfigValue> values = new TreeMap<>();
        collect(ROOT, o, given, values);
        for (Map.Entry<String, Boolean> e : given.entrySet()) {
            String key = e.getKey();
            if (!known(key)) {
                String where = values.get(key).origin().description();
                out.add(key + " (" + where + ") is not a setting; did you mean " + nearest(key) + "?");
            }
        }
        return out;
    }

    /** Known, or under an empty object of the reference (a map whose keys are the user's own). */
    private boolean known(String key) {
        if (keys.containsKey(key)) {
            return true;
        }
        for (int dot = key.lastIndexOf('.'); dot > 0; dot = key.lastIndexOf('.', dot - 1)) {
            String prefix = key.substring(0, dot);
            if (keys.containsKey(prefix)) {
                return isEmptyObject(prefix);
            }
        }
        return false;
    }

    private boolean isEmptyObject(String path) {
        String prefix = path + ".";
        return Boolean.TRUE.equals(keys.get(path)) && keys.keySet().stream().noneMatch(k -> k.startsWith(prefix));
    }

    String nearest(String key) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (Map.Entry<String, Boolean> k : keys.entrySet()) {
            if (k.getValue()) {
                continue; // suggest settings, not sections
            }
            int d = distance(key, k.getKey());
            if (d < bestDistance) {
                bestDistance = d;
                best = k.getKey();
            }
        }
        return best;
    }

    private static void walk(String path, ConfigObject o, Map<String, Boolean> into) {
        into.put(path, true);
        for (String k : o.keySet()) {
            ConfigValue v = o.get(k);
            String p = path + "." + quoteIfNeeded(k);
            if (v instanceof ConfigObject child) {
                walk(p, child, into);
            } else {
                into.put(p, false);
            }
        }
    }

    private static void collect(String path, ConfigObject o, Map<String, Boolean> into, Map<String, ConfigValue> values) {
        for (String k : o.keySet()) {
            ConfigValue v = o.get(k);
            String p = path + "." + quoteIfNeeded(k);
            if (v instanceof ConfigObject child && !child.isEmpty()) {
                collect(p, child, into, values);
            } else {
                into.put(p, v instanceof ConfigObject);
                values.put(p, v);
            }
        }
    }

    private static String quoteIfNeeded(String k) {
        return k.contains(".") ? "\"" + k + "\"" : k;
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
