package io.splitfed.actors.job;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;

import java.util.Map;

/**
 * Loads configuration so that overrides take part in substitution: a different
 * {@code splitfed.data-root} moves every default data path with it. Order, strongest first:
 * system properties, {@code overrides}, application.conf, reference.conf.
 */
public final class JobConfig {

    private JobConfig() {}

    public static Config load(Config overrides) {
        ClassLoader cl = JobConfig.class.getClassLoader();
        return ConfigFactory.systemProperties()
                .withFallback(overrides)
                .withFallback(ConfigFactory.parseResources(cl, "application.conf"))
                .withFallback(ConfigFactory.parseResources(cl, "reference.conf"))
                .resolve();
    }

    /** {@code overrides} keyed relative to {@code splitfed.job} ("federation.devices" = 4), as a Config. */
    public static Config jobSettings(Map<String, Object> overrides) {
        Config c = ConfigFactory.empty();
        for (Map.Entry<String, Object> e : overrides.entrySet()) {
            c = c.withValue("splitfed.job." + e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
        }
        return c;
    }
}
