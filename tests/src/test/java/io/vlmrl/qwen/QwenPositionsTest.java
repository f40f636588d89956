package io.vlmrl.qwen;

import com.fasterxml.jackson.databind.JsonNode;
import io.vlmrl.hf.SafeTensorsFile;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;

import static io.vlmrl.qwen.QwenFixture.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Exact integer geometry against transformers: vision rotary angles, window permutation and
 * boundaries, per-image boundaries, M-RoPE position ids and rope deltas (also with padding).
 */
class QwenPositionsTest {
    private static QwenVlConfig config;
    private static SafeTensorsFile ref;
    private static JsonNode cases;

    @BeforeAll
    static void load() throws IOException {
        config = QwenVlConfig.load(QwenFixture.float32());
        ref = QwenFixture.references(QwenFixture.float32());
        cases = QwenFixture.referenceJson(QwenFixture.float32()).get("cases");
    }

    @AfterAll
    static void close() throws IOException {
        ref.close();
    }

    private static long[][] grid(String name) throws IOException {
        return QwenTensors.grid(ref.read(name + ".image_grid_thw"));
    }

    @Test
    void visionGeometryEqualsTransformers() throws IOException {
        for (String name : new String[] {"case1", "case2"}) {
            try (PointerScope scope = new PointerScope()) {
                QwenVisionGeometry geometry = QwenVisionGeometry.of(config.vision(), grid(name));
                assertArrayEquals(longs(ref.read(name + ".vision.window_index")), geometry.windowIndex(), name);
                assertArrayEquals(longs(ref.read(name + ".vision.cu_window_seqlens")),
                        Arrays.stream(geometry.cuWindowSeqlens()).asLongStream().toArray(), name);
                assertArrayEquals(longs(ref.read(name + ".vision.cu_seqlens")),
                        Arrays.stream(geometry.cuSeqlens()).asLongStream().toArray(), name);
                long[] reverse = geometry.reverseWindowIndex();
                long[] window = geometry.windowIndex();
                for (int i = 0; i < window.length; i++) {
                    assertEquals(i, reverse[(int) window[i]]);
                }
                Tensor angles = QwenRotary.visionAngles(geometry.rows(), geometry.cols(), config.vision().headDim(),
                        new Device("cpu"));
                Tensor expected = ref.read(name + ".vision.rot_pos_emb");
                assertEquals(0.0, maxAbsDiff(angles, expected), name + " rot_pos_emb must be bit-exact");
            }
        }
        // documented values: case1 [0, 16, 32, 40, 48]; a divisible merged grid gets an empty window row/column
        assertArrayEquals(new int[] {0, 16, 32, 40, 48}, QwenVisionGeometry.of(config.vision(), new long[][] {{1, 6, 8}}).cuWindowSeqlens());
    }

    @Test
    void windowsOfAVideoLikeGridRepeatPerFrame() {
        QwenVisionGeometry g = QwenVisionGeometry.of(config.vision(), new long[][] {{2, 4, 4}});
        assertArrayEquals(new int[] {0, 16, 32}, g.cuSeqlens());
        assertArrayEquals(new int[] {0, 16, 32}, g.cuWindowSeqlens());
        assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6, 7}, g.windowIndex());
    }

    @Test
    void badGridsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QwenVisionGeometry.of(config.vision(), new long[][] {{1, 5, 8}}));
        assertTrue(e.getMessage().contains("[1, 5, 8]") && e.getMessage().contains("spatial_merge_size 2"), e.getMessage());
    }

    @Test
    void ropeIndexEqualsTransformers() throws IOException {
        for (String name : new String[] {"case1", "case2"}) {
            try (PointerScope scope = new PointerScope()) {
                long[] ids = longs(ref.read(name + ".input_ids"));
                QwenRopeIndex.Result r = QwenRopeIndex.compute(config, new long[][] {ids}, null, grid(name));
                assertArrayEquals(longs(ref.read(name + ".position_ids")), longs(r.toTensor(new Device("cpu"))), name);
                assertArrayEquals(longs(ref.read(name + ".rope_deltas")), r.deltas(), name);
                assertEquals(cases.at("/" + name + "/rope_deltas/0").asLong(), r.deltas()[0]);
                // prompt + greedy tokens
                long[] greedy = longs(ref.read(name + ".greedy_tokens"));
                int p = cases.at("/" + name + "/prompt_len").asInt();
                long[] withGreedy = new long[p + greedy.length];
                System.arraycopy(ids, 0, withGreedy, 0, p);
                System.arraycopy(greedy, 0, withGreedy, p, greedy.length);
                QwenRopeIndex.Result rg = QwenRopeIndex.compute(config, new long[][] {withGreedy}, null, grid(name));
                assertArrayEquals(longs(ref.read(name + ".greedy_position_ids")), longs(rg.toTensor(new Device("cpu"))), name);
                // decode positions continue at the prompt's max + 1 = P + delta
                QwenRopeIndex.Result prompt = QwenRopeIndex.compute(config, new long[][] {Arrays.copyOf(ids, p)}, null, grid(name));
                assertEquals(rg.positions()[0][0][p], prompt.nextPositions()[0]);
                assertEquals(p + prompt.deltas()[0], prompt.nextPositions()[0]);
            }
        }
    }

    @Test
    void paddingDoesNotMovePositions() throws IOException {
        long[] ids = longs(ref.read("case1.input_ids"));
        QwenRopeIndex.Result plain = QwenRopeIndex.compute(config, new long[][] {ids}, null, grid("case1"));
        int pad = 5, l = ids.length + pad;
        long[] left = new long[l], right = new long[l];
        boolean[] leftMask = new boolean[l], rightMask = new boolean[l];
        Arrays.fill(left, 1000L);
        Arrays.fill(right, 1000L);
        System.arraycopy(ids, 0, left, pad, ids.length);
        System.arraycopy(ids, 0, right, 0, ids.length);
        Arrays.fill(leftMask, pad, l, true);
        Arrays.fill(rightMask, 0, ids.length, true);
        // two rows, the image grid of each row consumed in row order
        long[][] grids = {grid("case1")[0], grid("case1")[0]};
        QwenRopeIndex.Result r = QwenRopeIndex.compute(config, new long[][] {left, right}, new boolean[][] {leftMask, rightMask}, grids);
        for (int a = 0; a < 3; a++) {
            for (int j = 0; j < ids.length; j++) {
                assertEquals(plain.positions()[a][0][j], r.positions()[a][0][pad + j]);
                assertEquals(plain.positions()[a][0][j], r.positions()[a][1][j]);
            }
            for (int j = 0; j < pad; j++) {
                assertEquals(1L, r.positions()[a][0][j], "padding gets position 1, as in transformers");
                assertEquals(1L, r.positions()[a][1][ids.length + j]);
            }
        }
        assertEquals(plain.deltas()[0] - pad, r.deltas()[0], "delta = max + 1 - padded length");
        assertEquals(plain.nextPositions()[0], r.nextPositions()[0], "left padding: the next position is unchanged");
    }

    @Test
    void mismatchedImagesAreRefused() throws IOException {
        long[] ids = longs(ref.read("case1.input_ids"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QwenRopeIndex.compute(config, new long[][] {ids}, null, new long[][] {{1, 6, 10}}));
        assertTrue(e.getMessage().contains("needs 15 consecutive image tokens") && e.getMessage().contains("found only 12"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> QwenRopeIndex.compute(config, new long[][] {ids}, null, new long[][] {{1, 6, 8}, {1, 4, 8}}));
        assertTrue(e.getMessage().contains("gridThw has 2 images but the ids hold 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> QwenRopeIndex.compute(config, new long[][] {ids}, null, new long[0][]));
        assertTrue(e.getMessage().contains("more images than the 0 grids"), e.getMessage());
    }

    @Test
    void textOnlyPositionsAreARunningIndex() {
        QwenRopeIndex.Result r = QwenRopeIndex.compute(config, new long[][] {{5, 6, 7, 8}}, null, null);
        for (int a = 0; a < 3; a++) {
            assertArrayEquals(new long[] {0, 1, 2, 3}, r.positions()[a][0]);
        }
        assertEquals(0, r.deltas()[0]);
    }

    @Test
    void mropeUsesTheSectionOnBothHalves() {
        try (PointerScope scope = new PointerScope()) {
            // positions t = 3, h = 5, w = 7 for one token; head_dim 16, sections [2, 3, 3]
            Tensor positions = QwenTensors.longs(new long[] {3, 5, 7}, new Device("cpu"), 3, 1, 1);
            Tensor[] cs = QwenRotary.mropeCosSin(positions, 16, 1e6, config.text().mropeSection());
            float[] cos = floats(cs[0]);
            float[] inv = floats(QwenRotary.inverseFrequencies(16, 1e6, new Device("cpu")));
            long[] axisPosition = {3, 3, 5, 5, 5, 7, 7, 7};
            for (int c = 0; c < 16; c++) {
                double expected = Math.cos((float) (axisPosition[c % 8] * inv[c % 8]));
                assertEquals(expected, cos[c], 1e-6, "column " + c);
            }
        }
    }
}
