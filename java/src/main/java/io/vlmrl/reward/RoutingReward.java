package io.vlmrl.reward;

import io.vlmrl.data.Problem;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * {@code reward.name=auto}: each problem is scored by the reward its record names in the field
 * {@value #SOURCE_FIELD} (verl's convention), when that names a registered reward; every other
 * problem by the default reward (builtin-scene on the built-in task, math on a user's data).
 */
final class RoutingReward implements RewardFunction {
    /** The field of a record that names its reward. */
    static final String SOURCE_FIELD = "data_source";

    private final RewardFunction fallback;
    private final Function<String, RewardFunction> byName;
    private final Map<String, RewardFunction> created = new ConcurrentHashMap<>();

    /**
     * @param byName the reward of a registered name, or null when the name is not registered
     */
    RoutingReward(RewardFunction fallback, Function<String, RewardFunction> byName) {
        this.fallback = fallback;
        this.byName = byName;
    }

    @Override
    public Reward score(Problem problem, String response) {
        String source = problem.extra().get(SOURCE_FIELD);
        if (source == null) return fallback.score(problem, response);
        RewardFunction named = created.computeIfAbsent(source, name -> {
            RewardFunction r = byName.apply(name);
            return r == null ? fallback : r;
        });
        return named.score(problem, response);
    }
}
