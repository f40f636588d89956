package io.vlmrl.bench;

import io.vlmrl.kernels.KernelBackend;
import io.vlmrl.loss.PolicyLoss;
import io.vlmrl.loss.PolicyLossConfig;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Policy loss forward + backward over N fp32 tokens: the fused CPU kernel against the same
 * math as LibTorch eager ops with autograd.
 *
 * <ul>
 *   <li>{@code fused}: the library's {@link PolicyLoss#compute} on the fused backend, as the
 *       trainer calls it (input checks, gradient buffer allocated per call, metric sums);</li>
 *   <li>{@code fusedReusedGrad}: the same library call with the caller's gradient buffer
 *       ({@code PolicyLossInputs.Builder.gradOutputs}), reused across calls as a trainer can;</li>
 *   <li>{@code fusedKernelOnly}: the C kernel alone into a preallocated gradient buffer, the
 *       number compared with the memory bandwidth;</li>
 *   <li>{@code eager}: logp.requires_grad, the loss built from LibTorch ops, backward: the
 *       lean way a Java user writes it ({@link EagerPolicyLossBaseline}), the speed-up's
 *       denominator;</li>
 *   <li>{@code eagerLibrary}: the library's eager reference backend (kernels=eager), which also
 *       checks for non-finite inputs and computes every metric, so is slower than {@code eager}.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class PolicyLossBenchmark {

    @Param({"ppo", "clip-higher", "aaac", "aaac-k3-dads"})
    public String mode;

    @Param({"65536", "1048576", "4194304"})
    public int tokens;

    private PolicyLossInputs inputs;
    private PolicyLossCase lossCase;
    private FusedPolicyLossKernel kernel;
    private Tensor logpLeaf;
    private Tensor preallocatedGrad;
    private io.vlmrl.loss.PolicyLossInputs libraryInputs;
    private io.vlmrl.loss.PolicyLossInputs libraryInputsReusedGrad;
    private PolicyLossConfig fusedConfig;
    private PolicyLossConfig eagerConfig;

    @Setup
    public void setUp() {
        BenchThreads.configure();
        lossCase = PolicyLossCase.fromId(mode);
        inputs = new PolicyLossInputs(tokens, 42);
        kernel = new FusedPolicyLossKernel(lossCase, inputs);
        logpLeaf = inputs.logp.detach().requires_grad_(true);
        preallocatedGrad = torch.zeros_like(inputs.logp);
        libraryInputs = inputs.forLibrary(lossCase);
        libraryInputsReusedGrad = libraryInputs.toBuilder().gradOutputs(torch.zeros_like(inputs.logp), null).build();
        fusedConfig = lossCase.libraryConfig(KernelBackend.FUSED);
        eagerConfig = lossCase.libraryConfig(KernelBackend.EAGER);
    }

    @TearDown
    public void tearDown() {
        kernel.close();
        inputs.close();
    }

    @Benchmark
    public double fused() {
        try (PointerScope scope = new PointerScope()) {
            return PolicyLoss.compute(libraryInputs, fusedConfig).loss();
        }
    }

    @Benchmark
    public double fusedReusedGrad() {
        try (PointerScope scope = new PointerScope()) {
            return PolicyLoss.compute(libraryInputsReusedGrad, fusedConfig).loss();
        }
    }

    @Benchmark
    public double eagerLibrary() {
        try (PointerScope scope = new PointerScope()) {
            return PolicyLoss.compute(libraryInputs, eagerConfig).loss();
        }
    }

    @Benchmark
    public double fusedKernelOnly() {
        return kernel.run(inputs.logp, preallocatedGrad);
    }

    @Benchmark
    public double eager() {
        try (PointerScope scope = new PointerScope()) {
            Tensor loss = EagerPolicyLossBaseline.loss(lossCase, inputs, logpLeaf);
            loss.backward();
            // Read one gradient element so the backward's output is used, then drop the
            // gradient so the next call allocates it afresh instead of accumulating.
            double value = loss.item_double() + logpLeaf.grad().data_ptr_float().get(0);
            logpLeaf.mutable_grad().reset();
            return value;
        }
    }
}
