package io.splitfed.actors.chaos;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * A seeded schedule of faults. The same seed and settings give the same schedule, so a run can be
 * replayed; the schedule can also be written out, edited and read back.
 *
 * @param events in order of round, then time
 */
public record ChurnPlan(long seed, List<ChurnEvent> events) {

    /**
     * What {@link #random} draws.
     *
     * @param rate share of device-rounds that see a fault: half a kill (the device is back at the
     *     next round), half a slowdown by {@code slowdown} for the round
     * @param killShardRound the round in which shard 0 loses its node for {@code shardDownMillis}
     *     (negative: never)
     * @param roundMillis about how long a round takes, to spread kills over it
     * @param malformedRate share of device-rounds that also send one malformed message
     */
    public record Settings(double rate, double slowdown, int killShardRound, long shardDownMillis, long roundMillis, double malformedRate) {}

    public static ChurnPlan random(long seed, int devices, int rounds, Settings s) {
        Random rnd = new Random(seed);
        List<ChurnEvent> events = new ArrayList<>();
        String[] kinds = {"nan", "shape", "dtype", "closed-round", "unknown-device", "garbage-frame", "truncated-frame"};
        for (int r = 0; r < rounds; r++) {
            for (int d = 0; d < devices; d++) {
                double u = rnd.nextDouble();
                long at = (long) (s.roundMillis() * (0.1 + 0.5 * rnd.nextDouble()));
                if (u < s.rate() / 2) {
                    events.add(new ChurnEvent(r, at, "kill-device", d, 0, ""));
                    if (r + 1 < rounds) {
                        events.add(new ChurnEvent(r + 1, 0, "restart-device", d, 0, ""));
                    }
                } else if (u < s.rate()) {
                    events.add(new ChurnEvent(r, 0, "slow-device", d, s.slowdown(), ""));
                    events.add(new ChurnEvent(r + 1 < rounds ? r + 1 : r, r + 1 < rounds ? 0 : s.roundMillis() * 100, "slow-device", d, 1.0, ""));
                }
                if (rnd.nextDouble() < s.malformedRate()) {
                    events.add(new ChurnEvent(r, at, "malformed", d, 0, kinds[rnd.nextInt(kinds.length)]));
                }
            }
            if (r == s.killShardRound()) {
                events.add(new ChurnEvent(r, s.roundMillis() / 3, "kill-shard", 0, s.shardDownMillis(), ""));
            }
        }
        events.sort(Comparator.comparingInt(ChurnEvent::round).thenComparingLong(ChurnEvent::atMillis));
        return new ChurnPlan(seed, List.copyOf(events));
    }

    /** The events of {@code round}. */
    public List<ChurnEvent> of(int round) {
        return events.stream().filter(e -> e.round() == round).toList();
    }

}
