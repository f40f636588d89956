package io.vlmrl.qwen;

import io.vlmrl.hf.SafeTensorsFile;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** What training needs of the model: gradients reach every part, copies are independent, frozen copies take none. */
class QwenVlModelTest {
    private static QwenVlModel model;

    @BeforeAll
    static void load() throws IOException {
        model = QwenCheckpoint.load(QwenFixture.float32());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void gradientsReachTheVisionTowerAndTheLanguageModel() throws IOException {
        QwenVlModel trainable = model.copy(); // models are built outside any PointerScope
        try (PointerScope scope = new PointerScope(); SafeTensorsFile ref = QwenFixture.references(QwenFixture.float32())) {
            try {
                Tensor logits = trainable.logits(trainable.forward(ref.read("case1.input_ids"), null,
                        ref.read("image_a.pixel_values"), ref.read("case1.image_grid_thw")));
                torch.log_softmax(logits, -1).select(2, 7).sum().backward();
                Map<String, Tensor> params = trainable.namedParameters();
                for (String name : new String[] {"visual.patch_embed.proj.weight", "visual.blocks.0.attn.qkv.weight",
                        "visual.merger.mlp.2.bias", "model.embed_tokens.weight", "model.layers.2.mlp.down_proj.weight",
                        "model.norm.weight"}) {
                    Tensor grad = params.get(name).grad();
                    assertTrue(grad.defined(), name + " has a gradient");
                    assertTrue(grad.abs().sum().item_double() > 0, name + " has a nonzero gradient");
                }
            } finally {
                trainable.close();
            }
        }
    }

    @Test
    void copiesAreIndependentAndFrozenCopiesTakeNoGradient() {
        QwenVlModel copy = model.copy().freeze();
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Map<String, Tensor> a = model.namedParameters(), b = copy.namedParameters();
            for (String name : a.keySet()) {
                assertTrue(torch.equal(a.get(name), b.get(name)), name);
                assertFalse(b.get(name).requires_grad(), name + " frozen");
                assertTrue(a.get(name).requires_grad(), name + " of the original still trainable");
            }
            b.get("model.norm.weight").fill_(new Scalar(3.0));
            assertFalse(torch.equal(a.get("model.norm.weight"), b.get("model.norm.weight")));
            assertTrue(torch.equal(copy.lmHeadWeight(), b.get("model.embed_tokens.weight")), "the copy's head is its own embedding");
        } finally {
            copy.close();
        }
    }
}
