package io.vlmrl.kernels;

import java.util.Arrays;
import java.util.Locale;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Argument checks on tensors with messages that name the argument, the expected and the
 * actual value, e.g. {@code "old: expected shape [4, 128] (same as logp), got [4, 127]"} or
 * {@code "old[2, 17] is NaN"}. Used by the kernel ops and the losses.
 */
public final class TensorChecks {
    private TensorChecks() {
    }

    /** The sizes of {@code t} as a Java array. */
    public static long[] sizes(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int d = 0; d < s.length; d++) {
            s[d] = t.size(d);
        }
        return s;
    }

    /** Shape as text: {@code [4, 128]}. */
    public static String shape(Tensor t) {
        return Arrays.toString(sizes(t));
    }

    /**
     * The tensor's dtype as a canonical enum constant. (The presets return a fresh enum object
     * from {@code scalar_type()}, whose {@code ==}, {@code ordinal()} and {@code switch} are
     * wrong until it is interned.)
     */
    public static ScalarType dtype(Tensor t) {
        return t.scalar_type().intern();
    }

    /** A dtype's usual name: float32, float64, bfloat16, int64, bool, uint8, ... */
    public static String dtypeName(ScalarType type) {
        switch (type.intern()) {
            case Float: return "float32";
            case Double: return "float64";
            case Half: return "float16";
            case BFloat16: return "bfloat16";
            case Long: return "int64";
            case Int: return "int32";
            case Short: return "int16";
            case Char: return "int8";
            case Byte: return "uint8";
            case Bool: return "bool";
            default: return type.name().toLowerCase(Locale.ROOT);
        }
    }

    /** A device as text: {@code cpu}, {@code cuda:0}. */
    public static String deviceName(Tensor t) {
        Device d = t.device();
        return d.str().getString();
    }

    /** Throws unless {@code t} is non-null. */
    public static Tensor requireNonNull(String name, Tensor t) {
        if (t == null || t.isNull()) {
            throw new IllegalArgumentException(name + ": expected a tensor, got null");
        }
        return t;
    }

    /**
     * Throws unless {@code t} has exactly the {@code expected} sizes.
     *
     * @param relation how the expectation was derived, e.g. {@code "same as logp"}; may be null
     */
    public static void requireShape(String name, Tensor t, long[] expected, String relation) {
        if (!Arrays.equals(sizes(t), expected)) {
            throw new IllegalArgumentException(name + ": expected shape " + Arrays.toString(expected)
                    + (relation == null ? "" : " (" + relation + ")") + ", got " + shape(t));
        }
    }

    /** Throws unless {@code t} has {@code dims} dimensions; {@code what} describes them, e.g. "[B, T]". */
    public static void requireDim(String name, Tensor t, int dims, String what) {
        if (t.dim() != dims) {
            throw new IllegalArgumentException(name + ": expected " + dims + " dimensions " + what
                    + ", got shape " + shape(t));
        }
    }

    /** Throws unless the dtype of {@code t} is one of {@code allowed}. */
    public static void requireDtype(String name, Tensor t, ScalarType... allowed) {
        ScalarType actual = dtype(t);
        for (ScalarType a : allowed) {
            if (a == actual) {
                return;
            }
        }
        String expected = allowed.length == 1 ? dtypeName(allowed[0])
                : "one of " + Arrays.stream(allowed).map(TensorChecks::dtypeName).toList();
        throw new IllegalArgumentException(name + ": expected dtype " + expected + ", got " + dtypeName(actual));
    }

    /** Throws unless {@code t} is on the same device as {@code reference} (named {@code referenceName}). */
    public static void requireSameDevice(String name, Tensor t, String referenceName, Tensor reference) {
        String expected = deviceName(reference);
        String actual = deviceName(t);
        if (!expected.equals(actual)) {
            throw new IllegalArgumentException(name + ": expected device " + expected + " (same as "
                    + referenceName + "), got " + actual);
        }
    }

    /** Multi-index text of a flat (row-major) index: {@code [2, 17]}. */
    public static String index(long flat, long[] shape) {
        long[] idx = new long[shape.length];
        long rest = flat;
        for (int d = shape.length - 1; d >= 0; d--) {
            long size = Math.max(shape[d], 1);
            idx[d] = rest % size;
            rest /= size;
        }
        return Arrays.toString(idx);
    }

    /** "NaN", "Infinity" or "-Infinity" (or the value, if it is finite). */
    public static String describe(double value) {
        return Double.isNaN(value) ? "NaN" : Double.toString(value);
    }

    /**
     * The exception for a non-finite element: {@code "old[2, 17] is NaN"}.
     *
     * @param flatIndex the element's row-major index in {@code t}
     */
    public static IllegalArgumentException nonFinite(String name, Tensor t, long flatIndex) {
        double value = t.reshape(-1).get(flatIndex).item_double();
        return new IllegalArgumentException(name + index(flatIndex, sizes(t)) + " is " + describe(value));
    }

    /**
     * The smallest row-major index where {@code t} is NaN or infinite and {@code where} is true,
     * or -1. {@code where} (bool) must broadcast to {@code t}; null means everywhere.
     */
    public static long firstNonFinite(Tensor t, Tensor where) {
        Tensor bad = torch.isfinite(t).logical_not();
        if (where != null) {
            bad = bad.logical_and(where);
        }
        if (!bad.any().item_bool()) {
            return -1;
        }
        return torch.nonzero(bad.reshape(-1)).get(0).item_long();
    }
}
