package io.vlmrl.qwen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vlmrl.hf.SafeTensorsFile;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The tiny Qwen2.5-VL fixture (test resources {@code qwen25vl-tiny/}, copied from the shared
 * fixture; see its README): paths, the reference tensors and {@code reference.json}, and small
 * comparison helpers.
 */
public final class QwenFixture {
    private static final ObjectMapper JSON = new ObjectMapper();

    private QwenFixture() {
    }

    /** The fixture root directory. */
    public static Path root() {
        URL url = QwenFixture.class.getResource("/qwen25vl-tiny/README.md");
        if (url == null) {
            throw new IllegalStateException("test resource qwen25vl-tiny/README.md is missing from the classpath");
        }
        try {
            return Paths.get(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Path float32() {
        return root().resolve("float32");
    }

    public static Path sharded() {
        return float32().resolve("sharded");
    }

    public static Path bf16() {
        return root().resolve("bf16");
    }

    /** {@code reference.json} of a fixture directory. */
    public static JsonNode referenceJson(Path dir) {
        try {
            return JSON.readTree(Files.readString(dir.resolve("reference.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code reference.safetensors} of a fixture directory, open. */
    public static SafeTensorsFile references(Path dir) {
        try {
            return SafeTensorsFile.open(dir.resolve("reference.safetensors"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** max |a - b| over all elements, in float64 (shapes must be equal). */
    public static double maxAbsDiff(Tensor a, Tensor b) {
        long[] sa = shape(a), sb = shape(b);
        if (!java.util.Arrays.equals(sa, sb)) {
            throw new AssertionError("shapes differ: " + java.util.Arrays.toString(sa) + " vs " + java.util.Arrays.toString(sb));
        }
        return a.to(torch.ScalarType.Double).sub(b.to(torch.ScalarType.Double)).abs().max().item_double();
    }

    /** All elements of an integer tensor as long, row-major. */
    public static long[] longs(Tensor t) {
        Tensor c = t.to(torch.ScalarType.Long).contiguous();
        long[] out = new long[(int) c.numel()];
        c.data_ptr_long().get(out);
        return out;
    }

    /** All elements as float, row-major. */
    public static float[] floats(Tensor t) {
        Tensor c = t.to(torch.ScalarType.Float).contiguous();
        float[] out = new float[(int) c.numel()];
        c.data_ptr_float().get(out);
        return out;
    }

    /** Shape of a tensor. */
    public static long[] shape(Tensor t) {
        long[] s = new long[(int) t.dim()];
        for (int i = 0; i < s.length; i++) {
            s[i] = t.size(i);
        }
        return s;
    }
}
