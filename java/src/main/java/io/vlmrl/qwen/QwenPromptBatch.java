package io.vlmrl.qwen;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;

import java.util.List;

/**
 * Prompts left-padded into one batch, as both the generator's prefill and the training forward
 * run them: ids and attention mask [N, P] (padding id 0, mask 0), the grids of their images in
 * prompt order, and those images' tokens from one vision-tower pass (null when no prompt has an
 * image). The tensors belong to the caller's {@code PointerScope}.
 */
record QwenPromptBatch(Tensor ids, Tensor mask, long[][] grids, Tensor imageEmbeds, int length) {

    static QwenPromptBatch of(List<QwenPrompt> prompts, QwenVlModel model) {
        int n = prompts.size();
        int length = 0;
        long patches = 0;
        int images = 0;
        for (QwenPrompt prompt : prompts) {
            length = Math.max(length, prompt.length());
            patches += prompt.numPatches();
            images += prompt.gridThw().length;
        }
        long[] ids = new long[n * length];
        long[] mask = new long[n * length];
        long[][] grids = new long[images][];
        int patchValues = model.config().vision().patchValues();
        float[] pixels = new float[Math.toIntExact(patches * patchValues)];
        int gi = 0, pixelAt = 0;
        for (int i = 0; i < n; i++) {
            QwenPrompt prompt = prompts.get(i);
            long[] promptIds = prompt.ids();
            int pad = length - promptIds.length;
            System.arraycopy(promptIds, 0, ids, i * length + pad, promptIds.length);
            java.util.Arrays.fill(mask, i * length + pad, (i + 1) * length, 1L);
            for (long[] grid : prompt.gridThw()) {
                grids[gi++] = grid;
            }
            float[] values = prompt.pixelValues();
            if (values.length != prompt.numPatches() * patchValues) {
                throw new IllegalArgumentException("prompt " + i + " has " + values.length + " pixel values, expected "
                        + prompt.numPatches() + " patches × " + patchValues);
            }
            System.arraycopy(values, 0, pixels, pixelAt, values.length);
            pixelAt += values.length;
        }
        Device device = model.device();
        Tensor imageEmbeds = patches == 0 ? null
                : model.encodeImages(QwenTensors.floats(pixels, device, patches, patchValues), grids, null);
        return new QwenPromptBatch(QwenTensors.longs(ids, device, n, length), QwenTensors.longs(mask, device, n, length),
                grids, imageEmbeds, length);
    }
}
