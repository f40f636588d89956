package io.vlmrl.model;

import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Creates initial parameter values from one seeded generator, so that the same configuration and
 * seed always give the same weights, whatever the global LibTorch seed is.
 */
final class Init {
    private final Generator generator;

    Init(long seed) {
        generator = torch.make_generator_cpu(seed);
    }

    /** Normal(0, std) values of the given shape. */
    Tensor normal(double std, long... shape) {
        try (NoGradGuard ignored = new NoGradGuard()) {
            return torch.empty(shape).normal_(0.0, std, new GeneratorOptional(generator));
        }
    }

    Tensor zeros(long... shape) {
        return torch.zeros(shape);
    }

    Tensor ones(long... shape) {
        return torch.ones(shape);
    }
}
