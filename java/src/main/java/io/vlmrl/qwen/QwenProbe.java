package io.vlmrl.qwen;

import org.bytedeco.pytorch.Tensor;

/**
 * Receives intermediate tensors of a forward pass, for tests and debugging, under the names of the
 * fixture's reference tensors: {@code vision.patch_embed_out}, {@code vision.block_out.<i>} (window
 * order in Qwen2.5-VL), {@code vision.merger_out_window_order}, {@code vision.output},
 * {@code lm.inputs_embeds}, {@code lm.layer_out.<i>}, {@code lm.final_norm_out}. The tensors are
 * the forward pass's own (do not modify them); pass null where no probe is wanted.
 */
@FunctionalInterface
public interface QwenProbe {
    void record(String name, Tensor value);

    /** Calls {@code probe} if it is not null. */
    static void record(QwenProbe probe, String name, Tensor value) {
        if (probe != null) {
            probe.record(name, value);
        }
    }
}
