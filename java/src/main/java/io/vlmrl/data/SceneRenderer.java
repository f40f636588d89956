package io.vlmrl.data;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/**
 * Draws a {@link Scene} into an RGB image: black background, each shape filled in its palette
 * colour, centred in its grid cell. Antialiasing is off so that every pixel is either background
 * or exactly one palette colour, which keeps the pixels deterministic and lets tests recount the
 * scene from the image.
 */
public final class SceneRenderer {
    public static final Color BACKGROUND = Color.BLACK;
    /** Below this many pixels per cell small shapes would shrink to a few pixels and be unreadable. */
    public static final int MIN_CELL_PIXELS = 8;

    private final int imageSize;

    public SceneRenderer(int imageSize) {
        if (imageSize < MIN_CELL_PIXELS) {
            throw new IllegalArgumentException("imageSize must be >= " + MIN_CELL_PIXELS + ", got " + imageSize);
        }
        this.imageSize = imageSize;
    }

    public int imageSize() {
        return imageSize;
    }

    public BufferedImage render(Scene scene) {
        double cell = (double) imageSize / scene.gridSize();
        if (cell < MIN_CELL_PIXELS) {
            throw new IllegalArgumentException("a " + scene.gridSize() + "x" + scene.gridSize()
                    + " grid needs imageSize >= " + MIN_CELL_PIXELS * scene.gridSize() + ", got " + imageSize);
        }
        BufferedImage image = new BufferedImage(imageSize, imageSize, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.setColor(BACKGROUND);
            g.fillRect(0, 0, imageSize, imageSize);
            for (Shape shape : scene.shapes()) {
                draw(g, shape, cell);
            }
        } finally {
            g.dispose();
        }
        return image;
    }

    private static void draw(Graphics2D g, Shape shape, double cell) {
        int side = Math.max(3, (int) Math.round(cell * shape.size().cellFraction()));
        int x = (int) Math.round((shape.column() + 0.5) * cell - side / 2.0);
        int y = (int) Math.round((shape.row() + 0.5) * cell - side / 2.0);
        g.setColor(shape.color().rgb());
        switch (shape.kind()) {
            case CIRCLE -> g.fillOval(x, y, side, side);
            case SQUARE -> g.fillRect(x, y, side, side);
            case TRIANGLE -> g.fillPolygon(
                    new int[] {x, x + side, x + side / 2},
                    new int[] {y + side, y + side, y},
                    3);
        }
    }
}
