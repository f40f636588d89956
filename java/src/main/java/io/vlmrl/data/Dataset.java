package io.vlmrl.data;

/** A finite, indexable list of problems; {@code get} returns the same problem for the same index. */
public interface Dataset {
    /** Short human-readable name for logs and result files. */
    String name();

    int size();

    /** @throws IndexOutOfBoundsException when index is not in [0, size) */
    Problem get(int index);
}
