package io.vlmrl.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class BuiltinTaskTest {
    private static final List<String> COLORS = List.of("red", "green", "blue", "yellow");
    private static final Pattern COUNT_BOTH = Pattern.compile("how many (\\w+) (circles|squares|triangles) \\?");
    private static final Pattern COUNT_COLOR = Pattern.compile("how many (\\w+) shapes \\?");
    private static final Pattern COUNT_KIND = Pattern.compile("how many (circles|squares|triangles) \\?");
    private static final Pattern MORE = Pattern.compile("are there more (\\w+)(?: shapes)? than (\\w+)(?: shapes)? \\?");
    private static final Pattern TOTAL_COLORS = Pattern.compile("how many (\\w+) and (\\w+) shapes are there in total \\?");
    private static final Pattern TOTAL_KINDS = Pattern.compile("how many (\\w+) and (\\w+) are there in total \\?");
    private static final Pattern SPATIAL = Pattern.compile("what (colour|shape) is (?:the )?(leftmost|rightmost|topmost|bottommost)(?: shape)? \\?");

    private final BuiltinTask task = new BuiltinTask(TaskConfig.defaults());

    @Test
    void answersAgreeWithTheShapesRecoveredFromThePixels() {
        Map<QuestionType, Integer> checked = new EnumMap<>(QuestionType.class);
        for (Split split : Split.values()) {
            for (int i = 0; i < 400; i++) {
                Problem p = task.problem(split, i);
                List<PixelSceneReader.SeenShape> seen = PixelSceneReader.read(p.image(), task.config().gridSize());
                String expected = answerFromPixels(p.question(), seen);
                assertEquals(expected, p.answer(), () -> "problem " + p.question() + " with shapes " + seen);
                checked.merge(QuestionType.fromId(p.type()), 1, Integer::sum);
            }
        }
        for (QuestionType t : task.config().types()) {
            assertTrue(checked.getOrDefault(t, 0) > 100, "too few " + t + " problems checked: " + checked);
        }
    }

    @Test
    void theHarderFamilysAnswersAgreeWithThePixelsAndItsTypesAreBalanced() {
        BuiltinTask hard = new BuiltinTask(TaskConfig.defaults().withQuestionTypes(QuestionType.MULTISTEP).withTeacherMissRate(0));
        Map<QuestionType, Integer> checked = new EnumMap<>(QuestionType.class);
        for (int i = 0; i < 400; i++) {
            Problem p = hard.problem(Split.TRAIN, i);
            List<PixelSceneReader.SeenShape> seen = PixelSceneReader.read(p.image(), hard.config().gridSize());
            assertEquals(answerFromPixels(p.question(), seen), p.answer(), () -> p.question() + " with shapes " + seen);
            assertTrue(p.workedResponse().endsWith("answer " + p.answer()), p.workedResponse());
            checked.merge(QuestionType.fromId(p.type()), 1, Integer::sum);
        }
        for (QuestionType t : QuestionType.MULTISTEP) {
            assertTrue(checked.getOrDefault(t, 0) > 70, "types are drawn evenly: " + checked);
        }
        assertTrue(hard.problem(Split.TRAIN, 0).workedResponse().split(" ").length <= ResponseFormat.MAX_WORDS);
        assertTrue(BuiltinTask.vocabulary(hard.config().types()).containsAll(BuiltinTask.vocabulary()),
                "the family's vocabulary extends the default one");
    }

    @Test
    void shapeCountFollowsTheDifficulty() {
        for (int level = 1; level <= TaskConfig.MAX_LEVEL; level++) {
            BuiltinTask fixed = new BuiltinTask(TaskConfig.defaults().withDifficulty(level, level));
            for (int i = 0; i < 50; i++) {
                Problem p = fixed.problem(Split.TRAIN, i);
                int shapes = PixelSceneReader.read(p.image(), 4).size();
                assertEquals(level, p.difficulty());
                assertTrue(shapes >= TaskConfig.Difficulty.minShapes(level) && shapes <= TaskConfig.Difficulty.maxShapes(level),
                        "level " + level + " has " + shapes + " shapes");
            }
        }
    }

    @Test
    void demonstrationsStopAtTheirOwnHardestLevelAndLeaveTheRestToRl() {
        BuiltinTask task = new BuiltinTask(io.vlmrl.config.Schema.with(TaskConfig.defaults(), "demo_max_difficulty=1"));
        Set<Integer> problemLevels = new HashSet<>(), demoLevels = new HashSet<>();
        for (int i = 0; i < 60; i++) {
            Problem demo = task.demonstration(Split.TRAIN, i);
            int shapes = PixelSceneReader.read(demo.image(), 4).size();
            assertTrue(shapes <= TaskConfig.Difficulty.maxShapes(1), "demonstration " + i + " has " + shapes + " shapes");
            demoLevels.add(demo.difficulty());
            problemLevels.add(task.problem(Split.TRAIN, i).difficulty());
        }
        assertEquals(Set.of(1), demoLevels);
        assertEquals(Set.of(1, 2, 3), problemLevels, "RL prompts and held-out problems keep every level");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> io.vlmrl.config.Schema.with(TaskConfig.defaults(), "max_difficulty=2", "demo_max_difficulty=3"));
        assertTrue(e.getMessage().contains("task.demo_max_difficulty") && e.getMessage().contains("got '3'"), e.getMessage());
    }

    @Test
    void sameSeedGivesTheSameProblemsAndAnotherSeedDifferentOnes() {
        BuiltinTask again = new BuiltinTask(TaskConfig.defaults());
        BuiltinTask other = new BuiltinTask(TaskConfig.defaults().withSeed(7));
        int differing = 0;
        for (int i = 0; i < 50; i++) {
            Problem a = task.problem(Split.TRAIN, i);
            Problem b = again.problem(Split.TRAIN, i);
            assertEquals(a.question(), b.question());
            assertEquals(a.answer(), b.answer());
            assertEquals(a.workedResponse(), b.workedResponse());
            assertArrayEquals(pixels(a.image()), pixels(b.image()));
            Problem c = other.problem(Split.TRAIN, i);
            if (!a.question().equals(c.question()) || !java.util.Arrays.equals(pixels(a.image()), pixels(c.image()))) {
                differing++;
            }
        }
        assertTrue(differing > 45, "another seed should change almost every problem, changed " + differing);
    }

    @Test
    void trainAndHeldOutNeverShareAProblemEvenWhenScenesRepeat() {
        // The easiest level has few distinct scenes, so without the content split they would collide.
        BuiltinTask easy = new BuiltinTask(TaskConfig.defaults().withDifficulty(1, 1)
                .withQuestionTypes(Set.of(QuestionType.COUNTING)));
        Set<String> train = new HashSet<>();
        int trainDraws = 6000;
        for (int i = 0; i < trainDraws; i++) {
            train.add(key(easy.problem(Split.TRAIN, i)));
        }
        assertTrue(train.size() < trainDraws, "the test needs repeated train problems to be meaningful");
        for (int i = 0; i < 600; i++) {
            Problem p = easy.problem(Split.HELD_OUT, i);
            assertFalse(train.contains(key(p)), "held-out problem " + i + " also appears in train: " + p.question());
        }
    }

    @Test
    void workedResponsesAreShortWellFormedCorrectAndInTheVocabulary() {
        Set<String> vocabulary = new HashSet<>(BuiltinTask.vocabulary());
        io.vlmrl.reward.BuiltinSceneReward reward = new io.vlmrl.reward.BuiltinSceneReward(0.1, 0.0);
        for (int i = 0; i < 500; i++) {
            Problem p = task.problem(Split.TRAIN, i);
            io.vlmrl.reward.Reward r = reward.score(p, p.workedResponse());
            assertTrue(r.correct(), p.workedResponse());
            assertEquals(1.1, r.score(), 1e-12);
            assertTrue(p.workedResponse().split(" ").length <= ResponseFormat.MAX_WORDS, p.workedResponse());
            for (String word : (p.question() + " " + p.workedResponse()).split(" ")) {
                assertTrue(vocabulary.contains(word), "'" + word + "' missing from the vocabulary");
            }
        }
    }

    @Test
    void rejectsInvalidConfigurationAndIndex() {
        assertThrows(IllegalArgumentException.class, () -> TaskConfig.defaults().withDifficulty(0, 2));
        assertThrows(IllegalArgumentException.class, () -> TaskConfig.defaults().withDifficulty(3, 2));
        assertThrows(IllegalArgumentException.class, () -> TaskConfig.defaults().withImageSize(16));
        assertThrows(IllegalArgumentException.class, () -> TaskConfig.defaults().withQuestionTypes(Set.of()));
        assertThrows(IllegalArgumentException.class, () -> task.problem(Split.TRAIN, -1));
        assertThrows(IndexOutOfBoundsException.class, () -> task.dataset(Split.TRAIN, 3).get(3));
    }

    @Test
    void rendersAtOtherImageSizes() {
        BuiltinTask big = new BuiltinTask(TaskConfig.defaults().withImageSize(64));
        Problem p = big.problem(Split.TRAIN, 3);
        assertEquals(64, p.image().getWidth());
        assertEquals(answerFromPixels(p.question(), PixelSceneReader.read(p.image(), 4)), p.answer());
        assertNotEquals(0, PixelSceneReader.read(p.image(), 4).size());
    }

    /** Answers a question from the recovered shapes, parsing the question text on its own. */
    private static String answerFromPixels(String question, List<PixelSceneReader.SeenShape> shapes) {
        Matcher m;
        if ((m = COUNT_BOTH.matcher(question)).matches()) {
            String color = m.group(1);
            String kind = singular(m.group(2));
            return count(shapes, s -> s.color().equals(color) && s.kind().equals(kind));
        }
        if ((m = COUNT_COLOR.matcher(question)).matches()) {
            String color = m.group(1);
            return count(shapes, s -> s.color().equals(color));
        }
        if ((m = COUNT_KIND.matcher(question)).matches()) {
            String kind = singular(m.group(1));
            return count(shapes, s -> s.kind().equals(kind));
        }
        if ((m = MORE.matcher(question)).matches()) {
            return countOf(shapes, m.group(1)) > countOf(shapes, m.group(2)) ? "yes" : "no";
        }
        if ((m = TOTAL_COLORS.matcher(question)).matches() || (m = TOTAL_KINDS.matcher(question)).matches()) {
            return Integer.toString(countOf(shapes, m.group(1)) + countOf(shapes, m.group(2)));
        }
        if ((m = DIFFERENCE.matcher(question)).matches()) {
            return Integer.toString(Math.max(0, countOf(shapes, m.group(1)) - countOf(shapes, m.group(2))));
        }
        if ((m = SUM_COMPARISON.matcher(question)).matches()) {
            return countOf(shapes, m.group(1)) + countOf(shapes, m.group(2)) > countOf(shapes, m.group(3)) + countOf(shapes, m.group(4))
                    ? "yes" : "no";
        }
        if (question.equals("how many shapes have the two most common colours ?")) {
            List<Integer> counts = new java.util.ArrayList<>(COLORS.stream().map(c -> countOf(shapes, c)).sorted().toList());
            return Integer.toString(counts.get(counts.size() - 1) + counts.get(counts.size() - 2));
        }
        if (question.equals("how many shapes are there of the most common kind and of the least common colour ?")) {
            int most = java.util.stream.Stream.of("circles", "squares", "triangles").mapToInt(k -> countOf(shapes, k)).max().orElseThrow();
            int least = COLORS.stream().mapToInt(c -> countOf(shapes, c)).min().orElseThrow();
            return Integer.toString(most + least);
        }
        if ((m = SPATIAL.matcher(question)).matches()) {
            PixelSceneReader.SeenShape extreme = extreme(shapes, m.group(2));
            return m.group(1).equals("colour") ? extreme.color() : extreme.kind();
        }
        throw new AssertionError("unrecognised question: " + question);
    }

    private static final Pattern DIFFERENCE =
            Pattern.compile("how many more (\\w+)(?: shapes)? than (\\w+)(?: shapes)? are there \\?");
    private static final Pattern SUM_COMPARISON =
            Pattern.compile("are there more (\\w+) and (\\w+) shapes than (\\w+) and (\\w+) shapes \\?");

    private static PixelSceneReader.SeenShape extreme(List<PixelSceneReader.SeenShape> shapes, String direction) {
        java.util.function.ToDoubleFunction<PixelSceneReader.SeenShape> key = switch (direction) {
            case "leftmost" -> PixelSceneReader.SeenShape::centerX;
            case "rightmost" -> s -> -s.centerX();
            case "topmost" -> PixelSceneReader.SeenShape::centerY;
            default -> s -> -s.centerY();
        };
        double best = shapes.stream().mapToDouble(key).min().orElseThrow();
        List<PixelSceneReader.SeenShape> at = shapes.stream().filter(s -> Math.abs(key.applyAsDouble(s) - best) < 3).toList();
        assertEquals(1, at.size(), "the " + direction + " shape is ambiguous: " + shapes);
        return at.get(0);
    }

    private static int countOf(List<PixelSceneReader.SeenShape> shapes, String word) {
        if (COLORS.contains(word)) {
            return (int) shapes.stream().filter(s -> s.color().equals(word)).count();
        }
        String kind = singular(word);
        return (int) shapes.stream().filter(s -> s.kind().equals(kind)).count();
    }

    private static String count(List<PixelSceneReader.SeenShape> shapes, Predicate<PixelSceneReader.SeenShape> filter) {
        return Long.toString(shapes.stream().filter(filter).count());
    }

    private static String singular(String plural) {
        return plural.substring(0, plural.length() - 1);
    }

    private static String key(Problem p) {
        // SHA-256 of the pixels: a weak hash such as Arrays.hashCode collides on shifted shapes.
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(4 * p.image().getWidth() * p.image().getHeight());
        bytes.asIntBuffer().put(pixels(p.image()));
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(bytes.array());
            return p.question() + "|" + java.util.HexFormat.of().formatHex(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static int[] pixels(BufferedImage image) {
        return image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
    }
}
