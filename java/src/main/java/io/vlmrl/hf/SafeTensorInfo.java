package io.vlmrl.hf;

import java.util.Arrays;

/**
 * One tensor entry of a safetensors header.
 *
 * @param name  the tensor's name
 * @param dtype its element type
 * @param shape its dimensions (empty for a scalar)
 * @param begin first byte, relative to the start of the data section (after the header)
 * @param end   one past the last byte, relative to the data section
 */
public record SafeTensorInfo(String name, SafeDtype dtype, long[] shape, long begin, long end) {

    public SafeTensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements (1 for a scalar). */
    public long numel() {
        long n = 1;
        for (long s : shape) {
            n = Math.multiplyExact(n, s);
        }
        return n;
    }

    /** Bytes of data: {@code end - begin}. */
    public long byteLength() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SafeTensorInfo other && name.equals(other.name) && dtype == other.dtype
                && Arrays.equals(shape, other.shape) && begin == other.begin && end == other.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + ", " + end + ")";
    }
}
