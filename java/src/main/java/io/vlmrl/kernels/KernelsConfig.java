package io.vlmrl.kernels;

import io.vlmrl.config.Key;
import io.vlmrl.config.Schema;
import io.vlmrl.config.Section;

/** The {@code kernels.*} keys: which implementation computes the log-probs and the policy loss. */
@Section("kernels")
public record KernelsConfig(
        @Key(def = "fused", help = "fused (native kernels) or eager (LibTorch ops, the reference)")
        KernelBackend backend) {

    public static KernelsConfig defaults() {
        return Schema.defaults(KernelsConfig.class);
    }
}
