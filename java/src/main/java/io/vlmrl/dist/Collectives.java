package io.vlmrl.dist;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.DoubleArrayRef;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ReduceOp;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;
import org.bytedeco.pytorch.global.torch;

import java.util.Collection;

/**
 * What the trainers exchange between the ranks of a data-parallel run: sums and maxima of Java
 * numbers (counts, metric sums, advantages), in-place sums of tensors (gradient buckets,
 * {@link GradientReducer}), a broadcast of the parameters from rank 0, and barriers. With one
 * process ({@link #single()}) every operation returns its input and nothing native is made, so a
 * single-process run takes exactly the code path it took before data parallelism existed.
 *
 * <p>Every operation names what it is for ({@code what}); when another rank stopped, the failed
 * collective becomes a {@link RankLostException} naming that rank ({@link ProcessGroups#lost}).
 * The time spent in collectives, waiting for slower ranks included, is summed in
 * {@link #seconds()}.
 *
 * <p><b>Native memory.</b> Temporaries of each operation are freed before it returns; the
 * process groups are owned by this object and freed by {@link #close()}.
 */
public final class Collectives implements AutoCloseable {

    private final ProcessGroups groups;
    private final long bucketBytes;
    private long nanos;

    private Collectives(ProcessGroups groups, long bucketBytes) {
        this.groups = groups;
        this.bucketBytes = bucketBytes;
    }

    /** One process: every collective is the identity. */
    public static Collectives single() {
        return new Collectives(null, DistConfig.defaults().bucketMb() * (1L << 20));
    }

    /**
     * The collectives of the run {@code env} describes: {@link #single()} for one process, else the
     * ranks met through {@link ProcessGroups#join}.
     */
    public static Collectives join(LaunchEnvironment env, DistConfig config) {
        if (!env.distributed()) return new Collectives(null, config.bucketMb() * (1L << 20));
        return new Collectives(ProcessGroups.join(env, config), config.bucketMb() * (1L << 20));
    }

    public int rank() {
        return groups == null ? 0 : groups.rank();
    }

    public int worldSize() {
        return groups == null ? 1 : groups.worldSize();
    }

    /** More than one rank. */
    public boolean distributed() {
        return groups != null;
    }

    /** Rank 0 writes the run's files (metrics, checkpoints, the final policy, eval.json). */
    public boolean isRankZero() {
        return rank() == 0;
    }

    /** Largest flattened gradient bucket, in bytes ({@code dist.bucket_mb}). */
    public long bucketBytes() {
        return bucketBytes;
    }

    /** Seconds spent in collectives so far (waiting for the other ranks included). */
    public double seconds() {
        return nanos / 1e9;
    }

    /** Element-wise sums over the ranks. */
    public long[] sum(String what, long[] values) {
        if (groups == null) return values.clone();
        try (PointerScope scope = new PointerScope()) {
            Tensor t = torch.tensor(values);
            allReduce(what, t, ReduceOp.RedOpType.SUM);
            long[] out = new long[values.length];
            if (out.length > 0) t.data_ptr_long().get(out);
            return out;
        }
    }

    /** Element-wise sums over the ranks, in float64. */
    public double[] sum(String what, double[] values) {
        return reduce(what, values, ReduceOp.RedOpType.SUM);
    }

    /** Element-wise maxima over the ranks. */
    public double[] max(String what, double[] values) {
        return reduce(what, values, ReduceOp.RedOpType.MAX);
    }

    /** Element-wise minima over the ranks. */
    public double[] min(String what, double[] values) {
        return reduce(what, values, ReduceOp.RedOpType.MIN);
    }

    private double[] reduce(String what, double[] values, ReduceOp.RedOpType op) {
        if (groups == null) return values.clone();
        try (PointerScope scope = new PointerScope()) {
            DoublePointer data = new DoublePointer(values.length == 0 ? new double[1] : values); // kept until copied
            Tensor t = torch.tensor(new DoubleArrayRef(data, values.length));
            allReduce(what, t, op);
            double[] out = new double[values.length];
            if (out.length > 0) t.data_ptr_double().get(out);
            return out;
        }
    }

    /**
     * Checks that every rank holds the same {@code value} (a step number, a fingerprint of the
     * settings), so that ranks that would compute different things stop at once.
     *
     * @throws IllegalStateException naming the smallest and largest values
     */
    public void requireSame(String what, long value) {
        if (groups == null) return;
        // Exact in float64: the checked values (steps, 32-bit fingerprints) stay below 2^53.
        double lo = min(what, new double[] {value})[0];
        double hi = max(what, new double[] {value})[0];
        if (lo != hi) {
            throw new IllegalStateException("the ranks disagree on " + what + ": expected one value on every rank, got values from "
                    + (long) lo + " to " + (long) hi + " (this is rank " + rank() + " with " + value + ")");
        }
    }

    /** Replaces {@code tensor} (contiguous) in place by its element-wise sum over the ranks. */
    public void sumInPlace(String what, Tensor tensor) {
        if (groups == null) return;
        allReduce(what, tensor, ReduceOp.RedOpType.SUM);
    }

    private void allReduce(String what, Tensor tensor, ReduceOp.RedOpType op) {
        Backend backend = groups.backendFor(tensor.device());
        long start = System.nanoTime();
        try (PointerScope scope = new PointerScope()) {
            AllreduceOptions options = new AllreduceOptions();
            options.reduceOp(new ReduceOp(op));
            Work work = backend.allreduce(new TensorVector(tensor), options);
            work._wait();
        } catch (RuntimeException e) {
            throw groups.lost(what, e);
        } finally {
            nanos += System.nanoTime() - start;
        }
    }

    /** Copies rank 0's values of {@code tensors} (contiguous, e.g. the parameters) into every rank's. */
    public void broadcastFromRankZero(String what, Collection<Tensor> tensors) {
        if (groups == null) return;
        long start = System.nanoTime();
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            for (Tensor t : tensors) {
                if (!t.is_contiguous()) {
                    throw new IllegalArgumentException("tensors: expected contiguous tensors to broadcast, got a non-contiguous one of "
                            + t.numel() + " elements");
                }
                BroadcastOptions options = new BroadcastOptions();
                options.rootRank(0);
                options.rootTensor(0);
                Work work = groups.backendFor(t.device()).broadcast(new TensorVector(t), options);
                work._wait();
            }
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException) throw e;
            throw groups.lost(what, e);
        } finally {
            nanos += System.nanoTime() - start;
        }
    }

    /** Waits until every rank has come here. */
    public void barrier(String what) {
        if (groups == null) return;
        // A one-element all-reduce: Gloo's barrier cannot say which rank never came, the heartbeats can.
        sum(what, new long[] {1});
    }

    /**
     * Tells the other ranks why this rank stops ({@code cause}), so that their failing collectives
     * name it; call before closing on a failure.
     */
    public void reportFailure(Throwable cause) {
        if (groups != null) groups.reportFailure(cause);
    }

    @Override
    public void close() {
        if (groups != null) groups.close();
    }
}
