package io.splitfed.runtime.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.List;

/** Running some suites replaces their sections of BENCHMARKS.md and keeps the others, each saying which run it came from. */
class BenchReportTest {

    static final String OLD = """
            # Benchmarks

            Made by `splitfed bench` on 2026-11-20, 2 cores, 5358 MiB max heap.
            Every ratio divides a figure by its reference, both measured in the same run.


            ## model

            | figure | value | reference | reference value | ratio |
            |---|---:|---|---:|---:|
            | forward GFLOP/s | 127.1 GFLOP/s | bare matmul GFLOP/s | 155.2 GFLOP/s | 0.819 |

            ## scale

            | figure | value | reference | reference value | ratio |
            |---|---:|---|---:|---:|
            | stale | 1.0 KiB | old | 2.0 KiB | 0.500 |
            """;

    @Test
    void aSuiteRunReplacesItsSectionAndKeepsTheOthers() {
        String fresh = BenchReport.markdown(List.of(new Comparison("scale", "sfl: heap per added device", 40, "KiB", "8 devices", 400, "KiB", false)),
                "splitfed bench --suite scale", "2 cores");
        String merged = BenchReport.merge(OLD, fresh, List.of("model", "pipeline", "scale"));

        assertThat(merged).contains("| forward GFLOP/s | 127.1 GFLOP/s |").contains("| sfl: heap per added device | 40.0 KiB |")
                .doesNotContain("stale");
        assertThat(merged.indexOf("## model")).isLessThan(merged.indexOf("## scale"));
        assertThat(merged).contains("## model\n\nMeasured by `splitfed bench` on 2026-11-20, 2 cores, 5358 MiB max heap.")
                .contains("Measured by `splitfed bench --suite scale` on ");
        // merging again is stable: nothing doubles
        String twice = BenchReport.merge(merged, fresh, List.of("model", "pipeline", "scale"));
        assertThat(twice).isEqualTo(merged);
    }
}
