package io.vlmrl.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class ImageTensorsTest {
    @Test
    void layoutIsBatchChannelRowColumnWithValuesInUnitRange() {
        BufferedImage a = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
        BufferedImage b = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
        a.setRGB(2, 1, 0xff8000); // x=2, y=1: orange
        b.setRGB(0, 0, 0x0000ff);
        Tensor t = ImageTensors.toTensor(List.of(a, b));
        assertArrayEquals(new long[] {2, 3, 2, 3}, t.sizes().vec().get());
        assertEquals(1.0f, t.get(0).get(0).get(1).get(2).item_float());
        assertEquals(128 / 255f, t.get(0).get(1).get(1).get(2).item_float(), 1e-7);
        assertEquals(0f, t.get(0).get(2).get(1).get(2).item_float());
        assertEquals(1.0f, t.get(1).get(2).get(0).get(0).item_float());
        assertEquals(1.0f + 128 / 255f + 1.0f, t.sum().item_float(), 1e-5);
    }

    @Test
    void rejectsEmptyAndMixedSizes() {
        assertThrows(IllegalArgumentException.class, () -> ImageTensors.toTensor(List.of()));
        var e = assertThrows(IllegalArgumentException.class, () -> ImageTensors.toTensor(List.of(
                new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), new BufferedImage(4, 5, BufferedImage.TYPE_INT_RGB))));
        assertEquals("images[1] is 4x5, expected 4x4 like images[0]", e.getMessage());
    }
}
