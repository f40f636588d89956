package io.vlmrl.data;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * Settings of the built-in task.
 *
 * @param imageSize       side of the square images in pixels
 * @param gridSize        shapes sit on a gridSize x gridSize grid (one per cell)
 * @param minDifficulty   lowest difficulty level drawn (1..{@link #MAX_LEVEL})
 * @param maxDifficulty   highest difficulty level drawn; levels are drawn uniformly in between
 * @param questionTypes   the question types drawn, uniformly
 * @param seed            base seed; the same seed gives the same problems
 * @param heldOutPercent  share of the problem space (by content hash) reserved for the held-out split
 * @param teacherMissRate chance that the {@link Teacher} writing the worked responses overlooks
 *                        each shape it counts, in [0, 1); 0 is a perfect teacher
 */
public record TaskConfig(int imageSize, int gridSize, int minDifficulty, int maxDifficulty,
                         Set<QuestionType> questionTypes, long seed, int heldOutPercent, double teacherMissRate) {
    public static final int MAX_LEVEL = 3;
    /**
     * The default teacher overlooks 45% of the shapes it counts: the demonstrations are those of
     * an imperfect model, as cold-start data usually are, and RL has something to correct.
     */
    public static final double DEFAULT_TEACHER_MISS_RATE = 0.45;

    public TaskConfig {
        Objects.requireNonNull(questionTypes, "questionTypes");
        if (questionTypes.isEmpty()) {
            throw new IllegalArgumentException("questionTypes must not be empty");
        }
        // EnumSet: a fixed iteration order, so the same seed draws the same types in every JVM.
        questionTypes = java.util.Collections.unmodifiableSet(EnumSet.copyOf(questionTypes));
        if (minDifficulty < 1 || maxDifficulty > MAX_LEVEL || minDifficulty > maxDifficulty) {
            throw new IllegalArgumentException("difficulty range must satisfy 1 <= min <= max <= " + MAX_LEVEL
                    + ", got min=" + minDifficulty + ", max=" + maxDifficulty);
        }
        if (gridSize * gridSize < Difficulty.maxShapes(maxDifficulty)) {
            throw new IllegalArgumentException("gridSize " + gridSize + " has fewer cells than the "
                    + Difficulty.maxShapes(maxDifficulty) + " shapes of difficulty " + maxDifficulty);
        }
        if (imageSize < SceneRenderer.MIN_CELL_PIXELS * gridSize) {
            throw new IllegalArgumentException("imageSize must be >= " + SceneRenderer.MIN_CELL_PIXELS * gridSize
                    + " for a " + gridSize + "x" + gridSize + " grid, got " + imageSize);
        }
        if (heldOutPercent < 1 || heldOutPercent > 50) {
            throw new IllegalArgumentException("heldOutPercent must be in [1, 50], got " + heldOutPercent);
        }
        if (!(teacherMissRate >= 0 && teacherMissRate < 1)) {
            throw new IllegalArgumentException("teacherMissRate must be in [0, 1), got " + teacherMissRate);
        }
    }

    /** 48x48 images, 4x4 grid, all difficulties and question types, seed 0, 10% held out, the default teacher. */
    public static TaskConfig defaults() {
        return new TaskConfig(48, 4, 1, MAX_LEVEL, EnumSet.allOf(QuestionType.class), 0L, 10, DEFAULT_TEACHER_MISS_RATE);
    }

    public TaskConfig withImageSize(int size) {
        return new TaskConfig(size, gridSize, minDifficulty, maxDifficulty, questionTypes, seed, heldOutPercent, teacherMissRate);
    }

    public TaskConfig withDifficulty(int min, int max) {
        return new TaskConfig(imageSize, gridSize, min, max, questionTypes, seed, heldOutPercent, teacherMissRate);
    }

    public TaskConfig withQuestionTypes(Set<QuestionType> types) {
        return new TaskConfig(imageSize, gridSize, minDifficulty, maxDifficulty, types, seed, heldOutPercent, teacherMissRate);
    }

    public TaskConfig withSeed(long newSeed) {
        return new TaskConfig(imageSize, gridSize, minDifficulty, maxDifficulty, questionTypes, newSeed, heldOutPercent, teacherMissRate);
    }

    public TaskConfig withTeacherMissRate(double rate) {
        return new TaskConfig(imageSize, gridSize, minDifficulty, maxDifficulty, questionTypes, seed, heldOutPercent, rate);
    }

    /** Number of shapes per difficulty level: more shapes means more distractors. */
    public static final class Difficulty {
        private static final int[] MIN_SHAPES = {2, 4, 6};
        private static final int[] MAX_SHAPES = {3, 5, 8};

        private Difficulty() {
        }

        public static int minShapes(int level) {
            return MIN_SHAPES[checkLevel(level) - 1];
        }

        public static int maxShapes(int level) {
            return MAX_SHAPES[checkLevel(level) - 1];
        }

        private static int checkLevel(int level) {
            if (level < 1 || level > MAX_LEVEL) {
                throw new IllegalArgumentException("difficulty level must be in [1, " + MAX_LEVEL + "], got " + level);
            }
            return level;
        }
    }
}
