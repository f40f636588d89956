package io.vlmrl.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vlmrl.model.VisionLanguageModel;
import io.vlmrl.sft.TinyModels;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

class OptimizerStepTest {

    /**
     * Three updates of a matrix (decayed) and a vector (not decayed) against AdamW written out in
     * double precision, with beta1 != beta2 chosen so that swapping them changes every update after
     * the first (the first is sign-like whatever the betas).
     */
    @Test
    void updatesAreAdamWWithTheGivenBetas() {
        double lr = 0.01, wd = 0.1, b1 = 0.8, b2 = 0.95, eps = 1e-8;
        double[][] grads = {{0.5, -1.0, 0.25, 2.0}, {-0.3, 0.7, 1.5, -0.2}, {0.9, 0.1, -0.6, 0.4}};
        Tensor matrix = torch.tensor(new float[] {1f, -2f, 0.5f, 3f}).view(2, 2).requires_grad_(true);
        Tensor vector = torch.tensor(new float[] {1f, -2f, 0.5f, 3f}).requires_grad_(true);
        Map<String, Tensor> params = new java.util.LinkedHashMap<>();
        params.put("matrix", matrix);
        params.put("vector", vector);
        double[] pm = {1, -2, 0.5, 3}, pv = {1, -2, 0.5, 3};
        double[] mm = new double[4], vm = new double[4], mv = new double[4], vv = new double[4];
        try (OptimizerStep step = new OptimizerStep(params, lr, wd, b1, b2, eps, 0.0)) {
            for (int t = 1; t <= grads.length; t++) {
                float[] g = new float[4];
                for (int i = 0; i < 4; i++) g[i] = (float) grads[t - 1][i];
                // d/dp of sum(p * g) is g: the gradients of this update.
                matrix.mul(torch.tensor(g).view(2, 2)).sum().add(vector.mul(torch.tensor(g)).sum()).backward();
                step.apply();
                for (int i = 0; i < 4; i++) {
                    double gi = grads[t - 1][i];
                    pm[i] -= lr * wd * pm[i]; // decoupled weight decay, matrices only
                    mm[i] = b1 * mm[i] + (1 - b1) * gi;
                    vm[i] = b2 * vm[i] + (1 - b2) * gi * gi;
                    pm[i] -= lr * (mm[i] / (1 - Math.pow(b1, t))) / (Math.sqrt(vm[i] / (1 - Math.pow(b2, t))) + eps);
                    mv[i] = b1 * mv[i] + (1 - b1) * gi;
                    vv[i] = b2 * vv[i] + (1 - b2) * gi * gi;
                    pv[i] -= lr * (mv[i] / (1 - Math.pow(b1, t))) / (Math.sqrt(vv[i] / (1 - Math.pow(b2, t))) + eps);
                }
                float[] gotM = new float[4], gotV = new float[4];
                matrix.contiguous().data_ptr_float().get(gotM);
                vector.contiguous().data_ptr_float().get(gotV);
                for (int i = 0; i < 4; i++) {
                    assertEquals(pm[i], gotM[i], 1e-6, "matrix[" + i + "] after update " + t);
                    assertEquals(pv[i], gotV[i], 1e-6, "vector[" + i + "] after update " + t);
                }
            }
        }
    }

    @Test
    void gradientsLeftByEarlierWorkAreNotApplied() {
        VisionLanguageModel model = TinyModels.model(TinyModels.tokenizer(), 5);
        Map<String, Tensor> before = new HashMap<>();
        model.namedParameters().forEach((name, p) -> {
            before.put(name, p.detach().clone());
            // A stale gradient, as a warm start that never zeroed its last step would leave.
            p.mutable_grad().put(torch.ones_like(p));
        });
        try (OptimizerStep step = new OptimizerStep(model.namedParameters(), 0.1, 0.0, 0.9, 0.999, 1e-8, 1.0)) {
            assertEquals(0.0, step.apply(), 0.0, "no backward since construction: nothing to apply");
        }
        model.namedParameters().forEach((name, p) -> assertEquals(0.0,
                p.sub(before.get(name)).abs().max().item_double(), 0.0, name + " moved"));
    }

    @Test
    void matricesDecayAndBiasesAndNormsDoNot() {
        VisionLanguageModel model = TinyModels.model(TinyModels.tokenizer(), 3);
        Map<String, Tensor> before = new HashMap<>();
        model.namedParameters().forEach((name, p) -> {
            before.put(name, p.detach().clone());
            p.mutable_grad().put(torch.zeros_like(p));
        });
        // Zero gradients: AdamW moves a parameter only by its weight decay, lr * wd * p.
        try (OptimizerStep step = new OptimizerStep(model.namedParameters(), 0.1, 0.5, 0.9, 0.999, 1e-8, 0.0)) {
            model.namedParameters().values().forEach(p -> p.mutable_grad().put(torch.zeros_like(p)));
            step.apply();
        }
        model.namedParameters().forEach((name, p) -> {
            double moved = p.sub(before.get(name)).abs().max().item_double();
            if (p.dim() >= 2) {
                double expected = 0.1 * 0.5 * before.get(name).abs().max().item_double();
                assertEquals(expected, moved, 1e-6 + 1e-4 * expected, name + " should decay");
            } else {
                assertEquals(0.0, moved, 0.0, name + " (bias or norm) must not decay");
            }
        });
    }

    @Test
    void rejectsANegativeClipNorm() {
        VisionLanguageModel model = TinyModels.model(TinyModels.tokenizer(), 1);
        var e = assertThrows(IllegalArgumentException.class, () -> new OptimizerStep(model.namedParameters(), 0.1, 0, 0.9, 0.999, 1e-8, -1));
        assertTrue(e.getMessage().contains("maxGradNorm"), e.getMessage());
    }
}
