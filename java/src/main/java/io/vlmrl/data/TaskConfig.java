package io.vlmrl.data;

import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Section;

import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code task.*} keys: the built-in task's problems.
 *
 * @param seed            base seed; the same seed gives the same problems and held-out set
 * @param imageSize       side of the square rendered images in pixels
 * @param gridSize        shapes sit on a gridSize x gridSize grid (one per cell)
 * @param minDifficulty   lowest difficulty level drawn (1..{@link #MAX_LEVEL})
 * @param maxDifficulty   highest difficulty level drawn; levels are drawn uniformly in between
 * @param questionTypes   the question types drawn, uniformly ({@link QuestionType#id()}s)
 * @param heldOutPercent  share of the problem space (by content hash) reserved for the held-out split
 * @param teacherMissRate chance that the {@link Teacher} writing the worked responses overlooks
 *                        each shape it counts, in [0, 1); 0 is a perfect teacher
 */
@Section("task")
public record TaskConfig(
        @Key(def = "0", min = 0, max = Integer.MAX_VALUE, help = "seed of the built-in task's problems (fixes the held-out set)")
        long seed,
        @Key(def = "48", min = 8, max = 1024, help = "side of the rendered images in pixels")
        int imageSize,
        @Key(def = "4", min = 2, max = 16, help = "shapes sit on a grid_size x grid_size grid")
        int gridSize,
        @Key(def = "1", min = 1, max = MAX_LEVEL, help = "easiest difficulty level drawn")
        int minDifficulty,
        @Key(def = "3", min = 1, max = MAX_LEVEL, help = "hardest difficulty level drawn")
        int maxDifficulty,
        @Key(def = "counting,comparison,spatial,arithmetic", help = "question types drawn")
        List<String> questionTypes,
        @Key(def = "10", min = 1, max = 50, help = "percent of the problem space held out for evaluation")
        int heldOutPercent,
        @Key(def = "0.45", min = 0, max = 0.99,
                help = "chance that the teacher of the SFT demonstrations overlooks each shape it counts (0: perfect)")
        double teacherMissRate,
        @Key(def = "0", min = 0, max = MAX_LEVEL, help = "hardest difficulty level of the SFT demonstrations (0: "
                + "task.max_difficulty); below it, the harder levels are left to RL")
        int demoMaxDifficulty) {

    public static final int MAX_LEVEL = 3;

    public TaskConfig {
        questionTypes = List.copyOf(questionTypes);
        if (questionTypes.isEmpty()) {
            throw new IllegalArgumentException("config key 'task.question_types': expected at least one of "
                    + QuestionType.ids() + ", got none");
        }
        for (String id : questionTypes) {
            try {
                QuestionType.fromId(id);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("config key 'task.question_types': " + e.getMessage(), e);
            }
        }
        if (minDifficulty < 1 || maxDifficulty > MAX_LEVEL || minDifficulty > maxDifficulty) {
            throw new IllegalArgumentException("config key 'task.max_difficulty': expected an integer in ["
                    + minDifficulty + " (task.min_difficulty), " + MAX_LEVEL + "], got '" + maxDifficulty + "'");
        }
        if (gridSize * gridSize < Difficulty.maxShapes(maxDifficulty)) {
            throw new IllegalArgumentException("config key 'task.grid_size': a " + gridSize + "x" + gridSize
                    + " grid has fewer cells than the " + Difficulty.maxShapes(maxDifficulty) + " shapes of difficulty "
                    + maxDifficulty + ", got '" + gridSize + "'");
        }
        if (imageSize < SceneRenderer.MIN_CELL_PIXELS * gridSize) {
            throw new IllegalArgumentException("config key 'task.image_size': expected >= "
                    + SceneRenderer.MIN_CELL_PIXELS * gridSize + " for a " + gridSize + "x" + gridSize + " grid, got '"
                    + imageSize + "'");
        }
        if (demoMaxDifficulty != 0 && (demoMaxDifficulty < minDifficulty || demoMaxDifficulty > maxDifficulty)) {
            throw new IllegalArgumentException("config key 'task.demo_max_difficulty': expected 0 or an integer in ["
                    + minDifficulty + " (task.min_difficulty), " + maxDifficulty + " (task.max_difficulty)], got '"
                    + demoMaxDifficulty + "'");
        }
        if (!(teacherMissRate >= 0 && teacherMissRate < 1)) {
            throw new IllegalArgumentException("config key 'task.teacher_miss_rate': expected a number in [0, 1), got '"
                    + teacherMissRate + "'");
        }
    }

    /**
     * 48x48 images, 4x4 grid, all difficulties and question types, seed 0, 10% held out, a teacher
     * that overlooks 45% of the shapes it counts: its demonstrations are those of an imperfect
     * model, as cold-start data usually are, and RL has something to correct.
     */
    public static TaskConfig defaults() {
        return Schema.defaults(TaskConfig.class);
    }

    /** The question types, in their canonical (enum) order whatever order the list has. */
    public Set<QuestionType> types() {
        EnumSet<QuestionType> set = EnumSet.noneOf(QuestionType.class);
        questionTypes.forEach(id -> set.add(QuestionType.fromId(id)));
        return Collections.unmodifiableSet(set);
    }

    public TaskConfig withImageSize(int size) {
        return Schema.with(this, "image_size=" + size);
    }

    public TaskConfig withDifficulty(int min, int max) {
        return Schema.with(this, "min_difficulty=" + min, "max_difficulty=" + max);
    }

    public TaskConfig withQuestionTypes(Set<QuestionType> types) {
        return new TaskConfig(seed, imageSize, gridSize, minDifficulty, maxDifficulty,
                types.stream().sorted().map(QuestionType::id).toList(), heldOutPercent, teacherMissRate, demoMaxDifficulty);
    }

    /** The hardest difficulty level of the demonstrations ({@code demo_max_difficulty}, or max_difficulty for 0). */
    public int demonstrationMaxDifficulty() {
        return demoMaxDifficulty == 0 ? maxDifficulty : demoMaxDifficulty;
    }

    public TaskConfig withSeed(long newSeed) {
        return Schema.with(this, "seed=" + newSeed);
    }

    public TaskConfig withTeacherMissRate(double rate) {
        return Schema.with(this, "teacher_miss_rate=" + rate);
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
