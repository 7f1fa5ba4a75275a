package io.splitfed.actors.fleet;

import io.splitfed.actors.job.HostSpeed;
import io.splitfed.model.data.partition.Shards;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValueType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Builds the {@link Fleet} a job names: {@code host} (this machine, measured), a built-in fleet of
 * {@code splitfed.fleets.builtin}, or a fleet file of the same shape. Tiers and links are looked up
 * in {@code splitfed.fleets}, or written out in place. A bad file names itself, the line and the
 * field.
 */
public final class Fleets {

    public static final String HOST = "host";

    private Fleets() {}

    /** Names of the built-in fleets, {@code host} first. */
    public static List<String> builtin(Config config) {
        List<String> names = new ArrayList<>(List.of(HOST));
        names.addAll(config.getConfig("splitfed.fleets.builtin").root().keySet().stream().sorted().toList());
        return names;
    }

    /**
     * The fleet {@code nameOrFile} for {@code devices} devices, drawn with {@code seed} where it
     * draws; {@code host} measures this machine through {@code hostSpeed}.
     */
    public static Fleet resolve(Config config, String nameOrFile, int devices, long seed, Supplier<HostSpeed> hostSpeed) {
        Config fleets = config.getConfig("splitfed.fleets");
        Config energy = fleets.getConfig("energy");
        if (HOST.equals(nameOrFile)) {
            HostSpeed h = hostSpeed.get();
            FleetDevice here = new FleetDevice(HOST, h.forwardFlopsPerSecond() / 1e9, h.trainFlopsPerSecond() / 1e9, LinkProfile.NONE,
                    energy.getDouble("joules-per-gflop"), energy.getDouble("radio-watts"));
            return new Fleet(HOST, String.format(java.util.Locale.ROOT, "this host, measured: %.1f GFLOP/s forward, %.1f training",
                    here.forwardGflops(), here.trainGflops()), java.util.Collections.nCopies(devices, here), here);
        }
        Config spec;
        String source;
        if (fleets.hasPath("builtin." + quoted(nameOrFile)) && fleets.getValue("builtin." + quoted(nameOrFile)).valueType() == ConfigValueType.OBJECT) {
            spec = fleets.getConfig("builtin." + quoted(nameOrFile));
            source = "built-in fleet " + nameOrFile;
        } else {
            Path file = Path.of(nameOrFile);
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("fleet '" + nameOrFile + "': neither a built-in fleet (" + String.join(", ", builtin(config))
                        + ") nor a file");
            }
            spec = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)).resolve();
            source = "fleet file " + file;
        }
        try {
            FleetDevice server = device(fleets, energy, spec, "server", null);
            List<FleetDevice> list;
            if (spec.getValue("devices").valueType() == ConfigValueType.STRING) {
                String kind = spec.getString("devices");
                if (!kind.equals("trace")) {
                    throw new ConfigException.BadValue(spec.origin(), "devices", "'" + kind + "': expected \"trace\" or a list of {tier, link, share}");
                }
                Config flash = fleets.getConfig("flash");
                FlashTrace trace = FlashTrace.read(Path.of(flash.getString("dir")));
                list = trace.draw(devices, seed, flash.getInt("anchor-score"), flash.getDouble("anchor-gflops"), flash.getDouble("latency-ms"),
                        energy.getDouble("joules-per-gflop"), energy.getDouble("radio-watts"));
                source += ": " + devices + " phones drawn with seed " + seed + " from FLASH's trace in " + trace.dir();
            } else {
                list = shares(fleets, energy, spec.getConfigList("devices"), devices);
                source += ": " + list.stream().map(FleetDevice::tier).distinct().toList();
            }
            return new Fleet(nameOrFile, source + ", server " + server.tier(), list, server);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    /** Splits {@code devices} among the entries by their shares, in order (largest remainders get the leftovers). */
    private static List<FleetDevice> shares(Config fleets, Config energy, List<? extends Config> entries, int devices) {
        if (entries.isEmpty()) {
            throw new ConfigException.BadValue("devices", "an empty list: expected at least one {tier, link, share}");
        }
        double[] shares = new double[entries.size()];
        double total = 0;
        for (int i = 0; i < shares.length; i++) {
            Config e = entries.get(i);
            shares[i] = e.hasPath("share") ? e.getDouble("share") : 1;
            if (!(shares[i] > 0)) {
                throw new ConfigException.BadValue(e.origin(), "share", shares[i] + ": expected a positive share");
            }
            total += shares[i];
        }
        for (int i = 0; i < shares.length; i++) {
            shares[i] /= total;
        }
        int[] counts = Shards.apportion(devices, shares);
        List<FleetDevice> out = new ArrayList<>(devices);
        for (int i = 0; i < counts.length; i++) {
            FleetDevice d = device(fleets, energy, entries.get(i), "tier", entries.get(i));
            for (int k = 0; k < counts[i]; k++) {
                out.add(d);
            }
        }
        return out;
    }

    /** The tier at {@code key} of {@code in} (a tier's name or {gflops = ...}), with {@code entry}'s link (none when null). */
    private static FleetDevice device(Config fleets, Config energy, Config in, String key, Config entry) {
        String tierName;
        Config tier;
        if (in.getValue(key).valueType() == ConfigValueType.STRING) {
            tierName = in.getString(key);
            if (!fleets.hasPath("tiers." + quoted(tierName))) {
                throw new ConfigException.BadValue(in.origin(), key, "'" + tierName + "': expected a tier of " + new java.util.TreeSet<>(fleets.getConfig("tiers").root().keySet())
                        + " or {gflops = ...}");
            }
            tier = fleets.getConfig("tiers." + quoted(tierName));
        } else {
            tier = in.getConfig(key);
            tierName = tier.hasPath("name") ? tier.getString("name") : tier.getDouble("gflops") + " GFLOP/s";
        }
        double gflops = tier.getDouble("gflops");
        if (!(gflops > 0)) {
            throw new ConfigException.BadValue(tier.origin(), "gflops", gflops + ": expected a positive speed");
        }
        LinkProfile link = entry == null ? LinkProfile.NONE : link(fleets, entry);
        double joules = tier.hasPath("joules-per-gflop") ? tier.getDouble("joules-per-gflop") : energy.getDouble("joules-per-gflop");
        double watts = tier.hasPath("radio-watts") ? tier.getDouble("radio-watts") : energy.getDouble("radio-watts");
        if (!(watts > 0)) {
            throw new ConfigException.BadValue(tier.origin(), "radio-watts", watts + ": expected a positive transmit power");
        }
        double availability = entry != null && entry.hasPath("availability") ? entry.getDouble("availability") : 1.0;
        if (!(availability > 0 && availability <= 1)) {
            throw new ConfigException.BadValue(entry.origin(), "availability", availability + ": expected the chance a device is there for a round, above 0 and at most 1");
        }
        return new FleetDevice(tierName, gflops, gflops, link, joules, watts, availability);
    }

    private static LinkProfile link(Config fleets, Config entry) {
        Config l;
        if (entry.getValue("link").valueType() == ConfigValueType.STRING) {
            String name = entry.getString("link");
            if (!fleets.hasPath("links." + quoted(name))) {
                throw new ConfigException.BadValue(entry.origin(), "link", "'" + name + "': expected a link of " + new java.util.TreeSet<>(fleets.getConfig("links").root().keySet())
                        + " or {uplink-mbps, downlink-mbps, latency-ms}");
            }
            l = fleets.getConfig("links." + quoted(name));
        } else {
            l = entry.getConfig("link");
        }
        LinkProfile p = new LinkProfile(l.getDouble("uplink-mbps"), l.getDouble("downlink-mbps"), l.getDouble("latency-ms"));
        if (!(p.uplinkMbps() > 0 && p.downlinkMbps() > 0 && p.latencyMs() >= 0)) {
            throw new ConfigException.BadValue(l.origin(), "link", p + ": expected positive rates and a latency of at least 0");
        }
        return p;
    }

    private static String quoted(String key) {
        return com.typesafe.config.ConfigUtil.quoteString(key);
    }
}
