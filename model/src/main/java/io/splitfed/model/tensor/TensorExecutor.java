package io.splitfed.model.tensor;

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
    private volatile Thread owner;
    private NDManager root;

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

    @Override
    public void execute(Runnable command) {
        thread.execute(command);
    }

    /** Runs {@code work} on the tensor thread; the future completes with its result. */
    public <T> CompletableFuture<T> submit(Callable<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        thread.execute(
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

    /** The long-lived manager of this JVM; sub-managers scope each step. Tensor thread only. */
    public NDManager rootManager() {
        checkOnTensorThread();
        if (root == null) {
            root = NDManager.newBaseManager();
            Autograd.setEnabled(false);
        }
        return root;
    }
}
