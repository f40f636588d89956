package io.vlmrl.data;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;

/** A set of shapes on a {@code gridSize x gridSize} grid, at most one shape per cell. */
public record Scene(int gridSize, List<Shape> shapes) {
    public Scene {
        if (gridSize < 1) {
            throw new IllegalArgumentException("gridSize must be >= 1, got " + gridSize);
        }
        shapes = List.copyOf(shapes);
        boolean[] occupied = new boolean[gridSize * gridSize];
        for (Shape s : shapes) {
            if (s.column() >= gridSize || s.row() >= gridSize) {
                throw new IllegalArgumentException("shape " + s.describe()
                        + " lies outside the " + gridSize + "x" + gridSize + " grid");
            }
            int cell = s.row() * gridSize + s.column();
            if (occupied[cell]) {
                throw new IllegalArgumentException("two shapes share the cell of " + s.describe());
            }
            occupied[cell] = true;
        }
    }

    public int count(Predicate<Shape> filter) {
        return (int) shapes.stream().filter(filter).count();
    }

    /**
     * The shape that is strictly the most extreme along a direction, or empty when several
     * shapes tie (a question about it would be ambiguous).
     */
    public Optional<Shape> uniqueExtreme(Direction direction) {
        ToIntFunction<Shape> key = direction.key();
        int best = shapes.stream().mapToInt(key).min().orElse(Integer.MAX_VALUE);
        List<Shape> at = shapes.stream().filter(s -> key.applyAsInt(s) == best).toList();
        return at.size() == 1 ? Optional.of(at.get(0)) : Optional.empty();
    }

    /** A canonical text form independent of the order the shapes were generated in. */
    public String describe() {
        return shapes.stream()
                .sorted(Comparator.comparingInt(Shape::row).thenComparingInt(Shape::column))
                .map(Shape::describe)
                .reduce((a, b) -> a + "; " + b)
                .orElse("empty");
    }

    /** Directions of the spatial questions; the key is minimal for the extreme shape. */
    public enum Direction {
        LEFTMOST("leftmost", Shape::column),
        RIGHTMOST("rightmost", s -> -s.column()),
        TOPMOST("topmost", Shape::row),
        BOTTOMMOST("bottommost", s -> -s.row());

        private final String word;
        private final ToIntFunction<Shape> key;

        Direction(String word, ToIntFunction<Shape> key) {
            this.word = word;
            this.key = key;
        }

        public String word() {
            return word;
        }

        ToIntFunction<Shape> key() {
            return key;
        }
    }
}
