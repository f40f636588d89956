package io.vlmrl.model;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.vlmrl.model.ModelFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The whole forward pass recomputed independently from the named parameters with plain matrix
 * products: patch embedding as a matmul over unfolded patches (not a convolution), hand-written
 * LayerNorm / RMSNorm / GELU / softmax attention (not the fused ops), RoPE tables in Java double,
 * patch merging by explicit index lists, and the image tokens spliced by concatenation.
 */
class ReferenceForwardTest {
    private static final WordTokenizer TOK = tokenizer();

    @Test
    void modelMatchesAnIndependentReference() {
        for (VlmConfig config : new VlmConfig[] {
                tinyConfig(),
                tinyBuilder(TOK).tieEmbeddings(false).numKvHeads(2).build()}) {
            VisionLanguageModel m = new VisionLanguageModel(config, 13);
            Map<String, Tensor> w = m.namedParameters();
            Tensor pixels = pixels(1, 16, 41);
            long[] prompt = {5, TOK.imagePlaceholderId(), 10, 11};
            long[] response = {20, 21, 22};
            Tensor actual = m.responseLogits(pixels, torch.tensor(prompt).view(1, 4), null, torch.tensor(response).view(1, 3));

            Tensor image = referenceImageTokens(config, w, pixels);                     // [n, D]
            Tensor embed = w.get("language.model.embed_tokens.weight");
            long[] text = {5, 10, 11, 20, 21};                                          // prompt without placeholder + response[:-1]
            Tensor textEmb = embed.index_select(0, torch.tensor(text));
            Tensor seq = torch.cat(new TensorVector(textEmb.narrow(0, 0, 1), image, textEmb.narrow(0, 1, 4)), 0);
            Tensor hidden = referenceDecoder(config, w, seq);
            Tensor head = config.tieEmbeddings() ? embed : w.get("language.lm_head.weight");
            long promptLength = 1 + config.numImageTokens() + 2;
            Tensor expected = hidden.narrow(0, promptLength - 1, 3).matmul(head.t()).unsqueeze(0);
            double diff = maxAbsDiff(actual, expected);
            assertTrue(diff < 2e-5, "model vs reference differ by " + diff + " for " + config);
        }
    }

    private static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias) {
        Tensor mean = x.mean(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        Tensor centered = x.sub(mean);
        Tensor var = centered.mul(centered).mean(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        return centered.div(var.add(new Scalar(1e-6)).sqrt()).mul(weight).add(bias);
    }

    private static Tensor rmsNorm(Tensor x, Tensor weight, double eps) {
        Tensor ms = x.mul(x).mean(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        return x.div(ms.add(new Scalar(eps)).sqrt()).mul(weight);
    }

    private static Tensor gelu(Tensor x) {
        return x.mul(torch.erf(x.div(new Scalar(Math.sqrt(2.0)))).add(new Scalar(1.0))).mul(new Scalar(0.5));
    }

    private static Tensor linear(Map<String, Tensor> w, String name, Tensor x) {
        Tensor y = x.matmul(w.get(name + ".weight").t());
        Tensor bias = w.get(name + ".bias");
        return bias == null ? y : y.add(bias);
    }

    /** softmax(q kᵀ / sqrt(d) + mask) v for q, k, v [H, L, d]; causal when asked. */
    private static Tensor attention(Tensor q, Tensor k, Tensor v, boolean causal) {
        long l = q.size(1);
        Tensor scores = q.matmul(k.transpose(1, 2)).div(new Scalar(Math.sqrt(q.size(2))));
        if (causal) {
            Tensor future = torch.ones(l, l).triu(1).to(torch.ScalarType.Bool);
            scores = scores.masked_fill(future, new Scalar(Float.NEGATIVE_INFINITY));
        }
        Tensor e = scores.sub(scores.amax(new long[] {-1}, true)).exp();
        return e.div(e.sum(new long[] {-1}, true, new org.bytedeco.pytorch.ScalarTypeOptional())).matmul(v);
    }

    /** x [H, L, d] rotated: pair (j, j + d/2) by angle[l][j]. */
    private static Tensor rope(Tensor x, double[][] angle) {
        long h = x.size(0), l = x.size(1), d = x.size(2);
        float[] cos = new float[(int) (l * d)], sin = new float[(int) (l * d)];
        for (int p = 0; p < l; p++) {
            for (int j = 0; j < d / 2; j++) {
                cos[(int) (p * d + j)] = cos[(int) (p * d + j + d / 2)] = (float) Math.cos(angle[p][j]);
                sin[(int) (p * d + j)] = sin[(int) (p * d + j + d / 2)] = (float) Math.sin(angle[p][j]);
            }
        }
        Tensor c = torch.tensor(cos).view(1, l, d), s = torch.tensor(sin).view(1, l, d);
        Tensor first = x.narrow(2, 0, d / 2), second = x.narrow(2, d / 2, d / 2);
        Tensor rotated = torch.cat(new TensorVector(second.neg(), first), 2);
        return x.mul(c).add(rotated.mul(s));
    }

    private static Tensor heads(Tensor x, long heads) {
        long l = x.size(0), d = x.size(1) / heads;
        return x.view(l, heads, d).transpose(0, 1);
    }

    private static Tensor referenceImageTokens(VlmConfig c, Map<String, Tensor> w, Tensor pixels) {
        int p = c.patchSize(), g = c.gridSize(), width = c.visionWidth();
        float[] mean = new float[3], std = new float[3];
        for (int i = 0; i < 3; i++) {
            mean[i] = c.pixelMean().get(i).floatValue();
            std[i] = c.pixelStd().get(i).floatValue();
        }
        Tensor x = pixels.sub(torch.tensor(mean).view(1, 3, 1, 1)).div(torch.tensor(std).view(1, 3, 1, 1));
        // Unfold patches in (channel, row, column) order, matching a convolution kernel [width, C, p, p].
        Tensor patches = x.view(3, g, p, g, p).permute(1, 3, 0, 2, 4).reshape(g * g, 3L * p * p);
        Tensor h = patches.matmul(w.get("visual.patch_embed.weight").view(width, -1).t());
        h = h.add(w.get("visual.pos_embed"));
        for (int i = 0; i < c.visionLayers(); i++) {
            String b = "visual.blocks." + i + ".";
            Tensor a = layerNorm(h, w.get(b + "norm1.weight"), w.get(b + "norm1.bias"));
            Tensor qkv = linear(w, b + "attn.qkv", a);
            Tensor q = heads(qkv.narrow(1, 0, width), c.visionHeads());
            Tensor k = heads(qkv.narrow(1, width, width), c.visionHeads());
            Tensor v = heads(qkv.narrow(1, 2L * width, width), c.visionHeads());
            Tensor o = attention(q, k, v, false).transpose(0, 1).reshape(g * g, width);
            h = h.add(linear(w, b + "attn.proj", o));
            Tensor mlp = linear(w, b + "mlp.fc2", gelu(linear(w, b + "mlp.fc1", layerNorm(h, w.get(b + "norm2.weight"), w.get(b + "norm2.bias")))));
            h = h.add(mlp);
        }
        h = layerNorm(h, w.get("merger.ln_q.weight"), w.get("merger.ln_q.bias"));
        int m = c.mergeSize(), cells = g / m;
        long[] order = new long[g * g];
        int n = 0;
        for (int r = 0; r < cells; r++) {
            for (int col = 0; col < cells; col++) {
                for (int dr = 0; dr < m; dr++) {
                    for (int dc = 0; dc < m; dc++) {
                        order[n++] = (long) (r * m + dr) * g + (col * m + dc);
                    }
                }
            }
        }
        Tensor merged = h.index_select(0, torch.tensor(order)).reshape(cells * cells, (long) m * m * width);
        return linear(w, "merger.mlp.2", gelu(linear(w, "merger.mlp.0", merged)));
    }

    private static Tensor referenceDecoder(VlmConfig c, Map<String, Tensor> w, Tensor h) {
        int l = (int) h.size(0), hd = c.headDim();
        double[][] angle = new double[l][hd / 2];
        for (int p = 0; p < l; p++) {
            for (int j = 0; j < hd / 2; j++) {
                angle[p][j] = p * Math.pow(c.ropeTheta(), -2.0 * j / hd);
            }
        }
        int group = c.numHeads() / c.numKvHeads();
        for (int i = 0; i < c.numLayers(); i++) {
            String b = "language.model.layers." + i + ".";
            Tensor a = rmsNorm(h, w.get(b + "input_layernorm.weight"), c.rmsNormEps());
            Tensor q = rope(heads(linear(w, b + "self_attn.q_proj", a), c.numHeads()), angle);
            Tensor k = rope(heads(linear(w, b + "self_attn.k_proj", a), c.numKvHeads()), angle);
            Tensor v = heads(linear(w, b + "self_attn.v_proj", a), c.numKvHeads());
            // Grouped-query attention: query head j reads key/value head j / group.
            long[] kvIndex = new long[c.numHeads()];
            for (int j = 0; j < kvIndex.length; j++) {
                kvIndex[j] = j / group;
            }
            Tensor idx = torch.tensor(kvIndex);
            Tensor o = attention(q, k.index_select(0, idx), v.index_select(0, idx), true)
                    .transpose(0, 1).reshape(l, c.hiddenSize());
            h = h.add(linear(w, b + "self_attn.o_proj", o));
            Tensor x = rmsNorm(h, w.get(b + "post_attention_layernorm.weight"), c.rmsNormEps());
            Tensor gate = linear(w, b + "mlp.gate_proj", x);
            Tensor swish = gate.mul(gate.sigmoid());
            h = h.add(linear(w, b + "mlp.down_proj", swish.mul(linear(w, b + "mlp.up_proj", x))));
        }
        return rmsNorm(h, w.get("language.model.norm.weight"), c.rmsNormEps());
    }
}
