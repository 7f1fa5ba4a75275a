package io.splitfed.model.tensor;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The one thread of this JVM that runs tensor math. PyTorch's grad mode is per thread and DJL
 * allows one autograd context per JVM, so every NDArray is created, used and closed here; actors
 * hand work to it and get a {@link CompletableFuture} back, never blocking Pekko's dispatchers.
 */
public final class TensorExecutor implements Executor {

    /**
     * PyTorch's own thread pools, set before the engine starts, unless
     * {@code -Dai.djl.pytorch.num_threads} / {@code num_interop_threads} say otherwise: one
     * intra-op thread per core, so a large matmul uses every core, and one inter-op thread, since
     * all tensor work comes from this one thread. Measured on 2 cores with all-MiniLM-L6-v2 (a
     * 4,000-sample run of the main job): 60 samples/s with one intra-op thread, 91, 97
     * and 90 with two. (With the 260K-parameter stories model, whose ops are tiny, one thread had
     * been faster: PyTorch's workers spun against Pekko's dispatchers.)
     */
    static {
        if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(Runtime.getRuntime().availableProcessors()));
        }
        if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
    }

    private static final TensorExecutor SHARED = new TensorExecutor("splitfed-tensor");

    private final ExecutorService thread;
    private final java.util.concurrent.locks.ReentrantLock step = new java.util.concurrent.locks.ReentrantLock();
    private volatile boolean stopping;
    private volatile Thread owner;
    private NDManager root;
    private volatile String placement = "auto";
    private volatile String precision = "auto";
    private volatile Device device;

    private TensorExecutor(String name) {
        this.thread =
                Executors.newSingleThreadExecutor(
                        r -> {
                            Thread t = new Thread(r, name);
                            t.setDaemon(true);
                            owner = t;
                            return t;
                        });
    }

    /** The JVM-wide tensor thread. */
    public static TensorExecutor shared() {
        return SHARED;
    }

    /** Told of every task when it is queued and when it has run: an emulated clock counts tensor work as the job's. */
    public interface Observer {
        void queued();

        void ran();
    }

    private volatile Observer observer;

    /** Tells {@code o} of every task from now on, in place of any other. */
    public synchronized void observe(Observer o) {
        observer = o;
    }

    /** Stops telling {@code o}, if it is still the one told (a later job's observer stays). */
    public synchronized void unobserve(Observer o) {
        if (observer == o) {
            observer = null;
        }
    }

    @Override
    public void execute(Runnable command) {
        Observer o = observer;
        if (o == null) {
            thread.execute(guarded(command));
            return;
        }
        o.queued();
        try {
            thread.execute(guarded(() -> {
                try {
                    command.run();
                } finally {
                    o.ran();
                }
            }));
        } catch (RuntimeException e) {
            o.ran();
            throw e;
        }
    }

    /** Each task holds {@link #step} while it runs, so that {@link #stop} can wait for the one running and keep the rest from starting. */
    private Runnable guarded(Runnable command) {
        return () -> {
            step.lock();
            try {
                command.run();
            } finally {
                step.unlock();
            }
        };
    }

    /**
     * Stops tensor work for good, before the JVM exits (on SIGTERM or SIGINT): no task starts after
     * this, and the one running finishes its step, or abandons it where it checks
     * {@link #stopping()}; returns true once the thread is out of native code (false when it was
     * still busy after {@code timeout}). PyTorch is then torn down by the JVM's exit with no thread
     * inside it: a backward pass torn down under its feet is what crashes a JVM in native code.
     * Tasks submitted afterwards never run, and their futures never complete.
     */
    public boolean stop(java.time.Duration timeout) {
        stopping = true;
        try {
            return step.tryLock(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS); // held from now on
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** True once {@link #stop} was called: long tasks check it between steps and give up. */
    public static boolean stopping() {
        return SHARED.stopping;
    }

    /** Runs {@code work} on the tensor thread; the future completes with its result. */
    public <T> CompletableFuture<T> submit(Callable<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        execute(
                () -> {
                    try {
                        result.complete(work.call());
                    } catch (Throwable e) {
                        result.completeExceptionally(e);
                    }
                });
        return result;
    }

    /**
     * Runs {@code work} on the tensor thread and waits for it; runs inline when already there. For
     * command-line tools, tests and start-up, never for actors.
     */
    public <T> T call(Callable<T> work) {
        if (Thread.currentThread() == owner) {
            try {
                return work.call();
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        }
        Future<T> future = submit(work);
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompletionException(e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new CompletionException(cause);
        }
    }

    /** {@link #call} for work with no result. */
    public void run(Runnable work) {
        call(
                () -> {
                    work.run();
                    return null;
                });
    }

    /** True when the caller is this JVM's tensor thread. */
    public static boolean onTensorThread() {
        return Thread.currentThread() == SHARED.owner;
    }

    /** Fails fast when tensor math is attempted off the tensor thread. */
    public static void checkOnTensorThread() {
        if (!onTensorThread()) {
            throw new IllegalStateException(
                    "tensor math must run on the splitfed-tensor thread, not on "
                            + Thread.currentThread().getName()
                            + "; submit it through TensorExecutor.shared()");
        }
    }

    /**
     * Where this JVM's tensors live: {@code auto} (a GPU when DJL sees one, else the CPU),
     * {@code cpu}, {@code cuda} or {@code cuda:N} ({@code splitfed.engine.device}). Base weights,
     * adapters, optimizer moments and activations all stay there; they reach host memory only at the
     * wire. Set it before the first tensor exists; a different device afterwards is refused.
     */
    public void place(String spec) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase(java.util.Locale.ROOT);
        if (!s.matches("auto|cpu|cuda|cuda:\\d+")) {
            throw new IllegalArgumentException("splitfed.engine.device = '" + spec + "': expected auto, cpu, cuda or cuda:N");
        }
        if (root != null || device != null) {
            Device now = device();
            if (!s.equals("auto") && !now.equals(parse(s))) {
                throw new IllegalStateException("splitfed.engine.device = " + spec + ", but this JVM's tensors are on " + now
                        + " already; set it before the first job starts");
            }
            return;
        }
        placement = s;
    }

    /**
     * The type models loaded from now on hold their frozen block matrices in
     * ({@code splitfed.engine.base-precision}: auto, fp32, bf16 or fp16), checked against
     * {@link #device()} now: set the device first.
     */
    public void holdBaseIn(String spec) {
        BasePrecision.parse(spec, device());
        precision = spec;
    }

    /** The precision of the frozen base's block matrices on this JVM's device. */
    public BasePrecision basePrecision() {
        return BasePrecision.parse(precision, device());
    }

    /** The device this JVM's tensors live on (resolving {@code auto} the first time). */
    public Device device() {
        Device d = device;
        if (d == null) {
            synchronized (this) {
                if (device == null) {
                    device = parse(placement);
                }
                d = device;
            }
        }
        return d;
    }

    private static Device parse(String s) {
        if (s.equals("cpu")) {
            return Device.cpu();
        }
        int gpus = ai.djl.engine.Engine.getInstance().getGpuCount();
        if (s.equals("auto")) {
            return gpus > 0 ? Device.gpu() : Device.cpu();
        }
        int index = s.equals("cuda") ? 0 : Integer.parseInt(s.substring("cuda:".length()));
        if (index >= gpus) {
            throw new IllegalArgumentException("splitfed.engine.device = " + s + ", but DJL sees " + gpus + " GPU(s) with the "
                    + ai.djl.engine.Engine.getInstance().getEngineName() + " engine on this host (a CPU build? build with -Pcuda on a CUDA host)");
        }
        return Device.gpu(index);
    }

    /** The long-lived manager of this JVM, on {@link #device()}; sub-managers scope each step. Tensor thread only. */
    public NDManager rootManager() {
        checkOnTensorThread();
        if (root == null) {
            root = NDManager.newBaseManager(device());
            Autograd.setEnabled(false);
        }
        return root;
    }
}
