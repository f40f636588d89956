package io.vlmrl.policy;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The distinct prompt objects of a batch of response rows, in order of first appearance, and the
 * index of each row's prompt among them. The rows of one group share one prompt object (by
 * identity), so a model can run each prompt once for all its rows.
 */
public record DistinctPrompts<P>(List<P> prompts, long[] promptOfRow) {

    public static <P> DistinctPrompts<P> of(List<? extends P> rows) {
        List<P> distinct = new ArrayList<>();
        Map<P, Integer> indexOf = new IdentityHashMap<>();
        long[] promptOfRow = new long[rows.size()];
        for (int r = 0; r < promptOfRow.length; r++) {
            promptOfRow[r] = indexOf.computeIfAbsent(rows.get(r), p -> {
                distinct.add(p);
                return distinct.size() - 1;
            });
        }
        return new DistinctPrompts<>(distinct, promptOfRow);
    }
}
