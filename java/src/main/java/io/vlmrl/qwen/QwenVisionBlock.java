package io.vlmrl.qwen;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One pre-norm vision transformer block: {@code x + attn(norm1(x))}, then {@code x + mlp(norm2(x))}.
 *
 * <ul>
 *   <li>Qwen2.5-VL: RMSNorm (eps 1e-6), SwiGLU MLP with biases
 *       ({@code down_proj(act(gate_proj(h)) · up_proj(h))}).</li>
 *   <li>Qwen2-VL: LayerNorm (eps 1e-6), {@code fc2(act(fc1(h)))} (QuickGELU by default).</li>
 * </ul>
 * Attention: one {@code qkv} projection with bias, 2-D rotary on queries and keys, attention within
 * segments (windows or whole frames, see {@link QwenSegmentAttention}), {@code proj} with bias.
 * Parameter names follow the hub: {@code norm1, norm2, attn.qkv, attn.proj, mlp.*}.
 */
final class QwenVisionBlock extends Module {
    private final int heads, headDim;
    private final String act;
    private final QwenNorm norm1, norm2;
    private final QwenLinear qkv, proj;
    private final QwenLinear gateProj, upProj, downProj; // Qwen2.5-VL
    private final QwenLinear fc1, fc2;                   // Qwen2-VL
    // Plain Module containers created from Java must stay reachable from a Java field: their C++ side
    // calls back into the Java object, which the GC would otherwise free.
    private final Module attn, mlp;

    QwenVisionBlock(QwenVlConfig.Vision c) {
        heads = c.numHeads();
        headDim = c.headDim();
        act = c.hiddenAct();
        long w = c.width();
        norm1 = register_module("norm1", c.windowed() ? QwenNorm.rms(w, 1e-6) : QwenNorm.layer(w, 1e-6));
        norm2 = register_module("norm2", c.windowed() ? QwenNorm.rms(w, 1e-6) : QwenNorm.layer(w, 1e-6));
        attn = register_module("attn", new Module());
        qkv = attn.register_module("qkv", new QwenLinear(w, 3 * w, true));
        proj = attn.register_module("proj", new QwenLinear(w, w, true));
        mlp = register_module("mlp", new Module());
        if (c.windowed()) {
            gateProj = mlp.register_module("gate_proj", new QwenLinear(w, c.intermediateSize(), true));
            upProj = mlp.register_module("up_proj", new QwenLinear(w, c.intermediateSize(), true));
            downProj = mlp.register_module("down_proj", new QwenLinear(c.intermediateSize(), w, true));
            fc1 = fc2 = null;
        } else {
            fc1 = mlp.register_module("fc1", new QwenLinear(w, c.intermediateSize(), true));
            fc2 = mlp.register_module("fc2", new QwenLinear(c.intermediateSize(), w, true));
            gateProj = upProj = downProj = null;
        }
    }

    /** x [N, width]; cos/sin [N, headDim]; segments over the N positions. */
    Tensor forward(Tensor x, Tensor cos, Tensor sin, QwenSegmentAttention segments) {
        long n = x.size(0);
        Tensor qkvOut = qkv.forward(norm1.forward(x)).view(n, 3, heads, headDim);
        Tensor c = cos.unsqueeze(1), s = sin.unsqueeze(1);                    // [N, 1, hd]
        // rotary in float32, cast back (apply_rotary_pos_emb_vision)
        torch.ScalarType dtype = x.scalar_type();
        Tensor q = QwenRotary.apply(qkvOut.select(1, 0).to(torch.ScalarType.Float), c, s).to(dtype); // [N, H, hd]
        Tensor k = QwenRotary.apply(qkvOut.select(1, 1).to(torch.ScalarType.Float), c, s).to(dtype);
        Tensor v = qkvOut.select(1, 2);
        x = x.add(proj.forward(segments.attend(q, k, v)));
        Tensor h = norm2.forward(x);
        Tensor m = fc1 != null
                ? fc2.forward(QwenActivation.apply(act, fc1.forward(h)))
                : downProj.forward(QwenActivation.apply(act, gateProj.forward(h)).mul(upProj.forward(h)));
        return x.add(m);
    }
}
