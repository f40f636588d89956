package io.vlmrl.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TeacherTest {
    private static final double MISS_RATE = 0.3;
    private final BuiltinTask exact = new BuiltinTask(TaskConfig.defaults().withTeacherMissRate(0));
    private final BuiltinTask taught = new BuiltinTask(TaskConfig.defaults().withTeacherMissRate(MISS_RATE));

    @Test
    void aPerfectTeacherDemonstratesTheExactWorkedResponse() {
        for (int i = 0; i < 300; i++) {
            assertEquals(exact.problem(Split.TRAIN, i).workedResponse(), exact.demonstration(Split.TRAIN, i).workedResponse());
        }
    }

    @Test
    void problemsAnswersAndHeldOutSetDoNotDependOnTheTeacher() {
        for (Split split : Split.values()) {
            for (int i = 0; i < 200; i++) {
                Problem a = exact.problem(split, i);
                Problem b = taught.problem(split, i);
                Problem demo = taught.demonstration(split, i);
                for (Problem p : List.of(b, demo)) {
                    assertEquals(a.question(), p.question());
                    assertEquals(a.answer(), p.answer());
                    assertEquals(a.type(), p.type());
                    assertArrayEquals(pixels(a), pixels(p));
                }
                assertEquals(a.workedResponse(), b.workedResponse(), "problem() keeps the exact derivation");
            }
        }
    }

    /** The teacher only undercounts, spatial facts are exact, and its answer follows from its own facts. */
    @Test
    void demonstrationsUndercountConsistently() {
        int undercounted = 0;
        for (int i = 0; i < 500; i++) {
            String[] truth = exact.problem(Split.TRAIN, i).workedResponse().split(" ");
            Problem demo = taught.demonstration(Split.TRAIN, i);
            String[] told = demo.workedResponse().split(" ");
            assertEquals(truth.length, told.length, demo.workedResponse());
            int answerWord = truth.length - 1;
            for (int w = 0; w < answerWord; w++) {
                if (isNumber(truth[w])) {
                    int t = Integer.parseInt(told[w]);
                    assertTrue(t >= 0 && t <= Integer.parseInt(truth[w]), demo.workedResponse() + " vs " + String.join(" ", truth));
                    undercounted += t < Integer.parseInt(truth[w]) ? 1 : 0;
                } else {
                    assertEquals(truth[w], told[w], "words other than counts are exact");
                }
            }
            String expected = demo.type().equals(QuestionType.SPATIAL.id()) ? truth[answerWord] : answerFromFacts(demo.type(), told);
            assertEquals(expected, told[answerWord], demo.workedResponse());
            assertTrue(ResponseFormat.parse(demo.workedResponse()).wellFormed(), demo.workedResponse());
        }
        assertTrue(undercounted > 100, "a 30% teacher undercounts often, got " + undercounted);
    }

    /**
     * The default task's first problems and demonstrations, pinned: every recorded result (the
     * README's accuracies, the held-out set) depends on them, so a change must be deliberate.
     * The exact problems hash as they did before the teacher existed.
     */
    @Test
    void problemsAndDemonstrationsOfTheDefaultTaskArePinned() throws Exception {
        BuiltinTask task = new BuiltinTask(TaskConfig.defaults());
        assertEquals("4cf1fb65b625799007543a02f52bf17f95692e448aa29155f1e83e204d0dae5a", digest(task, false));
        assertEquals("a74e6b28fd88818b72d1af7945067a08f5bf3c2fd01fc4c1bde6e4169694b6b1", digest(task, true));
    }

    @Test
    void demonstrationsAreTheSameOnEveryCallAndInEveryInstance() {
        BuiltinTask again = new BuiltinTask(TaskConfig.defaults().withTeacherMissRate(MISS_RATE));
        Dataset demonstrations = taught.demonstrations(Split.TRAIN, 100);
        for (int i = 0; i < 100; i++) {
            String first = demonstrations.get(i).workedResponse();
            assertEquals(first, demonstrations.get(i).workedResponse());
            assertEquals(first, again.demonstration(Split.TRAIN, i).workedResponse());
        }
    }

    @Test
    void overlooksTheConfiguredShareOfShapes() {
        Teacher teacher = new Teacher(MISS_RATE);
        Random rng = new Random(1);
        long seen = 0;
        long total = 0;
        for (int i = 0; i < 2000; i++) {
            Scene scene = new SceneSampler(4).sample(rng, 3);
            total += scene.count(s -> true);
            seen += teacher.count(scene, s -> true, rng);
        }
        assertEquals(1 - MISS_RATE, (double) seen / total, 0.02);
        Scene scene = new SceneSampler(4).sample(new Random(2), 3);
        assertEquals(scene.count(s -> true), new Teacher(0).count(scene, s -> true, rng));
    }

    @Test
    void rejectsMissRatesOutsideZeroToOne() {
        for (double bad : new double[] {-0.1, 1.0, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Teacher(bad));
            assertTrue(e.getMessage().contains("missRate") && e.getMessage().contains(String.valueOf(bad)), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> TaskConfig.defaults().withTeacherMissRate(bad));
        }
    }

    private static String digest(BuiltinTask task, boolean demonstrations) throws Exception {
        java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
        for (Split split : Split.values()) {
            for (int i = 0; i < 40; i++) {
                Problem p = demonstrations ? task.demonstration(split, i) : task.problem(split, i);
                md.update((p.question() + "|" + p.answer() + "|" + p.workedResponse() + "|").getBytes(java.nio.charset.StandardCharsets.UTF_8));
                for (int v : pixels(p)) {
                    md.update((byte) v);
                    md.update((byte) (v >> 8));
                    md.update((byte) (v >> 16));
                }
            }
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }

    private static String answerFromFacts(String type, String[] words) {
        int n = words.length;
        return switch (QuestionType.fromId(type)) {
            case COUNTING -> words[n - 3];
            case COMPARISON -> Integer.parseInt(words[1]) > Integer.parseInt(words[3]) ? "yes" : "no";
            case ARITHMETIC -> Integer.toString(Integer.parseInt(words[1]) + Integer.parseInt(words[3]));
            case SPATIAL -> throw new AssertionError("spatial answers involve no count");
            default -> throw new AssertionError("not a type of the default task: " + type);
        };
    }

    private static boolean isNumber(String word) {
        return word.chars().allMatch(Character::isDigit);
    }

    private static int[] pixels(Problem p) {
        return p.image().getRGB(0, 0, p.image().getWidth(), p.image().getHeight(), null, 0, p.image().getWidth());
    }

    @Test
    void theHarderFamilysDemonstrationsFollowFromTheTeachersOwnCounts() {
        BuiltinTask hard = new BuiltinTask(TaskConfig.defaults().withQuestionTypes(QuestionType.MULTISTEP).withTeacherMissRate(0.45));
        int wrong = 0;
        for (int i = 0; i < 300; i++) {
            Problem demo = hard.demonstration(Split.TRAIN, i);
            java.util.List<String> w = java.util.List.of(demo.workedResponse().split(" "));
            java.util.Map<String, Integer> told = new java.util.HashMap<>();
            for (int k = 0; k + 1 < w.size(); k++) {
                if (isNumber(w.get(k + 1)) && !w.get(k).equals("total") && !w.get(k).equals("difference")) {
                    told.put(w.get(k), Integer.parseInt(w.get(k + 1)));
                }
            }
            String answer = w.get(w.size() - 1);
            String derived = switch (QuestionType.fromId(demo.type())) {
                case DIFFERENCE -> Integer.toString(Math.max(0, told.get(w.get(0)) - told.get(w.get(2))));
                case SUM_COMPARISON -> told.get(w.get(0)) + told.get(w.get(2)) > told.get(w.get(6)) + told.get(w.get(8)) ? "yes" : "no";
                case TOP_TWO -> Integer.toString(told.get(w.get(w.indexOf("top") + 1)) + told.get(w.get(w.indexOf("top") + 2)));
                case TALLY -> Integer.toString(told.get(w.get(w.indexOf("most") + 1)) + told.get(w.get(w.indexOf("least") + 1)));
                default -> throw new AssertionError(demo.type());
            };
            assertEquals(derived, answer, demo.workedResponse());
            wrong += answer.equals(demo.answer()) ? 0 : 1;
        }
        assertTrue(wrong > 30, "an imperfect teacher's answers are often wrong: " + wrong);
    }
}
