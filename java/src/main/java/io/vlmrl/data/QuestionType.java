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
    ARITHMETIC("arithmetic");

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
