package io.vlmrl.model;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Moving small arrays between Java and LibTorch, and shape checks with clear messages. */
final class Tensors {
    private Tensors() {
    }

    /**
     * Registers {@code value} as parameter {@code name} of {@code owner} and returns a tensor that
     * owns its own reference. (Module::register_parameter returns a reference into the module's
     * parameter table, which dangles once the table grows; never keep that reference.)
     */
    static Tensor parameter(Module owner, String name, Tensor value) {
        return new Tensor(owner.register_parameter(name, value));
    }

    /** A float32 tensor of {@code shape} holding a copy of {@code data}, on {@code device}. */
    static Tensor floats(float[] data, Device device, long... shape) {
        return torch.tensor(data).view(shape).to(device, torch.ScalarType.Float);
    }

    /** An int64 tensor of {@code shape} holding a copy of {@code data}, on {@code device}. */
    static Tensor longs(long[] data, Device device, long... shape) {
        return torch.tensor(data).view(shape).to(device, torch.ScalarType.Long);
    }

    /** A bool tensor of {@code shape} holding a copy of {@code data}, on {@code device}. */
    static Tensor bools(boolean[] data, Device device, long... shape) {
        byte[] bytes = new byte[data.length];
        for (int i = 0; i < data.length; i++) {
            bytes[i] = (byte) (data[i] ? 1 : 0);
        }
        return torch.tensor(bytes).view(shape).to(device, torch.ScalarType.Bool);
    }

    /** All elements of {@code t} as float, in row-major order (copied to the CPU). */
    static float[] toFloats(Tensor t) {
        Tensor c = t.detach().to(new Device("cpu"), torch.ScalarType.Float).contiguous();
        float[] out = new float[(int) c.numel()];
        c.data_ptr_float().get(out);
        return out;
    }

    /** All elements of {@code t} as long, in row-major order (copied to the CPU). */
    static long[] toLongs(Tensor t) {
        Tensor c = t.detach().to(new Device("cpu"), torch.ScalarType.Long).contiguous();
        long[] out = new long[(int) c.numel()];
        c.data_ptr_long().get(out);
        return out;
    }

    static long[] shape(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int i = 0; i < s.length; i++) {
            s[i] = t.size(i);
        }
        return s;
    }

    /** IllegalArgumentException unless {@code t} has {@code dims} dimensions. */
    static void requireDims(String name, Tensor t, int dims, String layout) {
        if (t == null || !t.defined()) {
            throw new IllegalArgumentException(name + " must be a tensor " + layout + ", got null");
        }
        if (t.dim() != dims) {
            throw new IllegalArgumentException(name + " must be " + layout + ", got shape "
                    + java.util.Arrays.toString(shape(t)));
        }
    }
}
