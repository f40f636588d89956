package io.vlmrl.data;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;

/**
 * One image of a problem: held in memory (the built-in task renders its images) or read from a
 * PNG or JPEG file when it is needed, so that a large data set does not hold every decoded image.
 * {@link #file} checks at load time that the file exists and that its header is a readable image,
 * so a bad image is reported before any training starts.
 */
public interface ImageSource {

    /** The image (decoded anew from a file each time: callers keep what they need). */
    BufferedImage load();

    /** Where the image comes from, for error messages. */
    String describe();

    /** An image already in memory. */
    static ImageSource of(BufferedImage image) {
        if (image == null) throw new IllegalArgumentException("image: expected an image, got null");
        return new ImageSource() {
            @Override public BufferedImage load() { return image; }
            @Override public String describe() { return "in-memory " + image.getWidth() + "x" + image.getHeight() + " image"; }
        };
    }

    /**
     * A PNG or JPEG file, checked now (exists, readable header) and decoded on each {@link #load}.
     *
     * @throws IllegalArgumentException naming the file and what is wrong with it
     */
    static ImageSource file(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("image file " + path + " does not exist");
        }
        int[] size = headerSize(path);
        return new ImageSource() {
            @Override
            public BufferedImage load() {
                try {
                    BufferedImage image = ImageIO.read(path.toFile());
                    if (image == null) throw new IllegalArgumentException("image file " + path + " is not a readable PNG or JPEG image");
                    return image;
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read image file " + path + ": " + e.getMessage(), e);
                }
            }

            @Override
            public String describe() {
                return path + " (" + size[0] + "x" + size[1] + ")";
            }
        };
    }

    /** Width and height from the file's header, without decoding the pixels. */
    private static int[] headerSize(Path path) {
        try (ImageInputStream in = ImageIO.createImageInputStream(path.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new IllegalArgumentException("image file " + path + " is not a readable PNG or JPEG image");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in);
                return new int[] {reader.getWidth(0), reader.getHeight(0)};
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("image file " + path + " cannot be read: " + e.getMessage(), e);
        }
    }
}
