package io.splitfed.actors.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.metrics.DeviceRoundStats;
import io.splitfed.actors.testing.TestJobs;

import com.typesafe.config.Config;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The churn soak, short: 8 SplitFrozen devices on slow links, 30% of device-rounds killed or
 * slowed 5x, one shard's node killed mid-round and restarted; late work applied when it comes.
 */
@Tag("soak")
class ChurnSoakTest {

    static Map<String, Object> soak() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("mode", "splitfrozen");
        // the main job's pretrained encoder, which learns SST-2 in these 5 rounds (stories260K, the other
        // tests' model, stays at chance, where a comparison of accuracies measures only noise)
        o.put("model.path", "builtin:all-minilm-l6-v2");
        o.put("model.tokenizer", "");
        o.put("training.learning-rate", 1e-3);
        o.put("training.lora.dropout", 0.1);
        o.put("data.max-length", 32);
        o.put("federation.devices", 8);
        o.put("server.shards", 2);
        o.put("federation.rounds", 5);
        o.put("federation.epochs", 2);
        o.put("data.train-limit", 2400);
        o.put("training.micro-batch", 16);
        o.put("data.eval-limit", 400);
        o.put("links.enabled", true);
        o.put("links.uplink-mbps", 2);
        o.put("links.latency", "5ms");
        o.put("federation.round-deadline", "10s");
        o.put("pipeline.ack-timeout", "2s");
        o.put("robustness.late-updates", "apply");
        return o;
    }

    @Test
    void aJobUnderChurnFinishesTrainsEverySampleOnceAndKeepsItsAccuracy() throws Exception {
        Config config = TestJobs.config(soak());
        JobResult calm = TestJobs.run(config);
        // a window of 4 micro-batches takes longer than the 2 s ack timeout to cross a 2 Mbit/s uplink: with a
        // fixed timeout every one was sent again before its answer could come, the link carried copies, and the
        // job ended at the untrained adapters' 52.75% (the majority class) with nothing trained (41 resent, 0
        // answered). Now a device resends until its first answer is timed (after 2, 4, 8 s), then waits for answers
        // as slow as it measures.
        int answeredCalm = calm.deviceStats().stream().mapToInt(DeviceRoundStats::microBatches).sum();
        int resentCalm = calm.deviceStats().stream().mapToInt(DeviceRoundStats::resent).sum();
        assertThat(resentCalm).as("micro-batches sent again on links slower than the ack timeout, of %d answered", answeredCalm)
                .isLessThan(Math.max(1, answeredCalm / 5));
        assertThat(calm.finalAccuracy()).as("the calm run learns").isGreaterThan(0.70);

        ChurnPlan plan = ChurnPlan.random(7, 8, 5, new ChurnPlan.Settings(0.3, 5, 2, 600, 3000, 0));
        assertThat(plan.events()).anyMatch(e -> e.action().equals("kill-device")).anyMatch(e -> e.action().equals("slow-device"))
                .anyMatch(e -> e.action().equals("kill-shard"));
        ChurnRun.Outcome o = ChurnRun.run(TestJobs.prepare(config), config, plan, System.out::println);

        double diff = 100 * (o.result().finalAccuracy() - calm.finalAccuracy());
        System.out.printf("churn soak: devices lost %d, rounds closed by deadline %d, late results applied %d, accuracy %.1f%% vs %.1f%% calm (%+.1f points)%n",
                o.devicesLost(), o.deadlineRounds(), o.lateApplied(), 100 * o.result().finalAccuracy(), 100 * calm.finalAccuracy(), diff);
        assertThat(o.result().rounds()).hasSize(5);
        ChurnEvent killShard = plan.events().stream().filter(e -> e.action().equals("kill-shard")).findFirst().orElseThrow();
        assertThat(o.actions()).as("the kill-shard fault was sent, not skipped").anyMatch(a -> a.contains("kill shard " + killShard.target()));
        assertThat(o.shardsReplaced()).as("the killed shard came back in its round and rewound its devices").anySatisfy(s -> {
            assertThat(s.shard()).isEqualTo(killShard.target());
            assertThat(s.round()).isEqualTo(killShard.round());
            assertThat(s.rewound()).isNotEmpty();
        });
        assertThat(o.devicesLost()).isPositive();
        // MiniLM over 2 Mbit/s links, most rounds closed by deadline: 88 in the run with fewest here
        assertThat(o.answered()).as("micro-batches the devices were answered for").isGreaterThan(40);
        assertThat(o.trainedTwice()).as("micro-batches trained twice").isZero();
        assertThat(o.trainedOnce()).as("every micro-batch a device sent and was answered for was trained exactly once").isEqualTo(o.answered());
        // this short run ends near 77% on 345 held-out sentences (one sentence is 0.3 points; both runs close
        // most rounds by deadline, so which micro-batches train varies); the long soak (splitfed bench --suite
        // churn) holds churn to 2 points
        assertThat(diff).as("accuracy lost to churn, in points against the calm run").isGreaterThanOrEqualTo(-5.0);
    }
}
