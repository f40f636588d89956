package io.vlmrl.qwen;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An 8-bit RGB image held in a Java array: {@code height x width x 3} bytes, row-major, channels
 * last (the layout of a PIL {@code "RGB"} image converted with {@code numpy.asarray}).
 *
 * <p>This is the input of {@link QwenImageProcessor}. It owns no native memory, so images can be
 * decoded, cached and passed between threads freely. {@link #fromBufferedImage} converts like PIL's
 * {@code Image.convert("RGB")}, which is what Hugging Face's {@code convert_to_rgb} calls: 8-bit
 * samples are copied unchanged (no colour management), gray is replicated into the three channels,
 * palette entries are looked up, and alpha is dropped.
 *
 * @param height rows, at least 1
 * @param width columns, at least 1
 * @param rgb {@code height * width * 3} bytes (unsigned values 0..255), pixel {@code (y, x)} channel
 *     {@code c} at {@code (y * width + x) * 3 + c}
 */
public record RgbImage(int height, int width, byte[] rgb) {

    /** Checks the size against the pixel array. */
    public RgbImage {
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("image size must be at least 1x1, got " + height + "x" + width);
        }
        if (rgb == null || (long) rgb.length != (long) height * width * 3) {
            throw new IllegalArgumentException("rgb must hold height*width*3 = " + ((long) height * width * 3)
                    + " bytes for a " + height + "x" + width + " image, got " + (rgb == null ? "null" : rgb.length));
        }
    }

    /** The sample of channel {@code c} (0 = R, 1 = G, 2 = B) at row {@code y}, column {@code x}, 0..255. */
    public int sample(int y, int x, int c) {
        return rgb[(y * width + x) * 3 + c] & 0xFF;
    }

    /** Decodes an image file (PNG, JPEG, BMP, GIF: whatever {@link ImageIO} reads) to RGB. */
    public static RgbImage read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("image file " + file + " does not exist");
        }
        BufferedImage image = ImageIO.read(file.toFile());
        if (image == null) {
            throw new IOException("image file " + file + " is not in a format ImageIO can decode");
        }
        return fromBufferedImage(image);
    }

    /**
     * Converts a decoded image to 8-bit RGB like PIL's {@code convert("RGB")}.
     *
     * <p>Images whose raster holds 8-bit components (PNG/JPEG gray, gray+alpha, RGB, RGBA, and the
     * BGR layouts of {@link BufferedImage}'s predefined types) are read from the raster directly, so
     * the samples are exactly the file's: {@link BufferedImage#getRGB} would instead convert a gray
     * image through Java's linear gray colour space and change its values. Other images (palette,
     * 16-bit, packed) go through {@code getRGB}, which is exact for palette images and rounds 16-bit
     * samples to 8 bits.
     */
    public static RgbImage fromBufferedImage(BufferedImage image) {
        int h = image.getHeight();
        int w = image.getWidth();
        byte[] out = new byte[h * w * 3];
        Raster raster = image.getRaster();
        boolean byteComponents = image.getColorModel() instanceof ComponentColorModel
                && raster.getDataBuffer().getDataType() == DataBuffer.TYPE_BYTE;
        int bands = raster.getNumBands();
        if (byteComponents && (bands == 1 || bands == 2 || bands == 3 || bands == 4)) {
            int[] px = new int[bands];
            boolean gray = bands <= 2;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    raster.getPixel(x, y, px);
                    int o = (y * w + x) * 3;
                    if (gray) {
                        out[o] = out[o + 1] = out[o + 2] = (byte) px[0];
                    } else {
                        out[o] = (byte) px[0];
                        out[o + 1] = (byte) px[1];
                        out[o + 2] = (byte) px[2];
                    }
                }
            }
        } else {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int argb = image.getRGB(x, y);
                    int o = (y * w + x) * 3;
                    out[o] = (byte) (argb >> 16);
                    out[o + 1] = (byte) (argb >> 8);
                    out[o + 2] = (byte) argb;
                }
            }
        }
        return new RgbImage(h, w, out);
    }
}
