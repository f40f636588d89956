package io.vlmrl.qwen;

import io.vlmrl.nn.AttentionKv;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The Qwen2 decoder ({@code model.*}): token embedding {@code embed_tokens}, decoder layers with
 * M-RoPE ({@link QwenDecoderLayer}), and the final RMSNorm {@code norm}. The LM head lives in
 * {@link QwenVlModel} (it is {@code lm_head.weight}, or {@code embed_tokens.weight} when tied).
 *
 * <p>It works on embeddings rather than ids so that image tokens can be spliced in, and takes
 * explicit positions and an attention mask so that padding never shifts a sequence.
 */
public final class QwenLanguageModel extends Module {
    private final QwenVlConfig.Text config;
    private final Tensor embedTokens; // [V, D]
    private final QwenDecoderLayer[] layers;
    private final QwenNorm norm;
    private final Module embedScope, layerList; // containers, kept reachable (see QwenVisionBlock)

    QwenLanguageModel(QwenVlConfig.Text config) {
        this.config = config;
        embedScope = register_module("embed_tokens", new Module());
        embedTokens = QwenTensors.parameter(embedScope, "weight", config.vocabSize(), config.hiddenSize());
        layerList = register_module("layers", new Module());
        layers = new QwenDecoderLayer[config.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = layerList.register_module(Integer.toString(i), new QwenDecoderLayer(config));
        }
        norm = register_module("norm", QwenNorm.rms(config.hiddenSize(), config.rmsNormEps()));
    }

    public QwenVlConfig.Text config() {
        return config;
    }

    /** The token embedding matrix [V, D]. */
    public Tensor embedTokensWeight() {
        return embedTokens;
    }

    /** ids [B, L] int64 -> embeddings [B, L, D]. */
    public Tensor embed(Tensor ids) {
        return torch.embedding(embedTokens, ids);
    }

    /**
     * Runs the decoder layers and the final norm.
     *
     * @param embeds    [B, L, D]
     * @param positions [3, B, L] int64 M-RoPE positions
     * @param mask      [B, 1, L, Lk] bool, true where a query may attend a key (Lk = cached + L)
     * @param cache     KV cache to read and extend, or null
     * @param probe     receives {@code lm.layer_out.<i>} and {@code lm.final_norm_out}, or null
     * @return hidden states [B, L, D] after the final norm
     */
    Tensor forward(Tensor embeds, Tensor positions, Tensor mask, AttentionKv cache, QwenProbe probe) {
        Tensor[] cs = QwenRotary.mropeCosSin(positions, config.headDim(), config.ropeTheta(), config.mropeSection());
        Tensor x = embeds;
        Tensor cos = cs[0].to(x.scalar_type()), sin = cs[1].to(x.scalar_type());
        for (int i = 0; i < layers.length; i++) {
            x = layers[i].forward(x, cos, sin, mask, cache, i);
            QwenProbe.record(probe, "lm.layer_out." + i, x);
        }
        if (cache != null) {
            cache.advance(embeds.size(1));
        }
        Tensor out = norm.forward(x);
        QwenProbe.record(probe, "lm.final_norm_out", out);
        return out;
    }
}
