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
        };
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
