package io.vlmrl.qwen;

import io.vlmrl.hf.SafeDtype;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static io.vlmrl.qwen.QwenFixture.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The Qwen2-VL variant (no fixture from transformers): its hub parameter names, its vision tower
 * against an independent re-implementation (Conv3d, hand-written LayerNorm, QuickGELU, softmax
 * attention with a block-diagonal mask, rotary tables in double), frame positions in M-RoPE, and a
 * save/load round trip.
 */
class Qwen2VlVariantTest {
    private static final String CONFIG = """
            {"model_type": "qwen2_vl", "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2,
             "num_hidden_layers": 2, "intermediate_size": 96, "vocab_size": 1024, "rms_norm_eps": 1e-6,
             "tie_word_embeddings": true, "image_token_id": 1012, "video_token_id": 1013,
             "vision_start_token_id": 1009, "vision_end_token_id": 1010,
             "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]},
             "vision_config": {"depth": 2, "embed_dim": 32, "num_heads": 2, "mlp_ratio": 2, "hidden_size": 64,
                               "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2}}""";
    private static QwenVlModel model;

    @BeforeAll
    static void build() {
        model = new QwenVlModel(QwenVlConfig.parse(CONFIG, "qwen2-vl-tiny"));
        torch.manual_seed(5);
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : model.namedParameters().entrySet()) {
                Tensor p = e.getValue();
                boolean norm = e.getKey().contains("norm") || e.getKey().contains("ln_q");
                Tensor noise = torch.randn(QwenTensors.shape(p));
                if (norm && e.getKey().endsWith("weight")) {
                    p.copy_(noise.mul(new Scalar(0.1)).add(new Scalar(1.0)));
                } else {
                    p.copy_(noise.mul(new Scalar(p.dim() >= 2 ? 1.0 / Math.sqrt(p.size(p.dim() - 1)) : 0.1)));
                }
            }
        }
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void parameterNamesAreQwen2VlHubNames() {
        Set<String> names = new TreeSet<>(model.namedParameters().keySet());
        for (String expected : new String[] {"visual.patch_embed.proj.weight", "visual.blocks.1.norm1.weight",
                "visual.blocks.1.norm1.bias", "visual.blocks.1.norm2.bias", "visual.blocks.1.attn.qkv.weight",
                "visual.blocks.1.attn.proj.bias", "visual.blocks.1.mlp.fc1.weight", "visual.blocks.1.mlp.fc2.bias",
                "visual.merger.ln_q.weight", "visual.merger.ln_q.bias", "visual.merger.mlp.0.weight", "visual.merger.mlp.2.bias",
                "model.embed_tokens.weight", "model.layers.1.self_attn.q_proj.bias", "model.norm.weight"}) {
            assertTrue(names.contains(expected), expected + " in " + names);
        }
        assertTrue(names.stream().noneMatch(n -> n.contains("gate_proj") && n.startsWith("visual.")));
        assertArrayEquals(new long[] {64, 128}, QwenTensors.shape(model.namedParameters().get("visual.merger.mlp.2.weight")));
        assertArrayEquals(new long[] {64, 32}, QwenTensors.shape(model.namedParameters().get("visual.blocks.0.mlp.fc1.weight")));
    }

    @Test
    void visionTowerMatchesAnIndependentImplementation() {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            long[][] grids = {{1, 4, 6}, {1, 2, 4}};
            int n = 24 + 8;
            Tensor pixels = torch.randn(n, 1176);
            Tensor actual = model.encodeImages(pixels, grids, null);
            Tensor expected = reference(pixels, grids);
            double diff = maxAbsDiff(actual, expected);
            assertTrue(diff < 1e-5, "Qwen2-VL vision tower vs independent reference: " + diff);
            assertArrayEquals(new long[] {8, 64}, QwenTensors.shape(actual));
        }
    }

    private static Tensor reference(Tensor pixels, long[][] grids) {
        Map<String, Tensor> w = model.namedParameters();
        int n = (int) pixels.size(0), width = 32, heads = 2, hd = 16;
        Tensor x = torch.conv3d(pixels.view(n, 3, 2, 14, 14), w.get("visual.patch_embed.proj.weight"), new TensorOptional(),
                new long[] {2, 14, 14}, new long[] {0, 0, 0}, new long[] {1, 1, 1}, 1).view(n, width);
        // rotary tables in double; patches in merge order (2x2 groups contiguous)
        float[] cos = new float[n * hd], sin = new float[n * hd]; // double math, rounded once
        boolean[] sameImage = new boolean[n * n];
        int p = 0, start = 0;
        for (long[] grid : grids) {
            int h = (int) grid[1], wd = (int) grid[2];
            for (int by = 0; by < h / 2; by++) {
                for (int bx = 0; bx < wd / 2; bx++) {
                    for (int dy = 0; dy < 2; dy++) {
                        for (int dx = 0; dx < 2; dx++, p++) {
                            int[] rc = {by * 2 + dy, bx * 2 + dx};
                            for (int half = 0; half < 2; half++) {
                                for (int axis = 0; axis < 2; axis++) {
                                    for (int i = 0; i < hd / 4; i++) {
                                        double angle = rc[axis] / Math.pow(10000.0, 2.0 * i / (hd / 2.0));
                                        int col = half * hd / 2 + axis * hd / 4 + i;
                                        cos[p * hd + col] = (float) Math.cos(angle);
                                        sin[p * hd + col] = (float) Math.sin(angle);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            int size = h * wd;
            for (int i = start; i < start + size; i++) {
                for (int j = start; j < start + size; j++) {
                    sameImage[i * n + j] = true;
                }
            }
            start += size;
        }
        Tensor cosT = QwenTensors.floats(cos, new Device("cpu"), n, 1, hd);
        Tensor sinT = QwenTensors.floats(sin, new Device("cpu"), n, 1, hd);
        Tensor allowed = QwenTensors.bools(sameImage, new Device("cpu"), n, n);
        for (int b = 0; b < 2; b++) {
            String pre = "visual.blocks." + b + ".";
            Tensor h = layerNorm(x, w.get(pre + "norm1.weight"), w.get(pre + "norm1.bias"));
            Tensor qkv = h.matmul(w.get(pre + "attn.qkv.weight").t()).add(w.get(pre + "attn.qkv.bias")).view(n, 3, heads, hd);
            Tensor q = rotate(qkv.select(1, 0), cosT, sinT), k = rotate(qkv.select(1, 1), cosT, sinT), v = qkv.select(1, 2);
            Tensor scores = q.transpose(0, 1).matmul(k.transpose(0, 1).transpose(1, 2)).div(new Scalar(Math.sqrt(hd)));
            scores = scores.masked_fill(allowed.logical_not(), new Scalar(Double.NEGATIVE_INFINITY));
            Tensor attn = torch.softmax(scores, -1).matmul(v.transpose(0, 1)).transpose(0, 1).reshape(n, width);
            x = x.add(attn.matmul(w.get(pre + "attn.proj.weight").t()).add(w.get(pre + "attn.proj.bias")));
            Tensor m = layerNorm(x, w.get(pre + "norm2.weight"), w.get(pre + "norm2.bias"));
            Tensor f = m.matmul(w.get(pre + "mlp.fc1.weight").t()).add(w.get(pre + "mlp.fc1.bias"));
            f = f.mul(torch.sigmoid(f.mul(new Scalar(1.702))));
            x = x.add(f.matmul(w.get(pre + "mlp.fc2.weight").t()).add(w.get(pre + "mlp.fc2.bias")));
        }
        Tensor merged = layerNorm(x, w.get("visual.merger.ln_q.weight"), w.get("visual.merger.ln_q.bias")).reshape(n / 4, 4 * width);
        Tensor hidden = merged.matmul(w.get("visual.merger.mlp.0.weight").t()).add(w.get("visual.merger.mlp.0.bias"));
        hidden = hidden.mul(torch.erf(hidden.div(new Scalar(Math.sqrt(2.0)))).add(new Scalar(1.0))).mul(new Scalar(0.5));
        return hidden.matmul(w.get("visual.merger.mlp.2.weight").t()).add(w.get("visual.merger.mlp.2.bias"));
    }

    private static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias) {
        Tensor mean = x.mean(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        Tensor centered = x.sub(mean);
        Tensor var = centered.mul(centered).mean(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        return centered.div(var.add(new Scalar(1e-6)).sqrt()).mul(weight).add(bias);
    }

    private static Tensor rotate(Tensor x, Tensor cos, Tensor sin) {
        long half = x.size(-1) / 2;
        Tensor rotated = torch.cat(new TensorVector(x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)), -1);
        return x.mul(cos).add(rotated.mul(sin));
    }

    @Test
    void framesOfAnImageAdvanceTheTemporalPosition() {
        // Qwen2-VL: t' = frame index; Qwen2.5-VL images: t' = 0 for every frame
        long[] ids = {5, 1009, 1012, 1012, 1010, 6};
        long[][] grid = {{2, 2, 2}};
        QwenRopeIndex.Result r = QwenRopeIndex.compute(model.config(), new long[][] {ids}, null, grid);
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5}, r.positions()[0][0]);
        assertArrayEquals(new long[] {0, 1, 2, 2, 4, 5}, r.positions()[1][0]);
        assertArrayEquals(new long[] {0, 1, 2, 2, 4, 5}, r.positions()[2][0]);
        QwenVlConfig q25 = QwenVlConfig.parse(CONFIG.replace("\"qwen2_vl\"", "\"qwen2_5_vl\"")
                .replace("\"embed_dim\": 32", "\"hidden_size\": 32, \"out_hidden_size\": 64, \"window_size\": 56")
                .replace("\"mlp_ratio\": 2, \"hidden_size\": 64,", "\"fullatt_block_indexes\": [1],"), "q25");
        QwenRopeIndex.Result r25 = QwenRopeIndex.compute(q25, new long[][] {ids}, null, grid);
        assertArrayEquals(new long[] {0, 1, 2, 2, 3, 4}, r25.positions()[0][0]);
    }

    @Test
    void saveAndLoadRoundTrip(@TempDir Path tmp) throws IOException {
        QwenCheckpoint.save(model, tmp, SafeDtype.F32, 100_000);
        QwenVlModel back = QwenCheckpoint.load(tmp);
        try (PointerScope scope = new PointerScope()) {
            assertEquals("qwen2_vl", back.config().modelType());
            Map<String, Tensor> a = model.namedParameters(), b = back.namedParameters();
            assertEquals(a.keySet(), b.keySet());
            for (String name : a.keySet()) {
                assertTrue(torch.equal(a.get(name), b.get(name)), name);
            }
        } finally {
            back.close();
        }
    }
}
