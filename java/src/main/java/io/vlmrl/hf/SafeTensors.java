package io.vlmrl.hf;

import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Entry points for the safetensors format
 * (<a href="https://github.com/huggingface/safetensors">format description</a>): reading one file
 * ({@link SafeTensorsFile}), a model directory, single-file or sharded ({@link SafeTensorsDirectory}),
 * and writing ({@link SafeTensorsWriter}). See those classes for the checks made and for who owns
 * which memory: in short, readers map the file per tensor and copy into new LibTorch tensors owned
 * by the caller; writers copy one tensor at a time to the CPU.
 */
public final class SafeTensors {
    private SafeTensors() {
    }

    /** Opens one safetensors file and reads its header. */
    public static SafeTensorsFile open(Path file) throws IOException {
        return SafeTensorsFile.open(file);
    }

    /**
     * Opens model weights: a directory ({@code model.safetensors}, or the shards named by
     * {@code model.safetensors.index.json}), or a single {@code .safetensors} file.
     */
    public static SafeTensorsReader openModel(Path path) throws IOException {
        return Files.isRegularFile(path) ? SafeTensorsFile.open(path) : SafeTensorsDirectory.open(path);
    }

    /** Writes {@code tensors} (keeping their dtypes) to one file with {@code __metadata__ {"format": "pt"}}. */
    public static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        SafeTensorsWriter.write(file, tensors, null, null);
    }

    /** Writes {@code tensors} to one file with the given metadata, floating-point tensors as {@code floatDtype} (null: keep). */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, SafeDtype floatDtype)
            throws IOException {
        SafeTensorsWriter.write(file, tensors, metadata, floatDtype);
    }

    /** Writes model weights into {@code dir}, sharded at {@code maxShardBytes}; see {@link SafeTensorsWriter#writeModel}. */
    public static List<Path> writeModel(Path dir, Map<String, Tensor> tensors, SafeDtype floatDtype, long maxShardBytes)
            throws IOException {
        return SafeTensorsWriter.writeModel(dir, tensors, floatDtype, maxShardBytes);
    }
}
