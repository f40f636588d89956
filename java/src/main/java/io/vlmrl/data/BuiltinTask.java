package io.vlmrl.data;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * The built-in visual reasoning task: rendered scenes of coloured shapes with counting,
 * comparison, spatial and arithmetic questions.
 *
 * <p>Problem {@code i} of a split is a pure function of (config, split, i). Train and held-out are
 * disjoint by content: every candidate (scene, question) is hashed, the hash decides which split
 * owns it, and each split's seed stream skips candidates owned by the other. So no held-out
 * problem is ever seen in training, even though small scenes repeat.
 */
public final class BuiltinTask {
    /**
     * Size of the training pool: RL prompts and SFT demonstrations are drawn from the first this-many
     * problems of the train split (generated on demand), practically never the same one twice.
     */
    public static final int TRAIN_POOL = 1_000_000;
    /** Candidates tried per problem before giving up; with 10% held out about 10 are needed. */
    private static final int MAX_ATTEMPTS = 100_000;
    /**
     * The extra field holding a problem's exact derivation: the reference of the
     * {@code builtin-scene} reward's reasoning credit, also when the worked response is a teacher's.
     */
    public static final String DERIVATION_FIELD = "derivation";
    /** Separates the question-type stream of the harder family from the problem's. */
    private static final long TYPE_STREAM = 0x7e5e1ecL;
    /** Separates the teacher's random stream from the problem's. */
    private static final long TEACHER_STREAM = 0x7eac4e5L;

    private final TaskConfig config;
    private final SceneSampler sampler;
    private final QuestionWriter writer = new QuestionWriter();
    private final SceneRenderer renderer;
    private final List<QuestionType> types;
    private final Teacher teacher;
    private final boolean balancedTypes;

    public BuiltinTask(TaskConfig config) {
        this.config = config;
        this.sampler = new SceneSampler(config.gridSize());
        this.renderer = new SceneRenderer(config.imageSize());
        this.types = List.copyOf(config.types());
        this.teacher = new Teacher(config.teacherMissRate());
        this.balancedTypes = !java.util.Collections.disjoint(config.types(), QuestionType.MULTISTEP);
    }

    public TaskConfig config() {
        return config;
    }

    /**
     * Problem number {@code index} of a split; the same arguments always give the same problem.
     * Its worked response is the exact derivation.
     */
    public Problem problem(Split split, long index) {
        return generate(split, index, WorkedBy.EXACT);
    }

    /**
     * The same problem as {@link #problem} with the worked response written by the task's
     * {@link Teacher} (identical for a perfect teacher): what supervised training imitates. Its
     * worked response may contradict its (exact) answer, so evaluate on {@link #problem}s. With
     * {@code task.demo_max_difficulty} below {@code task.max_difficulty} the demonstrations are
     * drawn from the levels up to it only (then problem i and demonstration i differ).
     */
    public Problem demonstration(Split split, long index) {
        return generate(split, index, WorkedBy.TEACHER);
    }

    /** Who derives a problem's worked response. */
    private enum WorkedBy { EXACT, TEACHER }

    private Problem generate(Split split, long index, WorkedBy workedBy) {
        if (index < 0) {
            throw new IllegalArgumentException("index must be >= 0, got " + index);
        }
        // The harder family's questions reject many scenes; drawing the type once per problem keeps the
        // types equally frequent. (The default task draws it per attempt, as its recorded problems did.)
        QuestionType fixedType = balancedTypes
                ? types.get(new Random(mix(config.seed() ^ TYPE_STREAM, split.ordinal(), index, 0)).nextInt(types.size())) : null;
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            Random rng = new Random(mix(config.seed(), split.ordinal(), index, attempt));
            int maxDifficulty = workedBy == WorkedBy.TEACHER ? config.demonstrationMaxDifficulty() : config.maxDifficulty();
            int difficulty = config.minDifficulty() + rng.nextInt(maxDifficulty - config.minDifficulty() + 1);
            QuestionType drawn = types.get(rng.nextInt(types.size()));
            QuestionType type = fixedType != null ? fixedType : drawn;
            Scene scene = sampler.sample(rng, difficulty);
            Optional<QuestionWriter.Question> question = writer.write(scene, type, rng);
            if (question.isEmpty() || splitOf(scene, question.get().text()) != split) {
                continue;
            }
            QuestionWriter.Question q = question.get();
            QuestionWriter.Solution exact = q.solve(scene::count);
            QuestionWriter.Solution worked = exact;
            if (workedBy == WorkedBy.TEACHER) {
                // The teacher's misses come from their own stream so that the problems do not depend on the teacher.
                Random teacherRng = new Random(mix(config.seed() ^ TEACHER_STREAM, split.ordinal(), index, attempt));
                worked = q.solve(filter -> teacher.count(scene, filter, teacherRng));
            }
            return new Problem("builtin " + split.name().toLowerCase(java.util.Locale.ROOT) + " #" + index,
                    java.util.List.of(ImageSource.of(renderer.render(scene))), q.text(), exact.answer(), type.id(), difficulty,
                    worked.response(), java.util.Map.of(DERIVATION_FIELD, exact.response()));
        }
        throw new IllegalStateException("no " + split + " problem found after " + MAX_ATTEMPTS
                + " candidates for index " + index + "; the task configuration leaves too few distinct problems");
    }

    /** The first {@code size} problems of a split as a {@link Dataset}; problems are generated on demand. */
    public Dataset dataset(Split split, int size) {
        return dataset(split, size, WorkedBy.EXACT);
    }

    /** The first {@code size} {@link #demonstration demonstrations} of a split: the supervised training data. */
    public Dataset demonstrations(Split split, int size) {
        return dataset(split, size, WorkedBy.TEACHER);
    }

    private Dataset dataset(Split split, int size, WorkedBy workedBy) {
        if (size < 0) {
            throw new IllegalArgumentException("size must be >= 0, got " + size);
        }
        return new Dataset() {
            @Override
            public String name() {
                return "builtin-" + split.name().toLowerCase(java.util.Locale.ROOT) + (workedBy == WorkedBy.TEACHER ? "-demonstrations" : "");
            }

            @Override
            public int size() {
                return size;
            }

            @Override
            public Problem get(int index) {
                java.util.Objects.checkIndex(index, size);
                return generate(split, index, workedBy);
            }
        };
    }

    /**
     * Every word that the task's questions and worked responses use, in a fixed order, for building
     * the model's word tokenizer. Words are separated by single spaces in all task text.
     */
    public static List<String> vocabulary() {
        return vocabulary(java.util.EnumSet.of(QuestionType.COUNTING, QuestionType.COMPARISON, QuestionType.SPATIAL,
                QuestionType.ARITHMETIC));
    }

    /**
     * The words of the task with these question types: {@link #vocabulary()}'s, followed, when a type
     * of the harder family is among them, by that family's words (so the default task's vocabulary,
     * and with it every recorded result, stays as it was).
     */
    public static List<String> vocabulary(java.util.Set<QuestionType> types) {
        List<String> base = baseVocabulary();
        if (java.util.Collections.disjoint(types, QuestionType.MULTISTEP)) return base;
        Set<String> words = new LinkedHashSet<>(base);
        words.addAll(List.of("difference", "of", "most", "least", "common", "kind", "have", "two", "colours", "top"));
        return List.copyOf(new ArrayList<>(words));
    }

    private static List<String> baseVocabulary() {
        Set<String> words = new LinkedHashSet<>();
        words.addAll(List.of("how", "many", "are", "there", "more", "than", "what", "colour", "is", "the",
                "shape", "shapes", "and", "in", "total", "?", ResponseFormat.ANSWER_KEYWORD, "yes", "no"));
        for (ShapeColor c : ShapeColor.values()) {
            words.add(c.word());
        }
        for (ShapeKind k : ShapeKind.values()) {
            words.add(k.word());
            words.add(k.plural());
        }
        for (Scene.Direction d : Scene.Direction.values()) {
            words.add(d.word());
        }
        // Counts and sums of two counts: at most twice the largest number of shapes.
        for (int n = 0; n <= 2 * TaskConfig.Difficulty.maxShapes(TaskConfig.MAX_LEVEL); n++) {
            words.add(Integer.toString(n));
        }
        return List.copyOf(new ArrayList<>(words));
    }

    private Split splitOf(Scene scene, String question) {
        long hash = fnv1a64((scene.describe() + "|" + question).getBytes(StandardCharsets.UTF_8));
        return Math.floorMod(mix(hash, 0, 0, 0), 100) < config.heldOutPercent() ? Split.HELD_OUT : Split.TRAIN;
    }

    private static long fnv1a64(byte[] bytes) {
        long h = 0xcbf29ce484222325L;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** Combines the inputs into one well-spread 64-bit seed (SplitMix64 finaliser). */
    private static long mix(long a, long b, long c, long d) {
        long z = a;
        for (long v : new long[] {b, c, d}) {
            z = (z ^ v) * 0x9e3779b97f4a7c15L + 0x632be59bd9b4e019L;
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            z ^= z >>> 31;
        }
        return z;
    }
}
