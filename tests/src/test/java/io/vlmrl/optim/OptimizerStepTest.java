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
