package io.vlmrl.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Draws random scenes: a number of shapes set by the difficulty, in distinct random cells. */
final class SceneSampler {
    private final int gridSize;

    SceneSampler(int gridSize) {
        this.gridSize = gridSize;
    }

    Scene sample(Random rng, int difficulty) {
        int min = TaskConfig.Difficulty.minShapes(difficulty);
        int max = TaskConfig.Difficulty.maxShapes(difficulty);
        int count = min + rng.nextInt(max - min + 1);
        List<Integer> cells = new ArrayList<>();
        for (int c = 0; c < gridSize * gridSize; c++) {
            cells.add(c);
        }
        java.util.Collections.shuffle(cells, rng);
        ShapeColor[] colors = ShapeColor.values();
        ShapeKind[] kinds = ShapeKind.values();
        ShapeSize[] sizes = ShapeSize.values();
        List<Shape> shapes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int cell = cells.get(i);
            shapes.add(new Shape(colors[rng.nextInt(colors.length)], kinds[rng.nextInt(kinds.length)],
                    sizes[rng.nextInt(sizes.length)], cell % gridSize, cell / gridSize));
        }
        return new Scene(gridSize, shapes);
    }
}
