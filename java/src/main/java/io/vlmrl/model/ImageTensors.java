package io.vlmrl.model;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Converts images to the model's input tensor: float32, shape [B, 3, H, W], channels in RGB
 * order, values in [0, 1] (pixel value / 255). No mean/std normalisation: the model's patch
 * embedding learns its own scale.
 */
public final class ImageTensors {
    private ImageTensors() {
    }

    /**
     * {@code source} as a size x size RGB image, scaled with bilinear interpolation (the aspect
     * ratio is not kept); returned unchanged when it already is size x size, so that the built-in
     * task's images reach the model exactly as rendered.
     */
    public static BufferedImage resize(BufferedImage source, int size) {
        if (source.getWidth() == size && source.getHeight() == size) {
            return source;
        }
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(source, 0, 0, size, size, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    /** All images must have the same width and height. */
    public static Tensor toTensor(List<BufferedImage> images) {
        float[] data = toFloats(images);
        BufferedImage first = images.get(0);
        return Tensor.create(data, images.size(), 3, first.getHeight(), first.getWidth());
    }

    /** The values of {@link #toTensor} as a flat array in [B, 3, H, W] order. */
    public static float[] toFloats(List<BufferedImage> images) {
        if (images == null || images.isEmpty()) {
            throw new IllegalArgumentException("images must contain at least one image, got "
                    + (images == null ? "null" : "an empty list"));
        }
        int height = images.get(0).getHeight();
        int width = images.get(0).getWidth();
        int plane = height * width;
        float[] out = new float[images.size() * 3 * plane];
        int[] rgb = new int[plane];
        for (int b = 0; b < images.size(); b++) {
            BufferedImage image = images.get(b);
            if (image.getHeight() != height || image.getWidth() != width) {
                throw new IllegalArgumentException("images[" + b + "] is " + image.getWidth() + "x" + image.getHeight()
                        + ", expected " + width + "x" + height + " like images[0]");
            }
            image.getRGB(0, 0, width, height, rgb, 0, width);
            int base = b * 3 * plane;
            for (int p = 0; p < plane; p++) {
                int pixel = rgb[p];
                out[base + p] = ((pixel >> 16) & 0xff) / 255f;
                out[base + plane + p] = ((pixel >> 8) & 0xff) / 255f;
                out[base + 2 * plane + p] = (pixel & 0xff) / 255f;
            }
        }
        return out;
    }
}
