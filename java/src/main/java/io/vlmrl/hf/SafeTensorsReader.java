package io.vlmrl.hf;

import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/**
 * Named tensors stored in safetensors form: one file ({@link SafeTensorsFile}) or a model
 * directory, single-file or sharded ({@link SafeTensorsDirectory}).
 *
 * <p>Tensors returned by {@link #read} and {@link #readFloat32} are new CPU tensors that own their
 * memory (copied out of the file); they belong to the caller, or to the innermost open
 * {@code PointerScope} when there is one.
 */
public interface SafeTensorsReader extends AutoCloseable {

    /** Names of all tensors, sorted. */
    Set<String> names();

    /** Whether a tensor of this name exists. */
    default boolean contains(String name) {
        return names().contains(name);
    }

    /** The header entry of {@code name}; SafeTensorsException naming the source if there is none. */
    SafeTensorInfo info(String name) throws SafeTensorsException;

    /** The file that holds {@code name}. */
    Path fileOf(String name) throws SafeTensorsException;

    /** Tensor {@code name} as a new CPU tensor of its stored dtype and shape. */
    Tensor read(String name) throws IOException;

    /** Tensor {@code name} converted to float32 (exact for BF16, F16 and F32). */
    Tensor readFloat32(String name) throws IOException;

    @Override
    void close() throws IOException;
}
