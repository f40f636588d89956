package io.vlmrl.qwen;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link QwenImageProcessor} and {@link PillowResample} against the reference outputs of
 * transformers' {@code Qwen2VLImageProcessor} and PIL stored in the tiny fixture.
 */
class QwenImageProcessorTest {

    private static final JsonNode REF = TinyFixture.reference();
    private static final RefTensors T = TinyFixture.tensors();

    private static RgbImage raw(String image) {
        long[] shape = T.shape(image + ".raw");
        return new RgbImage((int) shape[0], (int) shape[1], T.u8(image + ".raw"));
    }

    @Test
    void smartResizeMatchesAllThirteenReferenceCases() {
        JsonNode cases = REF.get("smart_resize_cases");
        assertEquals(13, cases.size(), "reference.json smart_resize_cases");
        for (JsonNode c : cases) {
            int[] got = QwenImageProcessor.smartResize(c.get("height").asInt(), c.get("width").asInt(),
                    c.get("factor").asInt(), c.get("min_pixels").asLong(), c.get("max_pixels").asLong());
            int[] expected = {c.get("resized").get(0).asInt(), c.get("resized").get(1).asInt()};
            assertArrayEquals(expected, got, "smart_resize of " + c);
        }
    }

    @Test
    void smartResizeRoundsTiesToEven() {
        // 70 / 28 = 2.5 -> 2 and 98 / 28 = 3.5 -> 4 (Math.round would give 3 and 4: 84x112).
        assertArrayEquals(new int[] {56, 112}, QwenImageProcessor.smartResize(70, 98, 28, 3136, 12845056));
    }

    @Test
    void smartResizeRejectsWhatTransformersRejects() {
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> QwenImageProcessor.smartResize(27, 100, 28, 3136, 12845056));
        assertTrue(small.getMessage().contains("height:27"), small.getMessage());
        IllegalArgumentException ratio = assertThrows(IllegalArgumentException.class,
                () -> QwenImageProcessor.smartResize(28, 28 * 201, 28, 3136, 1L << 40));
        assertTrue(ratio.getMessage().contains("aspect ratio"), ratio.getMessage());
    }

    @Test
    void pngFilesDecodeToTheReferenceRawPixels() throws IOException {
        for (String name : List.of("image_a", "image_b", "image_c")) {
            RgbImage decoded = RgbImage.read(TinyFixture.float32().resolve(REF.get("images").get(name).get("png").asText()));
            RgbImage raw = raw(name);
            assertEquals(raw.height(), decoded.height(), name);
            assertEquals(raw.width(), decoded.width(), name);
            assertArrayEquals(raw.rgb(), decoded.rgb(), name + ": PNG decode vs reference .raw");
        }
    }

    @Test
    void pillowBicubicReproducesTheReferenceResizeExactly() {
        for (String name : List.of("image_b", "image_c")) {
            long[] shape = T.shape(name + ".resized");
            byte[] expected = T.u8(name + ".resized");
            RgbImage got = PillowResample.bicubic(raw(name), (int) shape[0], (int) shape[1]);
            int maxDiff = 0;
            int differing = 0;
            for (int i = 0; i < expected.length; i++) {
                int d = Math.abs((expected[i] & 0xFF) - (got.rgb()[i] & 0xFF));
                maxDiff = Math.max(maxDiff, d);
                differing += d == 0 ? 0 : 1;
            }
            assertEquals(0, maxDiff, name + ": max |pixel difference| vs PIL, " + differing + " of " + expected.length + " samples differ");
            JsonNode hw = REF.get("images").get(name).get("resized_hw");
            assertEquals(hw.get(0).asInt(), got.height(), name);
            assertEquals(hw.get(1).asInt(), got.width(), name);
        }
    }

    @Test
    void pillowBicubicIsTheIdentityAtTheSameSizeAndKeepsAConstantImageConstant() {
        RgbImage a = raw("image_a");
        RgbImage same = PillowResample.bicubic(a, a.height(), a.width());
        assertArrayEquals(a.rgb(), same.rgb());
        assertNotSame(a.rgb(), same.rgb(), "a copy, as PIL's Image.copy()");

        byte[] flat = new byte[37 * 53 * 3];
        for (int i = 0; i < flat.length; i++) {
            flat[i] = (byte) (i % 3 == 0 ? 255 : i % 3 == 1 ? 0 : 131);
        }
        for (int[] size : new int[][] {{10, 11}, {37, 200}, {150, 53}, {1, 1}, {3, 160}}) {
            RgbImage out = PillowResample.bicubic(new RgbImage(37, 53, flat), size[0], size[1]);
            for (int i = 0; i < out.rgb().length; i++) {
                assertEquals(flat[i % 3], out.rgb()[i], "constant image resized to " + Arrays.toString(size) + ", sample " + i);
            }
        }
    }

    @Test
    void pixelValuesAreBitExactForEachImage() throws IOException {
        QwenImageProcessor processor = QwenImageProcessor.fromModelDir(TinyFixture.float32());
        for (String name : List.of("image_a", "image_b", "image_c")) {
            QwenImageProcessor.Output out = processor.process(raw(name));
            float[] expected = T.f32(name + ".pixel_values");
            assertArrayEquals(T.shape(name + ".pixel_values"), out.pixelValuesShape(), name + " pixel_values shape");
            assertBitEqual(expected, out.pixelValues(), name + ".pixel_values");
            assertArrayEquals(T.i64(name + ".image_grid_thw"), out.imageGridThw(), name + " grid");
            assertEquals(REF.get("images").get(name).get("num_llm_tokens").asInt(), out.tokensPerImage(processor.mergeSize())[0], name);
        }
    }

    @Test
    void severalImagesConcatenateInPromptOrder() throws IOException {
        QwenImageProcessor processor = QwenImageProcessor.fromModelDir(TinyFixture.float32());
        JsonNode case2 = REF.get("cases").get("case2");
        List<RgbImage> images = new ArrayList<>();
        List<float[]> parts = new ArrayList<>();
        for (JsonNode name : case2.get("images")) {
            images.add(raw(name.asText()));
            parts.add(T.f32(name.asText() + ".pixel_values"));
        }
        assertEquals(2, images.size());
        QwenImageProcessor.Output out = processor.process(images);
        float[] expected = new float[parts.get(0).length + parts.get(1).length];
        System.arraycopy(parts.get(0), 0, expected, 0, parts.get(0).length);
        System.arraycopy(parts.get(1), 0, expected, parts.get(0).length, parts.get(1).length);
        assertBitEqual(expected, out.pixelValues(), "case2 pixel_values");
        assertEquals(92, out.numPatches());
        assertArrayEquals(T.i64("case2.image_grid_thw"), out.imageGridThw());
        int[] counts = new int[case2.get("image_token_counts").size()];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = case2.get("image_token_counts").get(i).asInt();
        }
        assertArrayEquals(counts, out.tokensPerImage(processor.mergeSize()));
    }

    @Test
    void configurationIsReadWithTransformersDefaultsForMissingKeys(@TempDir Path dir) throws IOException {
        QwenImageProcessor fixture = QwenImageProcessor.fromModelDir(TinyFixture.float32());
        assertEquals(14, fixture.patchSize());
        assertEquals(2, fixture.temporalPatchSize());
        assertEquals(2, fixture.mergeSize());
        assertEquals(3136, fixture.minPixels());
        assertEquals(12845056, fixture.maxPixels());
        assertEquals(1176, fixture.patchDim());
        assertArrayEquals(new double[] {0.48145466, 0.4578275, 0.40821073}, fixture.imageMean());
        assertEquals(1.0 / 255, fixture.rescaleFactor());

        QwenImageProcessor defaults = QwenImageProcessor.defaults();
        assertEquals(56 * 56, defaults.minPixels());
        assertEquals(28 * 28 * 1280, defaults.maxPixels());
        assertTrue(defaults.doResize() && defaults.doRescale() && defaults.doNormalize() && defaults.doConvertRgb());

        Path custom = dir.resolve("preprocessor_config.json");
        Files.writeString(custom, "{\"min_pixels\": 200704, \"max_pixels\": 1003520, \"do_normalize\": false, \"image_mean\": 0.5}");
        QwenImageProcessor c = QwenImageProcessor.fromJson(custom);
        assertArrayEquals(new int[] {504, 504}, c.targetSize(510, 490));
        assertArrayEquals(new double[] {0.5, 0.5, 0.5}, c.imageMean());
        float[] pv = c.process(new RgbImage(28, 28, filled(28 * 28 * 3, (byte) 51))).pixelValues();
        // Resized to 448x448 (min_pixels), a constant 51 rescaled: float(51 / 255) exactly, no normalize.
        assertEquals((float) (51 * (1.0 / 255)), pv[0]);
        assertEquals((float) (51 * (1.0 / 255)), pv[pv.length - 1]);

        Files.writeString(custom, "{\"patch_size\": 0}");
        IOException bad = assertThrows(IOException.class, () -> QwenImageProcessor.fromJson(custom));
        assertTrue(bad.getMessage().contains("patch_size") && bad.getMessage().contains(custom.toString()), bad.getMessage());
        Files.writeString(custom, "{\"resample\": 2}");
        bad = assertThrows(IOException.class, () -> QwenImageProcessor.fromJson(custom));
        assertTrue(bad.getMessage().contains("resample"), bad.getMessage());
        IOException missing = assertThrows(IOException.class, () -> QwenImageProcessor.fromModelDir(dir.resolve("nope")));
        assertTrue(missing.getMessage().contains("nope"), missing.getMessage());
    }

    private static byte[] filled(int n, byte v) {
        byte[] b = new byte[n];
        Arrays.fill(b, v);
        return b;
    }

    private static void assertBitEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        int mismatches = 0;
        int first = -1;
        double maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                mismatches++;
                if (first < 0) {
                    first = i;
                }
                maxDiff = Math.max(maxDiff, Math.abs((double) expected[i] - actual[i]));
            }
        }
        if (mismatches > 0) {
            fail(what + ": " + mismatches + " of " + expected.length + " values differ in their bits, first at " + first
                    + " (expected " + expected[first] + ", got " + actual[first] + "), max |diff| " + maxDiff);
        }
    }
}
