package io.vlmrl.loss;

import io.vlmrl.kernels.NonFinitePolicy;
import io.vlmrl.kernels.TensorChecks;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The clipped policy loss written with plain LibTorch ops, its gradient taken by autograd:
 * the reference for {@link FusedPolicyLoss} and the "eager peer" of the benchmarks. It runs in
 * the dtype of {@code logp} (float32 or float64; the other inputs are converted), implements
 * the same formulas (docs/algorithms.md) and the same conventions as the kernel: masked and
 * non-finite-masked tokens contribute nothing, L_i counts the mask's valid tokens, clamps
 * have zero gradient outside their range.
 */
public final class EagerPolicyLoss {
    private EagerPolicyLoss() {
    }

    /** Runs the eager loss with the given clip mode; see {@link PolicyLoss#compute} for the contract. */
    public static PolicyLossResult compute(PolicyLossInputs in, PolicyLossConfig cfg, ClipMode clip) {
        in.requireFor(cfg, clip);
        ScalarType[] floats = {ScalarType.Float, ScalarType.Double};
        TensorChecks.requireDtype("logp", in.logp(), floats);
        TensorChecks.requireDtype("old", in.old(), floats);
        TensorChecks.requireDtype("adv", in.adv(), floats);
        boolean klOn = cfg.klEnabled();
        if (klOn) {
            TensorChecks.requireDtype("ref", in.ref(), floats);
        }
        if (in.klWeights() != null) {
            TensorChecks.requireDtype("klWeights", in.klWeights(), floats);
        }
        if (in.entropy() != null) {
            TensorChecks.requireDtype("entropy", in.entropy(), floats);
        }
        ScalarType dt = TensorChecks.dtype(in.logp());
        long b = in.rows();
        long t = in.rowLength();

        Tensor mask = MaskChecks.asBool(in.mask());
        Tensor logp = in.logp().detach().to(dt);
        Tensor old = in.old().detach().to(dt);
        Tensor adv = (in.advPerToken() ? in.adv() : in.adv().unsqueeze(1).expand(b, t)).detach().to(dt);
        Tensor ref = klOn ? in.ref().detach().to(dt) : null;
        Tensor lambda = klOn && in.klWeights() != null
                ? in.klWeights().detach().to(dt).unsqueeze(1).expand(b, t) : null;
        Tensor entropy = in.entropy() == null ? null : in.entropy().detach().to(dt);

        // Non-finite valid inputs, checked in the kernel's order of inputs.
        String[] names = {"logp", "old", "adv", "ref", "entropy", "klWeights"};
        Tensor[] tensors = {logp, old, adv, ref, entropy, lambda};
        Tensor bad = torch.zeros_like(mask);
        Tensor[] badPerInput = new Tensor[names.length];
        for (int i = 0; i < names.length; i++) {
            if (tensors[i] != null) {
                badPerInput[i] = torch.isfinite(tensors[i]).logical_not().logical_and(mask);
                bad = bad.logical_or(badPerInput[i]);
            }
        }
        long nonFinite = bad.sum().item_long();
        if (nonFinite > 0 && cfg.nonFinitePolicy() == NonFinitePolicy.ERROR) {
            long token = torch.nonzero(bad.reshape(-1)).get(0).item_long();
            for (int i = 0; i < names.length; i++) {
                if (badPerInput[i] != null && badPerInput[i].reshape(-1).get(token).item_bool()) {
                    boolean perRow = (i == 2 && !in.advPerToken()) || i == 5;
                    Tensor original = perRow ? (i == 2 ? in.adv() : in.klWeights()) : tensors[i];
                    throw TensorChecks.nonFinite(names[i], original.detach(), perRow ? token / t : token);
                }
            }
        }
        Tensor valid = mask.logical_and(bad.logical_not());
        Tensor validF = valid.to(dt);

        // Leaves of the graph; every input is zeroed where invalid so no NaN reaches autograd.
        Tensor x = logp.clone().requires_grad_(true);
        Tensor h = entropy == null ? null : entropy.clone().requires_grad_(true);
        Tensor zero = torch.zeros_like(logp);
        Tensor xs = torch.where(valid, x, zero);
        old = torch.where(valid, old, zero);
        adv = torch.where(valid, adv, zero);
        Tensor hs = h == null ? null : torch.where(valid, h, zero);

        Tensor rho = clamp(xs.sub(old), cfg.logRatioClamp()).exp();
        Tensor epsHigh = epsHigh(adv, cfg, clip, in.advantageStats());
        Tensor lower = torch.full_like(rho, new Scalar(1 - cfg.epsLow()));
        Tensor upper = epsHigh.add(new Scalar(1.0));
        Tensor rhoClipped = torch.clamp(rho, new TensorOptional(lower), new TensorOptional(upper));
        Tensor pgUnclipped = adv.neg().mul(rho);
        Tensor pgClipped = adv.neg().mul(rhoClipped);
        // max(unclipped, clipped); at a tie the unclipped branch carries the gradient.
        Tensor pg = torch.where(pgClipped.gt(pgUnclipped), pgClipped, pgUnclipped);
        Tensor clipUpper = adv.gt(new Scalar(0)).logical_and(rho.gt(upper)).logical_and(valid);
        Tensor clipLower = adv.lt(new Scalar(0)).logical_and(rho.lt(lower)).logical_and(valid);
        Tensor dual = torch.zeros_like(valid);
        if (cfg.dualClip()) {
            dual = adv.lt(new Scalar(0)).logical_and(rho.gt(new Scalar(cfg.dualClipC()))).logical_and(valid);
            pg = torch.where(dual, adv.neg().mul(new Scalar(cfg.dualClipC())), pg);
        }

        Tensor rowValid = mask.sum(new long[] {1}, false, new ScalarTypeOptional(dt));
        Tensor pgWeight = tokenWeights(cfg.aggregation(), in.denominators(), rowValid, validF);
        Tensor pgLoss = pg.mul(pgWeight).sum();
        Tensor loss = pgLoss;

        Tensor klLoss = null;
        Tensor kl = null;
        if (klOn) {
            Tensor refs = torch.where(valid, ref, zero);
            Tensor delta = clamp(refs.sub(xs), cfg.klClamp());
            switch (cfg.klEstimator()) {
                case K1: kl = delta.neg(); break;
                case K2: kl = delta.square().mul(new Scalar(0.5)); break;
                default:
                    kl = clamp(delta.exp().sub(delta).sub(new Scalar(1.0)), cfg.k3Clamp());
            }
            if (lambda != null) {
                kl = kl.mul(torch.where(valid, lambda, zero));
            }
            klLoss = kl.mul(tokenWeights(cfg.klAggregation(), in.denominators(), rowValid, validF)).sum();
            loss = loss.add(klLoss.mul(new Scalar(cfg.klBeta())));
        }
        Tensor entropyLoss = null;
        if (hs != null) {
            entropyLoss = hs.mul(pgWeight).sum();
            loss = loss.sub(entropyLoss.mul(new Scalar(cfg.entropyCoef())));
        }

        TensorVector leaves = h == null ? new TensorVector(x) : new TensorVector(x, h);
        TensorVector grads = torch.grad(new TensorVector(loss), leaves, new TensorVector(), new BoolOptional(false),
                false, true);
        Tensor gradLogp = grads.get(0).defined() ? grads.get(0) : torch.zeros_like(x);
        Tensor gradEntropy = h == null ? null : (grads.get(1).defined() ? grads.get(1) : torch.zeros_like(h));

        Tensor rhoDetached = rho.detach();
        Tensor large = adv.abs().ge(new Scalar(cfg.clipfracAdvSplit())).logical_and(valid);
        Tensor pos = adv.gt(new Scalar(0)).logical_and(valid);
        Tensor neg = adv.lt(new Scalar(0)).logical_and(valid);
        ClipClasses classes = new ClipClasses(pos.sum().item_long(), neg.sum().item_long(),
                pos.logical_and(large).sum().item_long(), neg.logical_and(large).sum().item_long(),
                clipUpper.logical_and(large).sum().item_long(), clipLower.logical_and(large).sum().item_long());
        PolicyLossMetrics metrics = new PolicyLossMetrics(
                loss.item_double(),
                pgLoss.item_double(),
                klLoss == null ? 0.0 : klLoss.item_double(),
                entropyLoss == null ? 0.0 : entropyLoss.item_double(),
                valid.sum().item_long(),
                clipUpper.sum().item_long(),
                clipLower.sum().item_long(),
                dual.sum().item_long(),
                old.sub(xs.detach()).mul(validF).sum().item_double(),
                kl == null ? 0.0 : kl.detach().mul(validF).sum().item_double(),
                epsHigh.mul(validF).sum().item_double(),
                rhoDetached.mul(validF).sum().item_double(),
                hs == null ? 0.0 : hs.detach().sum().item_double(),
                nonFinite,
                h != null,
                classes);
        if (in.gradLogpOut() != null) {
            gradLogp = in.gradLogpOut().copy_(gradLogp);
        }
        if (gradEntropy != null && in.gradEntropyOut() != null) {
            gradEntropy = in.gradEntropyOut().copy_(gradEntropy);
        }
        return new PolicyLossResult(loss.item_double(), gradLogp, gradEntropy, metrics, false);
    }

    /** clamp(v, -c, c); autograd gives 0 gradient outside, as the kernel does. */
    private static Tensor clamp(Tensor v, double c) {
        return torch.clamp(v, new ScalarOptional(new Scalar(-c)), new ScalarOptional(new Scalar(c)));
    }

    /** eps_high per token: constant, or AAAC's eps_min + (eps_max - eps_min) * normalized A. */
    private static Tensor epsHigh(Tensor adv, PolicyLossConfig cfg, ClipMode clip, AdvantageStats stats) {
        if (clip != ClipMode.AAAC) {
            return torch.full_like(adv, new Scalar(cfg.epsHigh()));
        }
        Tensor normalized;
        if (cfg.aaacNormalization() == AaacNormalization.MINMAX) {
            double range = stats.max() - stats.min();
            normalized = range > 0 ? adv.sub(new Scalar(stats.min())).div(new Scalar(range))
                    : torch.full_like(adv, new Scalar(0.5));
        } else if (stats.std() > 0) {
            // Phi(z) = erfc(-z / sqrt 2) / 2
            Tensor z = adv.sub(new Scalar(stats.mean())).div(new Scalar(stats.std()));
            normalized = torch.erfc(z.neg().div(new Scalar(Math.sqrt(2.0)))).mul(new Scalar(0.5));
        } else {
            normalized = torch.full_like(adv, new Scalar(0.5));
        }
        return normalized.mul(new Scalar(cfg.aaacEpsMax() - cfg.aaacEpsMin())).add(new Scalar(cfg.aaacEpsMin()));
    }

    /** Aggregation weight of each token: valid / denom, or valid / (denom * L_i) for seq-mean-token-mean. */
    private static Tensor tokenWeights(Aggregation mode, Denominators d, Tensor rowValid, Tensor validF) {
        double denom = d.forMode(mode);
        if (mode == Aggregation.SEQ_MEAN_TOKEN_MEAN) {
            Tensor perRow = torch.where(rowValid.gt(new Scalar(0)),
                    rowValid.mul(new Scalar(denom)).reciprocal(), torch.zeros_like(rowValid));
            return validF.mul(perRow.unsqueeze(1));
        }
        return validF.div(new Scalar(denom));
    }
}
