package io.vlmrl.kernels;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.cuda.CUDAGuard;
import org.bytedeco.pytorch.cuda.CUDAStream;
import org.bytedeco.pytorch.global.torch_cuda;

/**
 * LibTorch's current CUDA stream as a raw {@code cudaStream_t}, for the CUDA kernels.
 *
 * <p>This is the only class that touches LibTorch's CUDA API, and it is loaded only when a
 * tensor is on a CUDA device, so the CPU classpath never needs the CUDA classes.
 *
 * <p>{@code CUDAStream.stream()} returns a type from the {@code org.bytedeco:cuda} presets,
 * which only the {@code gpu} Maven profile puts on the classpath; it is called reflectively.
 * Without those classes the kernels run on the null (legacy default) stream, which is
 * LibTorch's current stream unless the application set another one: the kernels are then
 * still ordered with LibTorch's work on the default stream, but not with work on other streams.
 */
public final class CudaStreams {
    private CudaStreams() {
    }

    /** The current stream of the tensor's device, or null for the default stream. */
    public static Pointer current(Tensor onDevice) {
        CUDAStream stream = torch_cuda.getCurrentCUDAStream(onDevice.device().index());
        try {
            Object raw = CUDAStream.class.getMethod("stream").invoke(stream);
            return raw == null ? null : new Pointer((Pointer) raw);
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
    }

    /**
     * Makes the tensor's device current until the returned guard is closed (kernels launch
     * on the current device). Declared as {@link Pointer} so callers need no CUDA class.
     */
    public static Pointer deviceGuard(Tensor onDevice) {
        return new CUDAGuard(onDevice.device().index());
    }
}
