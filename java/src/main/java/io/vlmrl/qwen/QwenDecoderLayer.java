package io.vlmrl.qwen;

import io.vlmrl.nn.AttentionKv;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * One Qwen2 decoder layer: {@code x + self_attn(input_layernorm(x))}, then
 * {@code x + mlp(post_attention_layernorm(x))}. Attention: q/k/v projections with bias, o_proj
 * without; M-RoPE on q and k; grouped-query attention (query head j reads KV head
 * j / (heads / kvHeads)); scale 1/sqrt(headDim). MLP: SwiGLU without biases. RMSNorm per
 * {@link QwenNorm}. Parameter names follow the hub.
 */
final class QwenDecoderLayer extends Module {
    private final int heads, kvHeads, headDim;
    private final QwenNorm inputNorm, postAttentionNorm;
    private final QwenLinear qProj, kProj, vProj, oProj, gateProj, upProj, downProj;
    private final Module attn, mlp; // containers, kept reachable (see QwenVisionBlock)

    QwenDecoderLayer(QwenVlConfig.Text c) {
        heads = c.numHeads();
        kvHeads = c.numKvHeads();
        headDim = c.headDim();
        long d = c.hiddenSize(), kvWidth = (long) kvHeads * headDim;
        inputNorm = register_module("input_layernorm", QwenNorm.rms(d, c.rmsNormEps()));
        attn = register_module("self_attn", new Module());
        qProj = attn.register_module("q_proj", new QwenLinear(d, (long) heads * headDim, true));
        kProj = attn.register_module("k_proj", new QwenLinear(d, kvWidth, true));
        vProj = attn.register_module("v_proj", new QwenLinear(d, kvWidth, true));
        oProj = attn.register_module("o_proj", new QwenLinear((long) heads * headDim, d, false));
        postAttentionNorm = register_module("post_attention_layernorm", QwenNorm.rms(d, c.rmsNormEps()));
        mlp = register_module("mlp", new Module());
        gateProj = mlp.register_module("gate_proj", new QwenLinear(d, c.intermediateSize(), false));
        upProj = mlp.register_module("up_proj", new QwenLinear(d, c.intermediateSize(), false));
        downProj = mlp.register_module("down_proj", new QwenLinear(c.intermediateSize(), d, false));
    }

    /**
     * @param x     [B, L, D]
     * @param cos   [B, 1, L, headDim] (M-RoPE), and {@code sin} likewise
     * @param mask  [B, 1, L, Lk] bool, true where a query may attend a key
     * @param cache KV cache to extend and read, or null (then Lk = L)
     */
    Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask, AttentionKv cache, int index) {
        x = x.add(attention(inputNorm.forward(x), cos, sin, mask, cache, index));
        Tensor h = postAttentionNorm.forward(x);
        return x.add(downProj.forward(torch.silu(gateProj.forward(h)).mul(upProj.forward(h))));
    }

    private Tensor attention(Tensor x, Tensor cos, Tensor sin, Tensor mask, AttentionKv cache, int index) {
        long b = x.size(0), l = x.size(1);
        Tensor q = qProj.forward(x).view(b, l, heads, headDim).transpose(1, 2);    // [B, H, L, hd]
        Tensor k = kProj.forward(x).view(b, l, kvHeads, headDim).transpose(1, 2);  // [B, Hkv, L, hd]
        Tensor v = vProj.forward(x).view(b, l, kvHeads, headDim).transpose(1, 2);
        q = QwenRotary.apply(q, cos, sin);
        k = QwenRotary.apply(k, cos, sin);
        if (cache != null) {
            Tensor[] kv = cache.write(index, k, v);
            k = kv[0];
            v = kv[1];
        }
        if (kvHeads != heads) {
            k = k.repeat_interleave(heads / kvHeads, new LongOptional(1), new LongOptional());
            v = v.repeat_interleave(heads / kvHeads, new LongOptional(1), new LongOptional());
        }
        Tensor y = torch.scaled_dot_product_attention(q, k, v, new TensorOptional(mask), 0.0, false,
                new DoubleOptional(), false);
        return oProj.forward(y.transpose(1, 2).reshape(b, l, (long) heads * headDim));
    }
}
