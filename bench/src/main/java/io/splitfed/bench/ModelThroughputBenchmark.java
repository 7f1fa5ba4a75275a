package io.splitfed.bench;

import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.runtime.bench.ModelThroughput;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The GPT-2-small stack against a bare matmul. Tensor math hops to splitfed's tensor thread, as it
 * does in the runtime, so the hop is part of what is measured.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 10)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-XX:+UseParallelGC"})
public class ModelThroughputBenchmark {

    private ModelThroughput workload;
    private ModelThroughput.Matmul matmul;

    @Setup(Level.Trial)
    public void setUp() {
        workload = TensorExecutor.shared().call(() -> ModelThroughput.gpt2(12, 768, 12));
        matmul = TensorExecutor.shared().call(ModelThroughput.Matmul::new);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        TensorExecutor.shared().run(workload::close);
        TensorExecutor.shared().run(matmul::close);
    }

    @Benchmark
    public void stackForward() {
        TensorExecutor.shared().run(workload::forward);
    }

    @Benchmark
    public void stackForwardBackward() {
        TensorExecutor.shared().run(workload::forwardBackward);
    }

    @Benchmark
    public void matmul512x768x768() {
        TensorExecutor.shared().run(matmul::run);
    }
}
