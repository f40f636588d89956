package io.vlmrl.dist;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.List;

/**
 * Sums the accumulated gradients of the trained parameters over the ranks, once per optimizer
 * step, in flattened buckets of at most {@code dist.bucket_mb} (parameters of one dtype and device
 * per bucket, in the optimizer's order). The losses of data-parallel training are divided by
 * denominators of the whole (global) mini-batch, so the sum is exactly the single-process
 * gradient of that mini-batch; no averaging follows.
 *
 * <p>A rank may have no gradient for a parameter (no rows in this mini-batch, or a part of the
 * model its rows did not reach): it contributes zeros, and the parameter gets the summed gradient
 * when any rank had one, as in one process. With the gradients the ranks also exchange whether
 * their own loss was finite, so that every rank skips (or stops at) the same updates and none is
 * left waiting in a collective for one that dropped out.
 *
 * <p>Native memory: the buckets are temporaries of each call; the parameters stay the model's.
 */
public final class GradientReducer {

    private final Collectives world;
    private final List<Tensor> parameters;
    /** [from, to) ranges of {@link #parameters}, one per bucket. */
    private final List<int[]> buckets = new ArrayList<>();

    /**
     * @param parameters the trained parameters, in the same order on every rank
     */
    public GradientReducer(Collectives world, List<Tensor> parameters) {
        if (parameters.isEmpty()) throw new IllegalArgumentException("parameters: expected at least one, got none");
        this.world = world;
        this.parameters = List.copyOf(parameters);
        int from = 0;
        long bytes = 0;
        for (int i = 0; i < this.parameters.size(); i++) {
            Tensor p = this.parameters.get(i);
            long size = p.nbytes();
            boolean sameKind = i == from || (p.scalar_type() == this.parameters.get(from).scalar_type()
                    && p.device().str().getString().equals(this.parameters.get(from).device().str().getString()));
            if (i > from && (!sameKind || bytes + size > world.bucketBytes())) {
                buckets.add(new int[] {from, i});
                from = i;
                bytes = 0;
            }
            bytes += size;
        }
        buckets.add(new int[] {from, this.parameters.size()});
    }

    /** Number of buckets (each one all-reduce per optimizer step). */
    public int buckets() {
        return buckets.size();
    }

    /**
     * Every rank calls this once per optimizer step, after its backward passes.
     *
     * @param localFinite whether this rank's own loss (and forward) was finite
     * @return true when every rank's was: each parameter's gradient is then the sum over the ranks;
     *         false when any rank's was not: the gradients are left as they were, for the caller to drop
     */
    public boolean allReduce(boolean localFinite) {
        if (!world.distributed()) return localFinite;
        int n = parameters.size();
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            // One small exchange first: which parameters have a gradient anywhere, and whether every loss was finite.
            double[] flags = new double[n + 1];
            for (int i = 0; i < n; i++) flags[i] = parameters.get(i).grad().defined() ? 1 : 0;
            flags[n] = localFinite ? 0 : 1;
            flags = world.sum("exchanging which gradients exist", flags);
            if (flags[n] > 0) return false;
            for (int[] b : buckets) {
                long total = 0;
                for (int i = b[0]; i < b[1]; i++) total += parameters.get(i).numel();
                Tensor flat = parameters.get(b[0]).new_zeros(total);
                long at = 0;
                for (int i = b[0]; i < b[1]; i++) {
                    Tensor p = parameters.get(i);
                    Tensor g = p.grad();
                    if (g.defined()) flat.narrow(0, at, p.numel()).copy_(g.reshape(-1));
                    at += p.numel();
                }
                world.sumInPlace("all-reducing the gradients", flat);
                at = 0;
                for (int i = b[0]; i < b[1]; i++) {
                    Tensor p = parameters.get(i);
                    if (flags[i] > 0) {
                        Tensor summed = flat.narrow(0, at, p.numel()).view_as(p);
                        Tensor g = p.grad();
                        if (g.defined()) {
                            g.copy_(summed);
                        } else {
                            p.mutable_grad().put(summed.clone());
                        }
                    }
                    at += p.numel();
                }
            }
            return true;
        }
    }
}
