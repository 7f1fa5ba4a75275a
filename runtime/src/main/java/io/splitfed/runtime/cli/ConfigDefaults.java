package io.splitfed.runtime.cli;

import io.splitfed.actors.job.JobConfig;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;

import java.util.ArrayList;
import java.util.List;
import java.util.ListResourceBundle;
import java.util.Map;
import java.util.ResourceBundle;

/**
 * The job settings as the flags' help shows them: a resource bundle keyed by setting path
 * ({@code splitfed.job.pipeline.window}), read from the configuration the job itself would load, so
 * that {@code --help} states the defaults the code runs with instead of restating them. Option
 * descriptions name them as {@code ${bundle:splitfed.job.pipeline.window}}.
 */
final class ConfigDefaults {

    private ConfigDefaults() {}

    static ResourceBundle bundle() {
        Config job = JobConfig.load(ConfigFactory.empty()).getConfig("splitfed.job");
        List<Object[]> entries = new ArrayList<>();
        for (Map.Entry<String, ConfigValue> e : job.entrySet()) {
            Object v = e.getValue().unwrapped();
            String shown = v instanceof List<?> l ? String.join(",", l.stream().map(String::valueOf).toList()) : String.valueOf(v);
            entries.add(new Object[] {"splitfed.job." + e.getKey(), shown.isEmpty() ? "none" : shown});
        }
        Object[][] contents = entries.toArray(Object[][]::new);
        return new ListResourceBundle() {
            @Override
            protected Object[][] getContents() {
                return contents;
            }
        };
    }
}
