package io.vlmrl.hf;

import org.bytedeco.pytorch.global.torch;

/**
 * The element types of the safetensors format that this project reads and writes, with their
 * size in bytes and the LibTorch scalar type they map to. Values are little-endian in the file.
 */
public enum SafeDtype {
    F64(8, torch.ScalarType.Double),
    I64(8, torch.ScalarType.Long),
    F32(4, torch.ScalarType.Float),
    I32(4, torch.ScalarType.Int),
    F16(2, torch.ScalarType.Half),
    BF16(2, torch.ScalarType.BFloat16),
    I16(2, torch.ScalarType.Short),
    I8(1, torch.ScalarType.Char),
    U8(1, torch.ScalarType.Byte),
    BOOL(1, torch.ScalarType.Bool);

    private final int size;
    private final torch.ScalarType scalarType;

    SafeDtype(int size, torch.ScalarType scalarType) {
        this.size = size;
        this.scalarType = scalarType;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** The LibTorch element type. */
    public torch.ScalarType scalarType() {
        return scalarType;
    }

    /** True for F64, F32, F16 and BF16. */
    public boolean isFloatingPoint() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** The dtype named {@code name} in a safetensors header, or null if it is not one of these. */
    public static SafeDtype fromHeaderName(String name) {
        for (SafeDtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** The safetensors dtype of a LibTorch scalar type; IllegalArgumentException for types without one. */
    public static SafeDtype of(torch.ScalarType type) {
        for (SafeDtype d : values()) {
            if (d.scalarType.value == type.value) {
                return d;
            }
        }
        throw new IllegalArgumentException("no safetensors dtype for LibTorch type " + type);
    }
}
