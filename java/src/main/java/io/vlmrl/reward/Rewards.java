package io.vlmrl.reward;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Reward functions by name ({@code reward.name}), like the policy-loss registry: built in are
 * {@value BuiltinSceneReward#NAME} and {@value MathReward#NAME}; more come from
 * {@link #register} or from {@link RewardProvider}s on the classpath. {@code reward.class} names a
 * user's class directly instead. {@code auto} scores each problem by the reward its record names in
 * {@code data_source} (verl's convention; the built-in task's export names {@code builtin-scene}),
 * and the others by builtin-scene on the built-in task and math on a user's data.
 */
public final class Rewards {
    public static final String AUTO = "auto";

    private static final Map<String, Function<RewardConfig, RewardFunction>> FACTORIES = new ConcurrentHashMap<>();

    static {
        FACTORIES.put(BuiltinSceneReward.NAME, BuiltinSceneReward::new);
        FACTORIES.put(MathReward.NAME, c -> new MathReward(c.formatWeight(), c.mathRelTol()));
        for (RewardProvider p : ServiceLoader.load(RewardProvider.class)) {
            FACTORIES.putIfAbsent(p.name(), p::create);
        }
    }

    private Rewards() {
    }

    /**
     * Registers a reward under a new name.
     *
     * @throws IllegalArgumentException when the name is blank or taken
     */
    public static void register(String name, Function<RewardConfig, RewardFunction> factory) {
        if (name == null || name.isBlank() || name.equals(AUTO) || factory == null) {
            throw new IllegalArgumentException("register: expected a new name and a factory, got '" + name + "'");
        }
        if (FACTORIES.putIfAbsent(name, factory) != null) {
            throw new IllegalArgumentException("register: a reward named '" + name + "' is already registered");
        }
    }

    /** The names {@code reward.name} accepts, {@code auto} included. */
    public static Set<String> names() {
        Set<String> names = new TreeSet<>(FACTORIES.keySet());
        names.add(AUTO);
        return names;
    }

    /**
     * The reward function of a run.
     *
     * @param builtinTask whether the run trains on the built-in task (decides {@code auto})
     * @throws IllegalArgumentException naming the key when the name or class cannot be used
     */
    public static RewardFunction create(RewardConfig config, boolean builtinTask) {
        if (!config.className().isEmpty()) {
            return instantiate(config.className(), config);
        }
        if (config.name().equals(AUTO)) {
            RewardFunction fallback = FACTORIES.get(builtinTask ? BuiltinSceneReward.NAME : MathReward.NAME).apply(config);
            return new RoutingReward(fallback, source -> {
                Function<RewardConfig, RewardFunction> f = FACTORIES.get(source);
                return f == null ? null : f.apply(config);
            });
        }
        String name = config.name();
        Function<RewardConfig, RewardFunction> factory = FACTORIES.get(name);
        if (factory == null) {
            throw new IllegalArgumentException("config key 'reward.name': expected one of " + names() + ", got '" + name + "'");
        }
        return factory.apply(config);
    }

    /** A user's class: a public constructor taking {@link RewardConfig}, or a public no-argument one. */
    private static RewardFunction instantiate(String className, RewardConfig config) {
        Class<?> type;
        try {
            type = Class.forName(className, true, Thread.currentThread().getContextClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalArgumentException("config key 'reward.class': no class '" + className
                    + "' on the classpath (add its jar with java -cp)", e);
        }
        if (!RewardFunction.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException("config key 'reward.class': expected a class implementing "
                    + RewardFunction.class.getName() + ", got '" + className + "'");
        }
        try {
            try {
                Constructor<?> withConfig = type.getConstructor(RewardConfig.class);
                return (RewardFunction) withConfig.newInstance(config);
            } catch (NoSuchMethodException e) {
                return (RewardFunction) type.getConstructor().newInstance();
            }
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException("config key 'reward.class': " + className
                    + " needs a public constructor taking RewardConfig or no arguments", e);
        } catch (InvocationTargetException e) {
            throw new IllegalArgumentException("config key 'reward.class': the constructor of " + className
                    + " failed: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("config key 'reward.class': cannot create " + className + ": " + e, e);
        }
    }
}
