package io.vlmrl.data;

/** The question types of the built-in task; {@link #id()} is the value of {@link Problem#type()}. */
public enum QuestionType {
    /** "how many red triangles ?" */
    COUNTING("counting"),
    /** "are there more blue than green shapes ?" (yes / no) */
    COMPARISON("comparison"),
    /** "what colour is the leftmost shape ?" */
    SPATIAL("spatial"),
    /** "how many red and blue shapes are there in total ?" */
    ARITHMETIC("arithmetic"),
    /** Harder family: "how many more circles than squares are there ?" (a difference of two counts). */
    DIFFERENCE("difference"),
    /** Harder family: "are there more red and blue shapes than green and yellow shapes ?" (two sums compared). */
    SUM_COMPARISON("sum-comparison"),
    /** Harder family: "how many shapes have the two most common colours ?" (every colour counted, ranked, summed). */
    TOP_TWO("top-two"),
    /**
     * Harder family: "how many shapes are there of the most common kind and of the least common
     * colour ?" (every kind and colour counted, an argmax, an argmin, a sum).
     */
    TALLY("tally");

    /** The question types of the harder family, whose answers combine several counts in a few steps. */
    public static final java.util.Set<QuestionType> MULTISTEP =
            java.util.Collections.unmodifiableSet(java.util.EnumSet.of(DIFFERENCE, SUM_COMPARISON, TOP_TWO, TALLY));

    private final String id;

    QuestionType(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** Every type's id, in declaration order. */
    public static java.util.List<String> ids() {
        return java.util.Arrays.stream(values()).map(QuestionType::id).toList();
    }

    public static QuestionType fromId(String id) {
        for (QuestionType t : values()) {
            if (t.id.equals(id)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown question type '" + id + "', expected one of " + ids());
    }
}
