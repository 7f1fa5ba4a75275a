package io.splitfed.actors.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * FLASH's device trace (Yang et al., "Characterizing Impacts of Heterogeneity in Federated
 * Learning upon Large-Scale Smartphone Data", WWW 2021): AI-Benchmark CPU scores of 333 Android
 * phones, and 19 users' network rates as a normal distribution each. The scores are relative, so a
 * draw turns them into GFLOP/s through one anchor: a score and the effective GFLOP/s of a phone
 * with that score.
 *
 * @param cpuScores {@code CPU_F_AI_Score} of every phone, in file order
 * @param networks each user's uplink and downlink in kbit/s, mean and sigma
 */
public record FlashTrace(Path dir, List<Integer> cpuScores, List<Network> networks) {

    public static final String PHONES = "raw_ai_benchmark_list.json";
    public static final String NETWORKS = "speed_distri.json";

    /** One user's rates in kbit/s (FLASH's code names them kb/s; we read kilobits, the slower reading). */
    public record Network(String user, double upMean, double upSigma, double downMean, double downSigma) {}

    /** Reads the trace's two files from {@code dir}; a missing or malformed file is named with what was expected. */
    public static FlashTrace read(Path dir) {
        ObjectMapper json = new ObjectMapper();
        Path phones = dir.resolve(PHONES);
        Path nets = dir.resolve(NETWORKS);
        List<Integer> scores = new ArrayList<>();
        List<Network> networks = new ArrayList<>();
        try {
            JsonNode list = json.readTree(Files.readString(phones));
            if (!list.isArray()) {
                throw new IllegalArgumentException(phones + ": expected a JSON array of phones");
            }
            for (int i = 0; i < list.size(); i++) {
                String s = list.get(i).path("CPU_F_AI_Score").asText("").trim();
                if (!s.matches("\\d+")) {
                    throw new IllegalArgumentException(phones + ": phone " + i + " (" + list.get(i).path("Model").asText("?")
                            + "): CPU_F_AI_Score is '" + s + "', expected a whole number");
                }
                scores.add(Integer.parseInt(s));
            }
            JsonNode users = json.readTree(Files.readString(nets));
            for (Iterator<Map.Entry<String, JsonNode>> it = users.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode u = e.getValue();
                for (String f : List.of("up_u", "up_sigma", "down_u", "down_sigma")) {
                    if (!u.path(f).isNumber()) {
                        throw new IllegalArgumentException(nets + ": user " + e.getKey() + ": " + f + " missing, expected a number (kb/s)");
                    }
                }
                networks.add(new Network(e.getKey(), u.get("up_u").asDouble(), u.get("up_sigma").asDouble(), u.get("down_u").asDouble(),
                        u.get("down_sigma").asDouble()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("FLASH trace in " + dir + ": cannot read " + e.getMessage()
                    + " (expected " + PHONES + " and " + NETWORKS + "; see ../shared/data/SOURCES.md)", e);
        }
        if (scores.isEmpty() || networks.isEmpty()) {
            throw new IllegalArgumentException("FLASH trace in " + dir + ": " + scores.size() + " phones and " + networks.size() + " users; expected some of each");
        }
        return new FlashTrace(dir, List.copyOf(scores), List.copyOf(networks));
    }

    /**
     * {@code devices} phones drawn with {@code seed}: each a random phone's score scaled so that
     * {@code anchorScore} computes at {@code anchorGflops}, on a random user's network, its rates
     * drawn from that user's normal distribution (at least a tenth of the mean).
     */
    public List<FleetDevice> draw(int devices, long seed, int anchorScore, double anchorGflops, double latencyMs, double joulesPerGflop, double radioWatts) {
        Random rnd = new Random(seed);
        List<FleetDevice> out = new ArrayList<>(devices);
        for (int d = 0; d < devices; d++) {
            int score = cpuScores.get(rnd.nextInt(cpuScores.size()));
            Network n = networks.get(rnd.nextInt(networks.size()));
            double up = Math.max(0.1 * n.upMean(), n.upMean() + n.upSigma() * rnd.nextGaussian());
            double down = Math.max(0.1 * n.downMean(), n.downMean() + n.downSigma() * rnd.nextGaussian());
            double gflops = anchorGflops * score / anchorScore;
            out.add(new FleetDevice("trace:score-" + score, gflops, gflops, new LinkProfile(up / 1000, down / 1000, latencyMs), joulesPerGflop, radioWatts));
        }
        return out;
    }
}
