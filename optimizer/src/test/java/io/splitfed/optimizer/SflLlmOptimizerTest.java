package io.splitfed.optimizer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;

/**
 * The radio allocation is within 1% of brute force, a pipelined round is never longer than the
 * sequential one, the optimiser beats every baseline, limits hold, SFLAM trades delay for energy,
 * and the convergence fit recovers its parameters.
 */
class SflLlmOptimizerTest {

    /**
     * Three devices, six subchannels, a binding power budget: every split of the subchannels, power
     * on a 1% grid; for the papers' sequential round and for the runtime's pipelined one.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {0, 16})
    void radioAllocationIsWithinOnePercentOfBruteForce(int microBatch) {
        for (long seed = 1; seed <= 5; seed++) {
            Scenario base = Scenarios.random(3, seed, true);
            Channel c = new Channel(6, 180e3, base.channel().noiseDensity(), 0.3, base.channel().downlinkBitsPerSecond());
            Scenario s = new Scenario(base.devices(), c, base.model(), true, base.serverFlopsPerSecond(), base.splitPoints(), base.ranks(),
                    base.bits(), base.convergence(), microBatch);
            int[] splits = {2, 2, 2};
            RoundCost[] costs = SflLlmOptimizer.costs(s, splits, 8, 32);
            double optimised = SflLlmOptimizer.solve(s, splits, 8, 32).roundSeconds();
            double brute = Double.POSITIVE_INFINITY;
            int steps = 100;
            for (int n0 = 1; n0 <= 4; n0++) {
                for (int n1 = 1; n0 + n1 <= 5; n1++) {
                    int[] n = {n0, n1, 6 - n0 - n1};
                    for (int a = 1; a <= steps; a++) {
                        for (int b = 1; b <= steps; b++) {
                            double[] p = {0.2 * a / steps, 0.2 * b / steps, 0};
                            p[2] = Math.min(0.2, c.totalPower() - p[0] - p[1]);
                            if (p[2] <= 0) {
                                continue;
                            }
                            double t = 0;
                            for (int i = 0; i < 3; i++) {
                                t = Math.max(t, costs[i].seconds(c, s.devices().get(i), n[i], p[i]));
                            }
                            brute = Math.min(brute, t);
                        }
                    }
                }
            }
            assertThat(optimised).as("seed %d: optimised %.6f s vs brute force %.6f s", seed, optimised, brute)
                    .isLessThanOrEqualTo(brute * 1.01).isGreaterThanOrEqualTo(brute * 0.99);
        }
    }

    @Test
    void aPipelinedRoundIsNeverLongerThanTheSequentialOne() {
        Scenario seq = Scenarios.random(10, 3, false);
        Scenario pipe = new Scenario(seq.devices(), seq.channel(), seq.model(), false, seq.serverFlopsPerSecond(), seq.splitPoints(),
                seq.ranks(), seq.bits(), seq.convergence(), 8);
        for (int i = 0; i < 10; i++) {
            RoundCost a = RoundCost.of(seq, i, 2, 8, 32);
            RoundCost b = RoundCost.of(pipe, i, 2, 8, 32);
            for (double rate : new double[] {1e5, 1e6, 1e7, 1e9}) {
                assertThat(b.secondsAtRate(rate)).isLessThanOrEqualTo(a.secondsAtRate(rate) * (1 + 1e-12));
                // the uplink and the slowest other stage bound a pipelined round from below
                assertThat(b.secondsAtRate(rate)).isGreaterThanOrEqualTo(b.uplinkBits() / rate);
            }
        }
    }

    @Test
    void theOptimiserBeatsEveryBaselineOnItsOwnModel() {
        for (int n : new int[] {10, 50}) {
            Scenario s = Scenarios.random(n, 42 + n, true);
            Map<String, Allocation> all = Baselines.compare(s, 7);
            double opt = all.get("optimised (SflLLM)").totalSeconds();
            all.forEach((name, a) -> assertThat(opt).as("%d devices: optimiser vs %s", n, name).isLessThanOrEqualTo(a.totalSeconds() * (1 + 1e-9)));
            assertThat(opt).isLessThan(all.get("equal bandwidth and power").totalSeconds());
            assertThat(opt).isLessThan(all.get("random allocation").totalSeconds());
        }
    }

    @Test
    void powersRespectEveryLimitAndSubchannelsAreAllHandedOut() {
        Scenario s = Scenarios.random(50, 3, true);
        Allocation a = SflLlmOptimizer.optimize(s);
        assertThat(Arrays.stream(a.subchannels()).sum()).isEqualTo(s.channel().subchannels());
        assertThat(Arrays.stream(a.subchannels()).min().getAsInt()).isGreaterThanOrEqualTo(1);
        assertThat(Arrays.stream(a.power()).sum()).isLessThanOrEqualTo(s.channel().totalPower() * (1 + 1e-9));
        for (int i = 0; i < s.size(); i++) {
            assertThat(a.power()[i]).isLessThanOrEqualTo(s.devices().get(i).maxPower());
        }
    }

    @Test
    void sflamTradesDelayForEnergyWithItsWeight() {
        Scenario s = Scenarios.random(20, 11, true);
        Allocation fast = SflamOptimizer.optimize(s, 2, 8, 1.0);
        Allocation frugal = SflamOptimizer.optimize(s, 2, 8, 0.0);
        assertThat(fast.totalSeconds()).isLessThanOrEqualTo(frugal.totalSeconds());
        assertThat(frugal.totalEnergy()).isLessThan(fast.totalEnergy());
        int[] splits = new int[20];
        Arrays.fill(splits, 2);
        Allocation fp32 = SflLlmOptimizer.solve(s, splits, 8, 32);
        assertThat(fast.totalSeconds()).as("quantizing may only help the delay objective").isLessThanOrEqualTo(fp32.totalSeconds() * (1 + 1e-6));
    }

    @Test
    void theConvergenceFitRecoversItsParameters() {
        ConvergenceModel truth = new ConvergenceModel(5, 20, 0.8, 64);
        int[] ranks = {2, 4, 8, 16, 32};
        double[] rounds = Arrays.stream(ranks).mapToDouble(r -> truth.rounds(r, 64)).toArray();
        ConvergenceModel fit = new ConvergenceModel(0, 0, 0.8, 64).fit(ranks, rounds);
        assertThat(fit.a()).isCloseTo(5, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(fit.c()).isCloseTo(20, org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void theExponentIsFittedToo() {
        ConvergenceModel truth = new ConvergenceModel(3, 12, 1.5, 64);
        int[] ranks = {1, 2, 4, 8, 16};
        double[] rounds = Arrays.stream(ranks).mapToDouble(r -> truth.rounds(r, 32)).toArray();
        ConvergenceModel fit = ConvergenceModel.defaults().fitWithExponent(ranks, rounds);
        assertThat(fit.e()).isCloseTo(1.5, org.assertj.core.data.Offset.offset(0.051));
        for (int i = 0; i < ranks.length; i++) {
            assertThat(fit.rounds(ranks[i], 32)).isCloseTo(rounds[i], org.assertj.core.data.Offset.offset(0.05 * rounds[i]));
        }
    }

    @Test
    void tooFewSubchannelsIsAClearError() {
        Scenario base = Scenarios.random(4, 1, true);
        Scenario s = new Scenario(base.devices(), new Channel(3, 180e3, 1e-20, 1, 1e8), base.model(), true, 1e14, new int[] {2}, new int[] {8},
                new int[] {32}, base.convergence(), 0);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SflLlmOptimizer.optimize(s))
                .hasMessageContaining("3 subchannels for 4 devices");
    }
}
