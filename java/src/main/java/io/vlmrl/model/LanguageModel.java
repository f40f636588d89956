package io.vlmrl.model;

import io.vlmrl.nn.AttentionKv;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * The causal decoder (Qwen2 in miniature): token embedding, pre-norm decoder layers (RMSNorm,
 * grouped-query attention with RoPE, SwiGLU MLP), final RMSNorm, and an LM head that can share the
 * embedding matrix.
 *
 * <p>It works on embeddings, not ids, so that image tokens can be spliced in by the caller
 * ({@link VisionLanguageModel}), and it takes an explicit attention mask and positions so that left
 * padding never shifts a sequence's positions.
 */
public final class LanguageModel extends Module {
    private final VlmConfig config;
    private final Tensor embedTokens;   // [V, D]
    private final DecoderLayer[] layers;
    private final RmsNorm norm;
    private final Tensor lmHead;        // [V, D]; the same tensor as embedTokens when tied
    // Plain Module containers created from Java must stay reachable from a Java field: their
    // C++ side calls back into the Java object (e.g. Module.train), which the GC would free.
    private final Module modelScope, embedScope, layerList, headScope;

    LanguageModel(VlmConfig config, Init init) {
        this.config = config;
        modelScope = register_module("model", new Module());
        Module model = modelScope;
        embedScope = model.register_module("embed_tokens", new Module());
        embedTokens = Tensors.parameter(embedScope, "weight",
                init.normal(config.initStd(), config.vocabSize(), config.hiddenSize()));
        layerList = model.register_module("layers", new Module());
        layers = new DecoderLayer[config.numLayers()];
        double residualStd = config.initStd() / Math.sqrt(2.0 * config.numLayers());
        for (int i = 0; i < layers.length; i++) {
            layers[i] = layerList.register_module(Integer.toString(i), new DecoderLayer(config, init, residualStd));
        }
        norm = model.register_module("norm", new RmsNorm(config.hiddenSize(), config.rmsNormEps(), init));
        headScope = config.tieEmbeddings() ? null : register_module("lm_head", new Module());
        lmHead = config.tieEmbeddings() ? embedTokens
                : Tensors.parameter(headScope, "weight",
                        init.normal(config.initStd(), config.vocabSize(), config.hiddenSize()));
    }

    /** ids [B, L] int64 -> embeddings [B, L, D]. */
    public Tensor embed(Tensor ids) {
        return torch.embedding(embedTokens, ids);
    }

    /** The LM head matrix [V, D] (the embedding matrix when embeddings are tied). */
    public Tensor lmHeadWeight() {
        return lmHead;
    }

    /** hidden [..., D] -> logits [..., V]. */
    public Tensor logits(Tensor hidden) {
        return torch.linear(hidden, lmHead);
    }

    /**
     * Runs the decoder layers and the final norm.
     *
     * @param embeds    [B, L, D] input embeddings
     * @param positions [B, L] int64 RoPE positions
     * @param mask      [B, 1, L, Lk] bool, true where a query may attend to a key (Lk = cached + L)
     * @param cache     keys and values of earlier positions to attend to and extend, or null (then Lk = L)
     * @return hidden states [B, L, D] after the final RMSNorm
     */
    Tensor forward(Tensor embeds, Tensor positions, Tensor mask, AttentionKv cache) {
        Tensor[] cs = Rotary.cosSin1d(positions, config.headDim(), config.ropeTheta());
        Tensor x = embeds;
        for (int i = 0; i < layers.length; i++) {
            x = layers[i].forward(x, cs[0], cs[1], mask, cache, i);
        }
        if (cache != null) {
            cache.advance(embeds.size(1));
        }
        return norm.forward(x);
    }

    /** Pre-norm decoder layer: x + attn(input_layernorm(x)), then x + mlp(post_attention_layernorm(x)). */
    static final class DecoderLayer extends Module {
        private final int heads, kvHeads, headDim;
        private final RmsNorm inputNorm, postAttentionNorm;
        private final Linear qProj, kProj, vProj, oProj, gateProj, upProj, downProj;
        private final Module attn, mlp; // containers, kept reachable (see LanguageModel)

        DecoderLayer(VlmConfig c, Init init, double residualStd) {
            heads = c.numHeads();
            kvHeads = c.numKvHeads();
            headDim = c.headDim();
            long d = c.hiddenSize(), kvWidth = (long) kvHeads * headDim;
            inputNorm = register_module("input_layernorm", new RmsNorm(d, c.rmsNormEps(), init));
            attn = register_module("self_attn", new Module());
            qProj = attn.register_module("q_proj", new Linear(d, d, c.attentionBias(), init, c.initStd()));
            kProj = attn.register_module("k_proj", new Linear(d, kvWidth, c.attentionBias(), init, c.initStd()));
            vProj = attn.register_module("v_proj", new Linear(d, kvWidth, c.attentionBias(), init, c.initStd()));
            oProj = attn.register_module("o_proj", new Linear(d, d, false, init, residualStd));
            postAttentionNorm = register_module("post_attention_layernorm", new RmsNorm(d, c.rmsNormEps(), init));
            mlp = register_module("mlp", new Module());
            gateProj = mlp.register_module("gate_proj", new Linear(d, c.intermediateSize(), false, init, c.initStd()));
            upProj = mlp.register_module("up_proj", new Linear(d, c.intermediateSize(), false, init, c.initStd()));
            downProj = mlp.register_module("down_proj", new Linear(c.intermediateSize(), d, false, init, residualStd));
        }

        Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, AttentionKv cache, int index) {
            x = x.add(attention(inputNorm.forward(x), cos, sin, mask, cache, index));
            Tensor h = postAttentionNorm.forward(x);
            return x.add(downProj.forward(torch.silu(gateProj.forward(h)).mul(upProj.forward(h))));
        }

        private Tensor attention(Tensor x, Tensor cos, Tensor sin, Tensor mask, AttentionKv cache, int index) {
            long b = x.size(0), l = x.size(1);
            Tensor q = qProj.forward(x).view(b, l, heads, headDim).transpose(1, 2);     // [B, H, L, hd]
            Tensor k = kProj.forward(x).view(b, l, kvHeads, headDim).transpose(1, 2);   // [B, Hkv, L, hd]
            Tensor v = vProj.forward(x).view(b, l, kvHeads, headDim).transpose(1, 2);
            q = Rotary.apply(q, cos, sin);
            k = Rotary.apply(k, cos, sin);
            if (cache != null) {
                Tensor[] kv = cache.write(index, k, v);
                k = kv[0];
                v = kv[1];
            }
            if (kvHeads != heads) {
                k = k.repeat_interleave(heads / kvHeads, new org.bytedeco.pytorch.LongOptional(1), new org.bytedeco.pytorch.LongOptional());
                v = v.repeat_interleave(heads / kvHeads, new org.bytedeco.pytorch.LongOptional(1), new org.bytedeco.pytorch.LongOptional());
            }
            Tensor y = torch.scaled_dot_product_attention(q, k, v, new TensorOptional(mask), 0.0, false,
                    new DoubleOptional(), false);
            return oProj.forward(y.transpose(1, 2).reshape(b, l, (long) heads * headDim));
        }
    }
}
