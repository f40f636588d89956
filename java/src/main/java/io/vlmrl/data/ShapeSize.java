package io.vlmrl.data;

/**
 * Size of a shape as a fraction of its grid cell. The two fractions are far enough apart that
 * the sizes stay distinguishable at 48x48 pixels (12-pixel cells: about 10 versus 6 pixels).
 */
public enum ShapeSize {
    SMALL("small", 0.55),
    LARGE("large", 0.85);

    private final String word;
    private final double cellFraction;

    ShapeSize(String word, double cellFraction) {
        this.word = word;
        this.cellFraction = cellFraction;
    }

    public String word() {
        return word;
    }

    /** Side of the shape's bounding box divided by the side of its cell. */
    public double cellFraction() {
        return cellFraction;
    }
}
