package io.vlmrl.qwen;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.Arrays;

/** Small helpers: parameters of Java-built modules, Java arrays to and from LibTorch, shape checks. */
final class QwenTensors {
    private QwenTensors() {
    }

    /**
     * Registers a zero float32 parameter of {@code shape} as {@code name} of {@code owner} and returns
     * a tensor holding its own reference (Module::register_parameter returns a reference into the
     * module's table, which dangles once the table grows). Values come from a checkpoint.
     */
    static Tensor parameter(Module owner, String name, long... shape) {
        return new Tensor(owner.register_parameter(name, torch.zeros(shape)));
    }

    static Tensor longs(long[] data, Device device, long... shape) {
        return torch.tensor(data).view(shape).to(device, torch.ScalarType.Long);
    }

    static Tensor ints(int[] data, Device device, long... shape) {
        return torch.tensor(data).view(shape).to(device, torch.ScalarType.Int);
    }

    static Tensor floats(float[] data, Device device, long... shape) {
        return torch.tensor(data).view(shape).to(device, torch.ScalarType.Float);
    }

    static Tensor bools(boolean[] data, Device device, long... shape) {
        byte[] bytes = new byte[data.length];
        for (int i = 0; i < data.length; i++) {
            bytes[i] = (byte) (data[i] ? 1 : 0);
        }
        return torch.tensor(bytes).view(shape).to(device, torch.ScalarType.Bool);
    }

    static long[] toLongs(Tensor t) {
        Tensor c = t.detach().to(new Device("cpu"), torch.ScalarType.Long).contiguous();
        long[] out = new long[Math.toIntExact(c.numel())];
        c.data_ptr_long().get(out);
        return out;
    }

    static float[] toFloats(Tensor t) {
        Tensor c = t.detach().to(new Device("cpu"), torch.ScalarType.Float).contiguous();
        float[] out = new float[Math.toIntExact(c.numel())];
        c.data_ptr_float().get(out);
        return out;
    }

    static long[] shape(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int i = 0; i < s.length; i++) {
            s[i] = t.size(i);
        }
        return s;
    }

    /** IllegalArgumentException unless {@code t} is defined with {@code dims} dimensions. */
    static void requireDims(String name, Tensor t, int dims, String layout) {
        if (t == null || !t.defined()) {
            throw new IllegalArgumentException(name + " must be a tensor " + layout + ", got null");
        }
        if (t.dim() != dims) {
            throw new IllegalArgumentException(name + " must be " + layout + ", got shape " + Arrays.toString(shape(t)));
        }
    }

    /** A grid tensor [n, 3] (any integer dtype) as Java rows; IllegalArgumentException unless t, h, w > 0. */
    static long[][] grid(Tensor gridThw) {
        requireDims("gridThw", gridThw, 2, "[numImages, 3]");
        if (gridThw.size(1) != 3) {
            throw new IllegalArgumentException("gridThw must be [numImages, 3], got " + Arrays.toString(shape(gridThw)));
        }
        long[] flat = toLongs(gridThw);
        long[][] rows = new long[flat.length / 3][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = Arrays.copyOfRange(flat, 3 * i, 3 * i + 3);
        }
        return rows;
    }
}
