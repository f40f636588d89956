package io.vlmrl.data;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Test oracle independent of the generator: recovers the shapes of a rendered image from its
 * pixels alone. Each 4-connected component of one palette colour is a shape; its kind follows
 * from how much of its bounding box it fills (square ~1, circle ~pi/4, triangle ~1/2), its size
 * from the bounding box width, its position from the centre of the bounding box.
 */
final class PixelSceneReader {
    record SeenShape(String color, String kind, boolean large, double centerX, double centerY, int column, int row) {
    }

    private PixelSceneReader() {
    }

    static List<SeenShape> read(BufferedImage image, int gridSize) {
        int w = image.getWidth();
        int h = image.getHeight();
        double cell = (double) w / gridSize;
        boolean[] visited = new boolean[w * h];
        List<SeenShape> shapes = new ArrayList<>();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = image.getRGB(x, y) & 0xffffff;
                if (visited[y * w + x] || rgb == 0) {
                    continue;
                }
                String color = colorName(rgb);
                // Flood fill the component of this exact colour.
                int minX = x, maxX = x, minY = y, maxY = y, pixels = 0;
                ArrayList<int[]> stack = new ArrayList<>();
                stack.add(new int[] {x, y});
                visited[y * w + x] = true;
                while (!stack.isEmpty()) {
                    int[] p = stack.remove(stack.size() - 1);
                    pixels++;
                    minX = Math.min(minX, p[0]);
                    maxX = Math.max(maxX, p[0]);
                    minY = Math.min(minY, p[1]);
                    maxY = Math.max(maxY, p[1]);
                    int[][] next = {{p[0] + 1, p[1]}, {p[0] - 1, p[1]}, {p[0], p[1] + 1}, {p[0], p[1] - 1}};
                    for (int[] q : next) {
                        if (q[0] >= 0 && q[0] < w && q[1] >= 0 && q[1] < h && !visited[q[1] * w + q[0]]
                                && (image.getRGB(q[0], q[1]) & 0xffffff) == rgb) {
                            visited[q[1] * w + q[0]] = true;
                            stack.add(q);
                        }
                    }
                }
                int bw = maxX - minX + 1;
                int bh = maxY - minY + 1;
                double fill = pixels / (double) (bw * bh);
                String kind = fill > 0.93 ? "square" : fill > 0.66 ? "circle" : "triangle";
                double cx = (minX + maxX + 1) / 2.0;
                double cy = (minY + maxY + 1) / 2.0;
                shapes.add(new SeenShape(color, kind, bw > 0.7 * cell, cx, cy, (int) (cx / cell), (int) (cy / cell)));
            }
        }
        return shapes;
    }

    private static String colorName(int rgb) {
        for (ShapeColor c : ShapeColor.values()) {
            if ((c.rgb().getRGB() & 0xffffff) == rgb) {
                return c.word();
            }
        }
        throw new AssertionError("pixel colour " + Integer.toHexString(rgb) + " is not in the palette");
    }
}
