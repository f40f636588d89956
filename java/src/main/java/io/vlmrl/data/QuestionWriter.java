package io.vlmrl.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Writes one question of a given type about a scene, with the way to solve it given a way of
 * counting (exactly, or as the task's {@link Teacher} counts). Counted attributes are mostly
 * taken from shapes that are present, so that the answer is not "0" most of the time.
 */
final class QuestionWriter {
    /** Chance that a counted or compared attribute is taken from a shape in the scene. */
    private static final double PRESENT_ATTRIBUTE_PROBABILITY = 0.8;

    /** How many shapes of the scene pass a filter, as read by whoever solves the question. */
    @FunctionalInterface
    interface Counter {
        int count(Predicate<Shape> filter);
    }

    /** The facts read off the image (the reasoning words) and the answer they lead to. */
    record Solution(List<String> reasoning, String answer) {
        String response() {
            return ResponseFormat.withReasoning(reasoning, answer);
        }
    }

    /** A question's text and how to solve it: the answer follows from the counts read. */
    record Question(String text, Function<Counter, Solution> solver) {
        Solution solve(Counter counter) {
            return solver.apply(counter);
        }
    }

    /**
     * @return the question, or empty when this scene cannot support the type (e.g. no shape is
     *         strictly leftmost); the caller then draws another scene
     */
    Optional<Question> write(Scene scene, QuestionType type, Random rng) {
        return switch (type) {
            case COUNTING -> Optional.of(counting(scene, rng));
            case COMPARISON -> Optional.of(comparison(scene, rng));
            case SPATIAL -> spatial(scene, rng);
            case ARITHMETIC -> Optional.of(arithmetic(scene, rng));
            case DIFFERENCE -> difference(scene, rng);
            case SUM_COMPARISON -> Optional.of(sumComparison(rng));
            case TOP_TWO -> topTwo(scene);
            case TALLY -> tally(scene);
        };
    }

    // ---- the harder family: answers that combine several counts in a few steps ----

    /** "how many more circles than squares are there ?", asked only where the first is at least the second. */
    private Optional<Question> difference(Scene scene, Random rng) {
        Attribute[] pair = pickAttributePair(scene, rng);
        if (scene.count(pair[0].filter()) < scene.count(pair[1].filter())) pair = new Attribute[] {pair[1], pair[0]};
        if (scene.count(pair[0].filter()) == scene.count(pair[1].filter())) return Optional.empty();
        Attribute[] p = pair;
        String text = "how many more " + p[0].colorWord().map(w -> w + " ").orElse("") + p[0].pluralNoun() + " than "
                + p[1].colorWord().map(w -> w + " ").orElse("") + p[1].pluralNoun() + " are there ?";
        return Optional.of(new Question(text, counter -> {
            int a = counter.count(p[0].filter());
            int b = counter.count(p[1].filter());
            String d = Integer.toString(Math.max(0, a - b));
            return new Solution(List.of(p[0].shortWord(), Integer.toString(a), p[1].shortWord(), Integer.toString(b),
                    "difference", d), d);
        }));
    }

    /** "are there more red and blue shapes than green and yellow shapes ?": the colours split into two pairs at random. */
    private Question sumComparison(Random rng) {
        List<ShapeColor> colours = new ArrayList<>(List.of(ShapeColor.values()));
        java.util.Collections.shuffle(colours, rng);
        ShapeColor a = colours.get(0), b = colours.get(1), c = colours.get(2), d = colours.get(3);
        String text = "are there more " + a.word() + " and " + b.word() + " shapes than " + c.word() + " and " + d.word()
                + " shapes ?";
        return new Question(text, counter -> {
            int[] n = new int[4];
            List<String> reasoning = new ArrayList<>();
            ShapeColor[] order = {a, b, c, d};
            for (int i = 0; i < 4; i++) {
                ShapeColor colour = order[i];
                n[i] = counter.count(s -> s.color() == colour);
                reasoning.add(colour.word());
                reasoning.add(Integer.toString(n[i]));
                if (i % 2 == 1) {
                    reasoning.add("total");
                    reasoning.add(Integer.toString(n[i - 1] + n[i]));
                }
            }
            return new Solution(reasoning, n[0] + n[1] > n[2] + n[3] ? "yes" : "no");
        });
    }

    /**
     * "how many shapes have the two most common colours ?": every colour counted, the two largest
     * counts added. Asked only where the exact counts give a clear top two.
     */
    private Optional<Question> topTwo(Scene scene) {
        int[] exact = colourCounts(scene::count);
        int[] sorted = exact.clone();
        java.util.Arrays.sort(sorted);
        if (sorted[3] == sorted[2] || sorted[2] == sorted[1]) return Optional.empty();
        return Optional.of(new Question("how many shapes have the two most common colours ?", counter -> {
            int[] n = colourCounts(counter);
            List<String> reasoning = new ArrayList<>();
            ShapeColor[] colours = ShapeColor.values();
            for (int i = 0; i < colours.length; i++) {
                reasoning.add(colours[i].word());
                reasoning.add(Integer.toString(n[i]));
            }
            int first = argmax(n, -1), second = argmax(n, first);
            reasoning.addAll(List.of("top", colours[first].word(), colours[second].word()));
            String total = Integer.toString(n[first] + n[second]);
            reasoning.addAll(List.of("total", total));
            return new Solution(reasoning, total);
        }));
    }

    /**
     * "how many shapes are there of the most common kind and of the least common colour ?": every kind
     * and every colour counted, the largest kind count and the smallest colour count added. Asked
     * only where the exact counts give a unique most common kind and least common colour.
     */
    private Optional<Question> tally(Scene scene) {
        int[] kinds = kindCounts(scene::count), colours = colourCounts(scene::count);
        if (!uniqueExtreme(kinds, true) || !uniqueExtreme(colours, false)) return Optional.empty();
        return Optional.of(new Question("how many shapes are there of the most common kind and of the least common colour ?",
                counter -> {
                    int[] k = kindCounts(counter), c = colourCounts(counter);
                    List<String> reasoning = new ArrayList<>();
                    ShapeKind[] kindValues = ShapeKind.values();
                    for (int i = 0; i < k.length; i++) {
                        reasoning.add(kindValues[i].plural());
                        reasoning.add(Integer.toString(k[i]));
                    }
                    int most = argmax(k, -1);
                    reasoning.addAll(List.of("most", kindValues[most].plural()));
                    ShapeColor[] colourValues = ShapeColor.values();
                    for (int i = 0; i < c.length; i++) {
                        reasoning.add(colourValues[i].word());
                        reasoning.add(Integer.toString(c[i]));
                    }
                    int least = argmin(c);
                    reasoning.addAll(List.of("least", colourValues[least].word()));
                    String total = Integer.toString(k[most] + c[least]);
                    reasoning.addAll(List.of("total", total));
                    return new Solution(reasoning, total);
                }));
    }

    private static int[] colourCounts(Counter counter) {
        return counts(counter, ShapeColor.values(), colour -> s -> s.color() == colour);
    }

    private static int[] kindCounts(Counter counter) {
        return counts(counter, ShapeKind.values(), kind -> s -> s.kind() == kind);
    }

    /** How many shapes have each of {@code values}, as {@code counter} reads them. */
    private static <T> int[] counts(Counter counter, T[] values, Function<T, Predicate<Shape>> having) {
        int[] n = new int[values.length];
        for (int i = 0; i < n.length; i++) n[i] = counter.count(having.apply(values[i]));
        return n;
    }

    /** The first index of the largest value, {@code skip} left out (the solver's reading: first wins a tie). */
    private static int argmax(int[] n, int skip) {
        int best = -1;
        for (int i = 0; i < n.length; i++) {
            if (i != skip && (best < 0 || n[i] > n[best])) best = i;
        }
        return best;
    }

    private static int argmin(int[] n) {
        int best = 0;
        for (int i = 1; i < n.length; i++) {
            if (n[i] < n[best]) best = i;
        }
        return best;
    }

    private static boolean uniqueExtreme(int[] n, boolean largest) {
        int[] sorted = n.clone();
        java.util.Arrays.sort(sorted);
        return largest ? sorted[n.length - 1] != sorted[n.length - 2] : sorted[0] != sorted[1];
    }

    private Question counting(Scene scene, Random rng) {
        Shape model = pickShapeOrRandom(scene, rng);
        int form = rng.nextInt(4);
        // Half of the counting questions name colour and kind, the rest one attribute.
        String target;
        Predicate<Shape> filter;
        if (form <= 1) {
            target = model.color().word() + " " + model.kind().plural();
            filter = s -> s.color() == model.color() && s.kind() == model.kind();
        } else if (form == 2) {
            target = model.color().word() + " shapes";
            filter = s -> s.color() == model.color();
        } else {
            target = model.kind().plural();
            filter = s -> s.kind() == model.kind();
        }
        return new Question("how many " + target + " ?", counter -> {
            String count = Integer.toString(counter.count(filter));
            List<String> reasoning = new ArrayList<>(words(target));
            reasoning.add(count);
            return new Solution(reasoning, count);
        });
    }

    private Question comparison(Scene scene, Random rng) {
        Attribute[] pair = pickAttributePair(scene, rng);
        String text = "are there more " + pair[0].colorWord().map(w -> w + " ").orElse("")
                + pair[0].pluralNoun() + " than " + pair[1].colorWord().map(w -> w + " ").orElse("")
                + pair[1].pluralNoun() + " ?";
        return new Question(text, counter -> {
            int a = counter.count(pair[0].filter());
            int b = counter.count(pair[1].filter());
            return new Solution(List.of(pair[0].shortWord(), Integer.toString(a), pair[1].shortWord(), Integer.toString(b)),
                    a > b ? "yes" : "no");
        });
    }

    /** Spatial questions involve no counting: every solver reads the same extreme shape. */
    private Optional<Question> spatial(Scene scene, Random rng) {
        List<Scene.Direction> directions = new ArrayList<>(List.of(Scene.Direction.values()));
        java.util.Collections.shuffle(directions, rng);
        for (Scene.Direction direction : directions) {
            Optional<Shape> extreme = scene.uniqueExtreme(direction);
            if (extreme.isEmpty()) {
                continue;
            }
            Shape s = extreme.get();
            List<String> reasoning = List.of(direction.word(), s.color().word(), s.kind().word());
            if (rng.nextBoolean()) {
                Solution solution = new Solution(reasoning, s.color().word());
                return Optional.of(new Question("what colour is the " + direction.word() + " shape ?", counter -> solution));
            }
            Solution solution = new Solution(reasoning, s.kind().word());
            return Optional.of(new Question("what shape is " + direction.word() + " ?", counter -> solution));
        }
        return Optional.empty();
    }

    private Question arithmetic(Scene scene, Random rng) {
        Attribute[] pair = pickAttributePair(scene, rng);
        String text = "how many " + (pair[0].colorWord().isPresent()
                ? pair[0].shortWord() + " and " + pair[1].shortWord() + " shapes"
                : pair[0].pluralNoun() + " and " + pair[1].pluralNoun())
                + " are there in total ?";
        return new Question(text, counter -> {
            int a = counter.count(pair[0].filter());
            int b = counter.count(pair[1].filter());
            String total = Integer.toString(a + b);
            return new Solution(List.of(pair[0].shortWord(), Integer.toString(a), pair[1].shortWord(),
                    Integer.toString(b), "total", total), total);
        });
    }

    /** Two different colours (70%) or two different kinds (30%). */
    private Attribute[] pickAttributePair(Scene scene, Random rng) {
        if (rng.nextDouble() < 0.7) {
            ShapeColor first = pickShapeOrRandom(scene, rng).color();
            ShapeColor second = pickOther(ShapeColor.values(), first, scene.shapes().stream().map(Shape::color).toList(), rng);
            return new Attribute[] {Attribute.of(first), Attribute.of(second)};
        }
        ShapeKind first = pickShapeOrRandom(scene, rng).kind();
        ShapeKind second = pickOther(ShapeKind.values(), first, scene.shapes().stream().map(Shape::kind).toList(), rng);
        return new Attribute[] {Attribute.of(first), Attribute.of(second)};
    }

    private static <T> T pickOther(T[] all, T excluded, List<T> present, Random rng) {
        List<T> presentOthers = present.stream().filter(t -> t != excluded).distinct().toList();
        if (!presentOthers.isEmpty() && rng.nextDouble() < PRESENT_ATTRIBUTE_PROBABILITY) {
            return presentOthers.get(rng.nextInt(presentOthers.size()));
        }
        List<T> others = java.util.Arrays.stream(all).filter(t -> t != excluded).toList();
        return others.get(rng.nextInt(others.size()));
    }

    private static Shape pickShapeOrRandom(Scene scene, Random rng) {
        if (!scene.shapes().isEmpty() && rng.nextDouble() < PRESENT_ATTRIBUTE_PROBABILITY) {
            return scene.shapes().get(rng.nextInt(scene.shapes().size()));
        }
        ShapeColor[] colors = ShapeColor.values();
        ShapeKind[] kinds = ShapeKind.values();
        return new Shape(colors[rng.nextInt(colors.length)], kinds[rng.nextInt(kinds.length)], ShapeSize.SMALL, 0, 0);
    }

    private static List<String> words(String text) {
        return List.of(text.split(" "));
    }

    /** A colour or a kind, with the words used to name it. */
    private record Attribute(ShapeColor color, ShapeKind kind) {
        static Attribute of(ShapeColor color) {
            return new Attribute(color, null);
        }

        static Attribute of(ShapeKind kind) {
            return new Attribute(null, kind);
        }

        Predicate<Shape> filter() {
            return color != null ? s -> s.color() == color : s -> s.kind() == kind;
        }

        Optional<String> colorWord() {
            return Optional.ofNullable(color).map(ShapeColor::word);
        }

        /** "shapes" for a colour ("more red shapes"), the plural for a kind ("more circles"). */
        String pluralNoun() {
            return color != null ? "shapes" : kind.plural();
        }

        /** The single word used in reasoning: the colour, or the kind's plural. */
        String shortWord() {
            return color != null ? color.word() : kind.plural();
        }
    }
}
