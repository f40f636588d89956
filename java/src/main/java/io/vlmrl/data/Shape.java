package io.vlmrl.data;

import java.util.Objects;

/**
 * One shape of a scene. Shapes sit on a square grid, one shape per cell, so they never touch;
 * {@code column} grows to the right and {@code row} grows downwards.
 */
public record Shape(ShapeColor color, ShapeKind kind, ShapeSize size, int column, int row) {
    public Shape {
        Objects.requireNonNull(color, "color");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(size, "size");
        if (column < 0 || row < 0) {
            throw new IllegalArgumentException(
                    "column and row must be >= 0, got column=" + column + ", row=" + row);
        }
    }

    /** A canonical text form, used for content hashing and debugging. */
    public String describe() {
        return size.word() + " " + color.word() + " " + kind.word() + " @" + column + "," + row;
    }
}
