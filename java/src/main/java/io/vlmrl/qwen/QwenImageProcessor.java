package io.vlmrl.qwen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Qwen2-VL / Qwen2.5-VL image preprocessing, exactly as Hugging Face transformers'
 * {@code Qwen2VLImageProcessor} (v4.49): images to {@code pixel_values} and {@code image_grid_thw}.
 *
 * <p>Steps per image:
 * <ol>
 *   <li>{@link #smartResize}: the size nearest to the original whose sides are multiples of
 *       {@code patch_size * merge_size} (28) and whose area lies in [{@code min_pixels},
 *       {@code max_pixels}];</li>
 *   <li>resize to it with Pillow's bicubic ({@link PillowResample}, the identity when the size is
 *       unchanged);</li>
 *   <li>rescale: {@code (float) (sample * rescale_factor)} with the multiply in double, as numpy
 *       does ({@code astype(float64) * scale}, then {@code astype(float32)});</li>
 *   <li>normalize in float: {@code (x - (float) mean[c]) / (float) std[c]};</li>
 *   <li>patch layout: the still image is repeated into {@code temporal_patch_size} (2) frames; rows
 *       of {@code pixel_values} are ordered {@code (t, h / merge, w / merge, merge, merge)}, so
 *       each merge group of 2x2 patches is contiguous, and columns are ordered
 *       {@code (channel, frame, py, px)}: the flattened Conv3d kernel. That gives
 *       {@code [num_patches, 3 * 2 * 14 * 14 = 1176]} and the grid
 *       {@code (t, h / patch, w / patch)}.</li>
 * </ol>
 * Following this arithmetic makes {@code pixel_values} bit-identical to transformers'.
 *
 * <p>The output ({@link Output}) is plain Java arrays, so this class owns no native memory; several
 * images are concatenated in order, as a prompt with several images needs.
 */
public final class QwenImageProcessor {

    /** The file a Hugging Face model directory keeps this configuration in. */
    public static final String CONFIG_FILE = "preprocessor_config.json";
    /** PIL's {@code Image.BICUBIC}, the only resampling filter this port implements. */
    public static final int RESAMPLE_BICUBIC = 3;
    /** transformers' {@code OPENAI_CLIP_MEAN}, the default {@code image_mean}. */
    private static final double[] OPENAI_CLIP_MEAN = {0.48145466, 0.4578275, 0.40821073};
    /** transformers' {@code OPENAI_CLIP_STD}, the default {@code image_std}. */
    private static final double[] OPENAI_CLIP_STD = {0.26862954, 0.26130258, 0.27577711};
    private static final int CHANNELS = 3;

    private final int patchSize;
    private final int temporalPatchSize;
    private final int mergeSize;
    private final long minPixels;
    private final long maxPixels;
    private final double[] imageMean;
    private final double[] imageStd;
    private final boolean doResize;
    private final int resample;
    private final boolean doRescale;
    private final double rescaleFactor;
    private final boolean doNormalize;
    private final boolean doConvertRgb;

    private QwenImageProcessor(JsonNode config, String source) {
        this.patchSize = positiveInt(config, "patch_size", 14, source);
        this.temporalPatchSize = positiveInt(config, "temporal_patch_size", 2, source);
        this.mergeSize = positiveInt(config, "merge_size", 2, source);
        JsonNode size = config.path("size");
        long min = 56 * 56;
        long max = 28 * 28 * 1280;
        if (size.isObject()) {
            // Newer transformers write size = {shortest_edge: min_pixels, longest_edge: max_pixels}.
            min = size.path("shortest_edge").asLong(size.path("min_pixels").asLong(min));
            max = size.path("longest_edge").asLong(size.path("max_pixels").asLong(max));
        }
        this.minPixels = positiveLong(config, "min_pixels", min, source);
        this.maxPixels = positiveLong(config, "max_pixels", max, source);
        if (minPixels > maxPixels) {
            throw new IllegalArgumentException(source + ": min_pixels (" + minPixels + ") must not exceed max_pixels (" + maxPixels + ")");
        }
        this.imageMean = perChannel(config, "image_mean", OPENAI_CLIP_MEAN, source);
        this.imageStd = perChannel(config, "image_std", OPENAI_CLIP_STD, source);
        for (double s : imageStd) {
            if (!(s != 0.0) || !Double.isFinite(s)) {
                throw new IllegalArgumentException(source + ": image_std must be finite and non-zero, got " + Arrays.toString(imageStd));
            }
        }
        this.doResize = bool(config, "do_resize", true, source);
        this.resample = config.has("resample") ? config.get("resample").asInt() : RESAMPLE_BICUBIC;
        if (doResize && resample != RESAMPLE_BICUBIC) {
            throw new IllegalArgumentException(source + ": resample must be " + RESAMPLE_BICUBIC
                    + " (PIL BICUBIC, the only filter ported), got " + config.get("resample"));
        }
        this.doRescale = bool(config, "do_rescale", true, source);
        this.rescaleFactor = config.has("rescale_factor") ? config.get("rescale_factor").asDouble() : 1.0 / 255;
        this.doNormalize = bool(config, "do_normalize", true, source);
        this.doConvertRgb = bool(config, "do_convert_rgb", true, source);
    }

    /** The processor with transformers' defaults (those of the real Qwen2.5-VL checkpoints). */
    public static QwenImageProcessor defaults() {
        return new QwenImageProcessor(new ObjectMapper().createObjectNode(), "defaults");
    }

    /** Reads {@code preprocessor_config.json}; missing keys take transformers' defaults. */
    public static QwenImageProcessor fromJson(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("preprocessor config " + file + " does not exist");
        }
        JsonNode node;
        try {
            node = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException("preprocessor config " + file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new IOException("preprocessor config " + file + " must hold a JSON object");
        }
        try {
            return new QwenImageProcessor(node, file.toString());
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Reads {@value #CONFIG_FILE} of a Hugging Face model directory. */
    public static QwenImageProcessor fromModelDir(Path dir) throws IOException {
        return fromJson(dir.resolve(CONFIG_FILE));
    }

    /**
     * transformers' {@code smart_resize} (v4.49): the {@code (height, width)} nearest to the input
     * whose sides are multiples of {@code factor} and whose area lies in [{@code minPixels},
     * {@code maxPixels}], keeping the aspect ratio as well as possible.
     *
     * <p>Sides are rounded to the nearest multiple with Python's {@code round}, which rounds ties
     * to even ({@link Math#rint}; {@code Math.round} would turn 70x98 into 84x112 instead of
     * 56x112). If the area is then too large, both sides are divided by
     * {@code sqrt(h * w / maxPixels)} and floored to multiples; if too small, multiplied by
     * {@code sqrt(minPixels / (h * w))} and ceiled.
     *
     * @return {@code {resizedHeight, resizedWidth}}
     * @throws IllegalArgumentException if a side is below {@code factor} or the aspect ratio
     *     exceeds 200, as transformers does
     */
    public static int[] smartResize(int height, int width, int factor, long minPixels, long maxPixels) {
        if (factor < 1) {
            throw new IllegalArgumentException("factor must be positive, got " + factor);
        }
        if (height < factor || width < factor) {
            throw new IllegalArgumentException("height:" + height + " or width:" + width + " must be larger than factor:" + factor);
        }
        double ratio = (double) Math.max(height, width) / Math.min(height, width);
        if (ratio > 200) {
            throw new IllegalArgumentException("absolute aspect ratio must be smaller than 200, got " + ratio
                    + " (" + height + "x" + width + ")");
        }
        long hBar = (long) Math.rint((double) height / factor) * factor;
        long wBar = (long) Math.rint((double) width / factor) * factor;
        if (hBar * wBar > maxPixels) {
            double beta = Math.sqrt(((double) height * width) / maxPixels);
            hBar = (long) Math.floor(height / beta / factor) * factor;
            wBar = (long) Math.floor(width / beta / factor) * factor;
        } else if (hBar * wBar < minPixels) {
            double beta = Math.sqrt(minPixels / ((double) height * width));
            hBar = (long) Math.ceil(height * beta / factor) * factor;
            wBar = (long) Math.ceil(width * beta / factor) * factor;
        }
        return new int[] {Math.toIntExact(hBar), Math.toIntExact(wBar)};
    }

    /**
     * The size an image of {@code height x width} is resized to: {@link #smartResize} with factor
     * {@code patch_size * merge_size} and this configuration's pixel bounds, or the input size when
     * {@code do_resize} is false.
     */
    public int[] targetSize(int height, int width) {
        if (!doResize) {
            return new int[] {height, width};
        }
        return smartResize(height, width, patchSize * mergeSize, minPixels, maxPixels);
    }

    /** The image resized to {@link #targetSize} with Pillow's bicubic. */
    public RgbImage resize(RgbImage image) {
        int[] hw = targetSize(image.height(), image.width());
        return PillowResample.bicubic(image, hw[0], hw[1]);
    }

    /** {@link #process(List)} of the given images. */
    public Output process(RgbImage... images) {
        return process(Arrays.asList(images));
    }

    /**
     * Preprocesses the images of one prompt, in order: {@code pixel_values} rows of all images
     * concatenated, one grid per image.
     */
    public Output process(List<RgbImage> images) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("images must not be empty");
        }
        int patchDim = patchDim();
        int[][] sizes = new int[images.size()][];
        long totalPatches = 0;
        for (int i = 0; i < images.size(); i++) {
            RgbImage image = images.get(i);
            sizes[i] = targetSize(image.height(), image.width());
            int h = sizes[i][0];
            int w = sizes[i][1];
            int unit = patchSize * mergeSize;
            if (h % unit != 0 || w % unit != 0) {
                throw new IllegalArgumentException("image " + i + " is " + h + "x" + w + " with do_resize false: both sides must be multiples of patch_size * merge_size = " + unit);
            }
            totalPatches += (long) (h / patchSize) * (w / patchSize);
        }
        if (totalPatches * patchDim > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("images give " + totalPatches + " patches of " + patchDim
                    + " values, more than one Java array holds");
        }
        float[] pixelValues = new float[Math.toIntExact(totalPatches * patchDim)];
        long[] grids = new long[images.size() * 3];
        int row = 0;
        for (int i = 0; i < images.size(); i++) {
            RgbImage resized = PillowResample.bicubic(images.get(i), sizes[i][0], sizes[i][1]);
            float[] planes = normalizedPlanes(resized);
            int gridH = sizes[i][0] / patchSize;
            int gridW = sizes[i][1] / patchSize;
            writePatches(planes, sizes[i][0], sizes[i][1], pixelValues, row);
            grids[i * 3] = 1;
            grids[i * 3 + 1] = gridH;
            grids[i * 3 + 2] = gridW;
            row += gridH * gridW;
        }
        return new Output(pixelValues, row, patchDim, grids);
    }

    /** Rescaled and normalized samples, channels first: {@code [3][h][w]} flattened. */
    private float[] normalizedPlanes(RgbImage image) {
        int h = image.height();
        int w = image.width();
        float[] mean = new float[CHANNELS];
        float[] std = new float[CHANNELS];
        for (int c = 0; c < CHANNELS; c++) {
            mean[c] = (float) imageMean[c];
            std[c] = (float) imageStd[c];
        }
        byte[] rgb = image.rgb();
        float[] planes = new float[CHANNELS * h * w];
        for (int p = 0; p < h * w; p++) {
            for (int c = 0; c < CHANNELS; c++) {
                int sample = rgb[p * CHANNELS + c] & 0xFF;
                float v = doRescale ? (float) (sample * rescaleFactor) : (float) sample;
                if (doNormalize) {
                    v = (v - mean[c]) / std[c];
                }
                planes[c * h * w + p] = v;
            }
        }
        return planes;
    }

    /** Writes the patches of one image (grid_t = 1) into {@code out} from row {@code firstRow} on. */
    private void writePatches(float[] planes, int h, int w, float[] out, int firstRow) {
        int gridH = h / patchSize;
        int gridW = w / patchSize;
        int patchDim = patchDim();
        int frameSize = patchSize * patchSize;
        int row = firstRow;
        for (int bh = 0; bh < gridH / mergeSize; bh++) {
            for (int bw = 0; bw < gridW / mergeSize; bw++) {
                for (int mh = 0; mh < mergeSize; mh++) {
                    for (int mw = 0; mw < mergeSize; mw++) {
                        int y0 = (bh * mergeSize + mh) * patchSize;
                        int x0 = (bw * mergeSize + mw) * patchSize;
                        int base = row * patchDim;
                        for (int c = 0; c < CHANNELS; c++) {
                            for (int f = 0; f < temporalPatchSize; f++) {
                                // A still image is repeated into every frame of the temporal patch.
                                int col = base + (c * temporalPatchSize + f) * frameSize;
                                for (int py = 0; py < patchSize; py++) {
                                    System.arraycopy(planes, c * h * w + (y0 + py) * w + x0, out, col + py * patchSize, patchSize);
                                }
                            }
                        }
                        row++;
                    }
                }
            }
        }
    }

    /** Values per patch: {@code 3 * temporal_patch_size * patch_size^2} (1176 for Qwen2.5-VL). */
    public int patchDim() {
        return CHANNELS * temporalPatchSize * patchSize * patchSize;
    }

    /** {@code patch_size} (14): side of a patch in pixels. */
    public int patchSize() {
        return patchSize;
    }

    /** {@code temporal_patch_size} (2): frames per patch. */
    public int temporalPatchSize() {
        return temporalPatchSize;
    }

    /** {@code merge_size} (2): side of the group of patches that becomes one LLM token. */
    public int mergeSize() {
        return mergeSize;
    }

    public long minPixels() {
        return minPixels;
    }

    public long maxPixels() {
        return maxPixels;
    }

    /** A copy of {@code image_mean}. */
    public double[] imageMean() {
        return imageMean.clone();
    }

    /** A copy of {@code image_std}. */
    public double[] imageStd() {
        return imageStd.clone();
    }

    public boolean doResize() {
        return doResize;
    }

    public boolean doRescale() {
        return doRescale;
    }

    public double rescaleFactor() {
        return rescaleFactor;
    }

    public boolean doNormalize() {
        return doNormalize;
    }

    /**
     * {@code do_convert_rgb}. Always satisfied here: {@link RgbImage} is RGB by construction
     * ({@link RgbImage#fromBufferedImage} converts as PIL's {@code convert("RGB")}).
     */
    public boolean doConvertRgb() {
        return doConvertRgb;
    }

    /**
     * The processor's output for the images of one prompt.
     *
     * @param pixelValues {@code [numPatches, patchDim]} row-major
     * @param numPatches rows of {@code pixelValues}, all images together
     * @param patchDim columns: {@code 3 * temporal_patch_size * patch_size^2}
     * @param imageGridThw {@code [numImages, 3]} row-major: {@code (t, h, w)} in patches per image
     */
    public record Output(float[] pixelValues, int numPatches, int patchDim, long[] imageGridThw) {

        /** Checks the array sizes against each other. */
        public Output {
            if ((long) numPatches * patchDim != pixelValues.length) {
                throw new IllegalArgumentException("pixelValues has " + pixelValues.length + " values, expected numPatches * patchDim = "
                        + numPatches + " * " + patchDim);
            }
            if (imageGridThw.length % 3 != 0) {
                throw new IllegalArgumentException("imageGridThw must hold 3 values per image, got " + imageGridThw.length);
            }
            long sum = 0;
            for (int i = 0; i < imageGridThw.length; i += 3) {
                sum += imageGridThw[i] * imageGridThw[i + 1] * imageGridThw[i + 2];
            }
            if (sum != numPatches) {
                throw new IllegalArgumentException("the grids hold " + sum + " patches but numPatches is " + numPatches);
            }
        }

        /** Number of images. */
        public int numImages() {
            return imageGridThw.length / 3;
        }

        /** {@code (t, h, w)} of image {@code i}. */
        public long[] gridThw(int i) {
            return Arrays.copyOfRange(imageGridThw, i * 3, i * 3 + 3);
        }

        /** Shape of {@code pixelValues}: {@code {numPatches, patchDim}}. */
        public long[] pixelValuesShape() {
            return new long[] {numPatches, patchDim};
        }

        /**
         * LLM tokens of each image: {@code t * h * w / mergeSize^2}, the number of
         * {@code <|image_pad|>} tokens each image's placeholder expands to.
         */
        public int[] tokensPerImage(int mergeSize) {
            int[] out = new int[numImages()];
            for (int i = 0; i < out.length; i++) {
                long patches = imageGridThw[i * 3] * imageGridThw[i * 3 + 1] * imageGridThw[i * 3 + 2];
                long group = (long) mergeSize * mergeSize;
                if (patches % group != 0) {
                    throw new IllegalArgumentException("image " + i + " has " + patches + " patches, not a multiple of mergeSize^2 = " + group);
                }
                out[i] = Math.toIntExact(patches / group);
            }
            return out;
        }
    }

    private static int positiveInt(JsonNode config, String key, int fallback, String source) {
        long v = positiveLong(config, key, fallback, source);
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(source + ": " + key + " must fit an int, got " + v);
        }
        return (int) v;
    }

    private static long positiveLong(JsonNode config, String key, long fallback, String source) {
        JsonNode node = config.get(key);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isIntegralNumber() || node.asLong() < 1) {
            throw new IllegalArgumentException(source + ": " + key + " must be a positive integer, got " + node);
        }
        return node.asLong();
    }

    private static boolean bool(JsonNode config, String key, boolean fallback, String source) {
        JsonNode node = config.get(key);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isBoolean()) {
            throw new IllegalArgumentException(source + ": " + key + " must be true or false, got " + node);
        }
        return node.asBoolean();
    }

    /** A per-channel list of 3 numbers, or one number for all channels (as transformers accepts). */
    private static double[] perChannel(JsonNode config, String key, double[] fallback, String source) {
        JsonNode node = config.get(key);
        if (node == null || node.isNull()) {
            return fallback.clone();
        }
        if (node.isNumber()) {
            double v = node.asDouble();
            return new double[] {v, v, v};
        }
        if (!node.isArray() || node.size() != CHANNELS) {
            throw new IllegalArgumentException(source + ": " + key + " must be a number or a list of " + CHANNELS + " numbers, got " + node);
        }
        double[] out = new double[CHANNELS];
        for (int c = 0; c < CHANNELS; c++) {
            if (!node.get(c).isNumber()) {
                throw new IllegalArgumentException(source + ": " + key + "[" + c + "] must be a number, got " + node.get(c));
            }
            out[c] = node.get(c).asDouble();
        }
        return out;
    }
}
