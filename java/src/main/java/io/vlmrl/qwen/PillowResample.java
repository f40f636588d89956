package io.vlmrl.qwen;

/**
 * Pillow's {@code Image.resize(size, Image.BICUBIC)} on 8-bit RGB, ported from
 * {@code src/libImaging/Resample.c} (unchanged from Pillow 9.x through 11.x) so that it gives the same
 * bytes.
 *
 * <p>Why a port: Hugging Face's Qwen2-VL image processor resizes with PIL, and a different bicubic
 * (Java2D, OpenCV, torch) changes pixels by a few levels, which changes {@code pixel_values} and so
 * everything the model computes. The algorithm, as in {@code ImagingResample}:
 * <ul>
 *   <li>separable: a horizontal pass (only over the source rows the vertical pass reads) into an
 *       8-bit intermediate image, then a vertical pass; a pass whose size is unchanged is skipped,
 *       so an unchanged size returns a copy;</li>
 *   <li>antialiased: when shrinking, the filter support (2 for bicubic) is stretched by the
 *       shrink factor, so every output pixel averages all source pixels it covers;</li>
 *   <li>the bicubic kernel with {@code a = -0.5}, centre of output pixel {@code i} at
 *       {@code (i + 0.5) * in / out} in source coordinates, weights normalised to sum 1 in double,
 *       then converted to fixed point with {@code PRECISION_BITS = 32 - 8 - 2 = 22} fractional
 *       bits (rounded half away from zero);</li>
 *   <li>each output sample: {@code 2^21 + sum(sample * weight)} in 32-bit integers, shifted right
 *       by 22 and clipped to 0..255.</li>
 * </ul>
 */
public final class PillowResample {

    /** Fractional bits of the fixed-point weights: 32 bits minus 8 for the sample, 2 for overflow. */
    static final int PRECISION_BITS = 32 - 8 - 2;
    /** Support radius of the bicubic kernel, in source pixels at scale 1. */
    private static final double BICUBIC_SUPPORT = 2.0;
    /** The bicubic kernel's {@code a}, as in Pillow (Keys' kernel with a = -0.5). */
    private static final double A = -0.5;

    private PillowResample() {
    }

    /**
     * Resizes {@code in} to {@code outHeight x outWidth} exactly like Pillow's
     * {@code image.resize((outWidth, outHeight), Image.BICUBIC)} on an {@code "RGB"} image.
     */
    public static RgbImage bicubic(RgbImage in, int outHeight, int outWidth) {
        if (outHeight < 1 || outWidth < 1) {
            throw new IllegalArgumentException("output size must be at least 1x1, got " + outHeight + "x" + outWidth);
        }
        boolean needHorizontal = outWidth != in.width();
        boolean needVertical = outHeight != in.height();
        if (!needHorizontal && !needVertical) {
            return new RgbImage(in.height(), in.width(), in.rgb().clone());
        }
        Coefficients vert = Coefficients.of(in.height(), outHeight);
        // The source rows the vertical pass reads: the horizontal pass computes only those.
        int firstRow = vert.bounds[0];
        int lastRow = vert.bounds[(outHeight - 1) * 2] + vert.bounds[(outHeight - 1) * 2 + 1];

        byte[] src = in.rgb();
        int srcWidth = in.width();
        int rowOffset = 0;
        if (needHorizontal) {
            Coefficients horiz = Coefficients.of(in.width(), outWidth);
            src = horizontal(in.rgb(), in.width(), firstRow, lastRow - firstRow, outWidth, horiz);
            srcWidth = outWidth;
            rowOffset = firstRow;
        }
        if (!needVertical) {
            return new RgbImage(outHeight, outWidth, src);
        }
        return new RgbImage(outHeight, outWidth, vertical(src, srcWidth, rowOffset, outHeight, vert));
    }

    /** Rows {@code firstRow .. firstRow + rows - 1} of {@code in}, each resampled to {@code outWidth}. */
    private static byte[] horizontal(byte[] in, int inWidth, int firstRow, int rows, int outWidth, Coefficients c) {
        byte[] out = new byte[rows * outWidth * 3];
        int half = 1 << (PRECISION_BITS - 1);
        for (int yy = 0; yy < rows; yy++) {
            int inRow = (yy + firstRow) * inWidth * 3;
            int outRow = yy * outWidth * 3;
            for (int xx = 0; xx < outWidth; xx++) {
                int xmin = c.bounds[xx * 2];
                int xmax = c.bounds[xx * 2 + 1];
                int k = xx * c.ksize;
                int ss0 = half;
                int ss1 = half;
                int ss2 = half;
                for (int x = 0; x < xmax; x++) {
                    int p = inRow + (x + xmin) * 3;
                    int w = c.weights[k + x];
                    ss0 += (in[p] & 0xFF) * w;
                    ss1 += (in[p + 1] & 0xFF) * w;
                    ss2 += (in[p + 2] & 0xFF) * w;
                }
                int o = outRow + xx * 3;
                out[o] = clip8(ss0);
                out[o + 1] = clip8(ss1);
                out[o + 2] = clip8(ss2);
            }
        }
        return out;
    }

    /**
     * Resamples the columns of {@code in} (rows counted from {@code rowOffset} of the source image)
     * to {@code outHeight} rows.
     */
    private static byte[] vertical(byte[] in, int width, int rowOffset, int outHeight, Coefficients c) {
        byte[] out = new byte[outHeight * width * 3];
        int half = 1 << (PRECISION_BITS - 1);
        for (int yy = 0; yy < outHeight; yy++) {
            int ymin = c.bounds[yy * 2] - rowOffset;
            int ymax = c.bounds[yy * 2 + 1];
            int k = yy * c.ksize;
            int outRow = yy * width * 3;
            for (int xx = 0; xx < width; xx++) {
                int ss0 = half;
                int ss1 = half;
                int ss2 = half;
                for (int y = 0; y < ymax; y++) {
                    int p = ((y + ymin) * width + xx) * 3;
                    int w = c.weights[k + y];
                    ss0 += (in[p] & 0xFF) * w;
                    ss1 += (in[p + 1] & 0xFF) * w;
                    ss2 += (in[p + 2] & 0xFF) * w;
                }
                int o = outRow + xx * 3;
                out[o] = clip8(ss0);
                out[o + 1] = clip8(ss1);
                out[o + 2] = clip8(ss2);
            }
        }
        return out;
    }

    /** Pillow's {@code clip8}: drop the fraction bits (arithmetic shift) and clamp to 0..255. */
    private static byte clip8(int in) {
        int v = in >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }

    /** Pillow's {@code bicubic_filter}: Keys' cubic convolution kernel with {@code a = -0.5}. */
    static double bicubicFilter(double x) {
        if (x < 0.0) {
            x = -x;
        }
        if (x < 1.0) {
            return ((A + 2.0) * x - (A + 3.0)) * x * x + 1;
        }
        if (x < 2.0) {
            return (((x - 5) * x + 8) * x - 4) * A;
        }
        return 0.0;
    }

    /**
     * The per-output-pixel source window ({@code bounds[2i]} = first source index,
     * {@code bounds[2i+1]} = count) and fixed-point weights ({@code ksize} slots per output pixel) of
     * one axis: Pillow's {@code precompute_coeffs} followed by {@code normalize_coeffs_8bpc}.
     */
    private record Coefficients(int ksize, int[] bounds, int[] weights) {

        static Coefficients of(int inSize, int outSize) {
            // Pillow: box = (0, 0, in_w, in_h) as floats, scale = (in1 - in0) / outSize.
            double scale = (double) ((float) inSize - 0.0f) / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = BICUBIC_SUPPORT * filterScale;
            int ksize = (int) Math.ceil(support) * 2 + 1;
            int[] bounds = new int[outSize * 2];
            double[] kk = new double[outSize * ksize];
            double ss = 1.0 / filterScale;
            for (int xx = 0; xx < outSize; xx++) {
                double center = 0.0 + (xx + 0.5) * scale;
                double ww = 0.0;
                int xmin = (int) (center - support + 0.5);
                if (xmin < 0) {
                    xmin = 0;
                }
                int xmax = (int) (center + support + 0.5);
                if (xmax > inSize) {
                    xmax = inSize;
                }
                xmax -= xmin;
                int k = xx * ksize;
                for (int x = 0; x < xmax; x++) {
                    double w = bicubicFilter((x + xmin - center + 0.5) * ss);
                    kk[k + x] = w;
                    ww += w;
                }
                if (ww != 0.0) {
                    for (int x = 0; x < xmax; x++) {
                        kk[k + x] /= ww;
                    }
                }
                bounds[xx * 2] = xmin;
                bounds[xx * 2 + 1] = xmax;
            }
            int[] weights = new int[kk.length];
            double one = 1 << PRECISION_BITS;
            for (int i = 0; i < kk.length; i++) {
                weights[i] = kk[i] < 0 ? (int) (-0.5 + kk[i] * one) : (int) (0.5 + kk[i] * one);
            }
            return new Coefficients(ksize, bounds, weights);
        }
    }
}
