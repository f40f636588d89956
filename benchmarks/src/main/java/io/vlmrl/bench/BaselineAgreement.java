package io.vlmrl.bench;

import io.vlmrl.kernels.KernelBackend;
import io.vlmrl.kernels.NonFinitePolicy;
import io.vlmrl.kernels.TokenLogProbs;
import io.vlmrl.loss.PolicyLoss;
import io.vlmrl.loss.PolicyLossResult;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Checks, before any timing, that every implementation the benchmarks time computes the same
 * thing on the benchmark's own inputs (smaller sizes): the eager baselines, the library's
 * fused ops and the raw kernel. Otherwise a speed-up would compare different work. run.sh
 * runs it first and stops on a mismatch.
 */
public final class BaselineAgreement {

    private BaselineAgreement() {
    }

    public static void main(String[] args) {
        BenchThreads.configure();
        boolean ok = true;
        for (PolicyLossCase lossCase : PolicyLossCase.values()) {
            ok &= checkPolicyLoss(lossCase);
        }
        for (String dtype : new String[] {"fp32", "bf16"}) {
            ok &= checkTokenLogProbs("64x4096", dtype);
        }
        ok &= checkLmHead("96x64x5000");
        if (!ok) {
            System.err.println("fused kernels and eager baselines disagree: the benchmark would compare different math");
            System.exit(1);
        }
        System.out.println("fused kernels and eager baselines agree");
    }

    private static boolean checkPolicyLoss(PolicyLossCase lossCase) {
        try (PointerScope scope = new PointerScope();
             PolicyLossInputs in = new PolicyLossInputs(64 * PolicyLossInputs.ROW_LEN, 3);
             FusedPolicyLossKernel kernel = new FusedPolicyLossKernel(lossCase, in)) {
            Tensor leaf = in.logp.detach().requires_grad_(true);
            Tensor eagerLoss = EagerPolicyLossBaseline.loss(lossCase, in, leaf);
            eagerLoss.backward();
            double reference = eagerLoss.item_double();
            Tensor referenceGrad = leaf.grad();
            double gradScale = referenceGrad.abs().max().item_double();

            Tensor kernelGrad = torch.empty_like(in.logp);
            double kernelLoss = kernel.run(in.logp, kernelGrad);
            PolicyLossResult library = PolicyLoss.compute(in.forLibrary(lossCase),
                    lossCase.libraryConfig(KernelBackend.FUSED));
            boolean ok = agrees("policy loss " + lossCase.id() + " (raw kernel)", kernelLoss, reference,
                    kernelGrad, referenceGrad, gradScale);
            ok &= agrees("policy loss " + lossCase.id() + " (library fused)", library.loss(), reference,
                    library.gradLogp(), referenceGrad, gradScale);
            return ok;
        }
    }

    /** fp32 per-token math; the eager sum order differs from the kernel's chunked double sums. */
    private static boolean agrees(String what, double loss, double referenceLoss, Tensor grad, Tensor referenceGrad,
                                  double gradScale) {
        double lossDiff = Math.abs(loss - referenceLoss);
        double gradDiff = grad.sub(referenceGrad).abs().max().item_double();
        boolean ok = lossDiff <= 1e-5 * Math.max(1.0, Math.abs(referenceLoss)) && gradDiff <= 1e-5 * gradScale + 1e-12;
        System.out.printf("%-40s loss %.8g vs eager %.8g, max |grad diff| %.3g (max |grad| %.3g) %s%n",
                what, loss, referenceLoss, gradDiff, gradScale, ok ? "ok" : "MISMATCH");
        return ok;
    }

    /** The LM head benchmark's four methods give the same h.grad and W.grad (fp32, chunk 40 of 96 rows). */
    private static boolean checkLmHead(String ndv) {
        try (PointerScope scope = new PointerScope();
             LmHeadInputs in = new LmHeadInputs(ndv, "fp32", 5)) {
            LmHeadLogProbsBenchmark bench = new LmHeadLogProbsBenchmark();
            bench.ndv = ndv;
            bench.dtype = "fp32";
            bench.chunk = 40;
            bench.useInputs(in);
            Tensor[] eager = lmHeadGradients(in, bench::eager);
            double hScale = eager[0].abs().max().item_double();
            double wScale = eager[1].abs().max().item_double();
            boolean ok = true;
            for (String method : new String[] {"fused", "fusedOnePass", "unfused"}) {
                Runnable run = method.equals("fused") ? bench::fused
                        : method.equals("fusedOnePass") ? bench::fusedOnePass : bench::unfused;
                Tensor[] g = lmHeadGradients(in, run::run);
                double dh = g[0].sub(eager[0]).abs().max().item_double();
                double dw = g[1].sub(eager[1]).abs().max().item_double();
                boolean agree = dh <= 1e-4 * hScale && dw <= 1e-4 * wScale;
                System.out.printf("lm head log-probs %s %-12s vs eager: max |dh diff| %.3g (max %.3g), max |dW diff| %.3g "
                        + "(max %.3g) %s%n", ndv, method, dh, hScale, dw, wScale, agree ? "ok" : "MISMATCH");
                ok &= agree;
            }
            return ok;
        }
    }

    private static Tensor[] lmHeadGradients(LmHeadInputs in, Runnable method) {
        in.h.grad().zero_();
        in.w.grad().zero_();
        method.run();
        return new Tensor[] {in.h.grad().clone(), in.w.grad().clone()};
    }

    private static boolean checkTokenLogProbs(String shape, String dtype) {
        try (PointerScope scope = new PointerScope();
             TokenLogProbsInputs in = new TokenLogProbsInputs(shape, dtype, 5)) {
            Tensor fusedGrad = TokenLogProbs.forward(in.logits, in.targets, 1.0, true, NonFinitePolicy.ERROR)
                    .gradLogits(in.gradLogp, in.gradEntropy, false);
            Tensor leaf = in.logits.detach().requires_grad_(true);
            EagerTokenLogProbsBaseline.surrogate(leaf, in).backward();
            Tensor eagerGrad = leaf.grad().to(torch.ScalarType.Float);
            double gradDiff = fusedGrad.to(torch.ScalarType.Float).sub(eagerGrad).abs().max().item_double();
            double gradScale = eagerGrad.abs().max().item_double();
            // bf16 gradients are rounded to 8 mantissa bits on both sides, possibly differently.
            double tolerance = ("bf16".equals(dtype) ? 1e-2 : 1e-4) * gradScale;
            boolean ok = gradDiff <= tolerance;
            System.out.printf("token log-probs %s %s: max |grad diff| %.3g (max |grad| %.3g) %s%n",
                    shape, dtype, gradDiff, gradScale, ok ? "ok" : "MISMATCH");
            return ok;
        }
    }
}
