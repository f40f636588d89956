package io.vlmrl.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The weights of a Hugging Face model directory, as {@code from_pretrained} finds them: the
 * single file {@value #SINGLE_FILE} if present, otherwise the sharded set named by
 * {@value #INDEX_FILE} ({@code weight_map}: tensor name -> shard file in the same directory).
 *
 * <p>Opening checks that every shard named by the index exists and holds the tensors the index
 * assigns to it, so a missing or wrong shard fails at once with a {@link SafeTensorsException}
 * naming the shard and a tensor. The shards' headers are read when opening; data is mapped per
 * tensor when read (see {@link SafeTensorsFile}). {@link #close} closes every shard.
 */
public final class SafeTensorsDirectory implements SafeTensorsReader {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final Map<String, SafeTensorsFile> byTensor; // sorted by tensor name
    private final Map<String, SafeTensorsFile> shards;   // by file name, in index order
    private final boolean sharded;

    private SafeTensorsDirectory(Path dir, Map<String, SafeTensorsFile> byTensor, Map<String, SafeTensorsFile> shards,
                                 boolean sharded) {
        this.dir = dir;
        this.byTensor = byTensor;
        this.shards = shards;
        this.sharded = sharded;
    }

    /** Opens the weights of model directory {@code dir} (see the class comment). */
    public static SafeTensorsDirectory open(Path dir) throws IOException {
        Path single = dir.resolve(SINGLE_FILE);
        Path index = dir.resolve(INDEX_FILE);
        if (Files.isRegularFile(single)) {
            SafeTensorsFile file = SafeTensorsFile.open(single);
            Map<String, SafeTensorsFile> byTensor = new TreeMap<>();
            for (String name : file.names()) {
                byTensor.put(name, file);
            }
            return new SafeTensorsDirectory(dir, Collections.unmodifiableMap(byTensor), Map.of(SINGLE_FILE, file), false);
        }
        if (!Files.isRegularFile(index)) {
            throw new SafeTensorsException(dir, null, "model directory has neither " + SINGLE_FILE + " nor " + INDEX_FILE);
        }
        return openSharded(dir, index);
    }

    private static SafeTensorsDirectory openSharded(Path dir, Path index) throws IOException {
        Map<String, String> weightMap = readWeightMap(index);
        Map<String, SafeTensorsFile> shards = new LinkedHashMap<>();
        Map<String, SafeTensorsFile> byTensor = new TreeMap<>();
        try {
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String shardName = e.getValue();
                SafeTensorsFile shard = shards.get(shardName);
                if (shard == null) {
                    if (shardName.isEmpty() || shardName.contains("/") || shardName.contains("\\")
                            || shardName.startsWith(".")) {
                        throw new SafeTensorsException(index, e.getKey(), "shard \"" + shardName
                                + "\" must be a plain file name in " + dir);
                    }
                    Path shardPath = dir.resolve(shardName);
                    if (!Files.isRegularFile(shardPath)) {
                        throw new SafeTensorsException(shardPath, e.getKey(), "missing shard (named by " + index + ")");
                    }
                    shard = SafeTensorsFile.open(shardPath);
                    shards.put(shardName, shard);
                }
                if (!shard.contains(e.getKey())) {
                    throw new SafeTensorsException(shard.path(), e.getKey(), "the index " + index
                            + " places this tensor in this shard, but the shard does not hold it");
                }
                byTensor.put(e.getKey(), shard);
            }
        } catch (IOException | RuntimeException e) {
            for (SafeTensorsFile f : shards.values()) {
                f.close();
            }
            throw e;
        }
        return new SafeTensorsDirectory(dir, Collections.unmodifiableMap(byTensor), Collections.unmodifiableMap(shards), true);
    }

    /** The {@code weight_map} of an index file, in file order. */
    static Map<String, String> readWeightMap(Path index) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(index, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new SafeTensorsException(index, null, "index is not valid JSON: " + e.getOriginalMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new SafeTensorsException(index, null, "index has no \"weight_map\" object");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new SafeTensorsException(index, e.getKey(), "weight_map value must be a file name, got " + e.getValue());
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    /** The model directory. */
    public Path directory() {
        return dir;
    }

    /** True when the weights come from an index and shards. */
    public boolean isSharded() {
        return sharded;
    }

    /** The open files by file name ({@value #SINGLE_FILE} alone when not sharded). */
    public Map<String, SafeTensorsFile> files() {
        return shards;
    }

    @Override
    public Set<String> names() {
        return byTensor.keySet(); // sorted, unmodifiable
    }

    @Override
    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    private SafeTensorsFile file(String name) throws SafeTensorsException {
        SafeTensorsFile f = byTensor.get(name);
        if (f == null) {
            throw new SafeTensorsException(sharded ? dir.resolve(INDEX_FILE) : dir.resolve(SINGLE_FILE), name,
                    "no such tensor (the model has " + byTensor.size() + ")");
        }
        return f;
    }

    @Override
    public SafeTensorInfo info(String name) throws SafeTensorsException {
        return file(name).info(name);
    }

    @Override
    public Path fileOf(String name) throws SafeTensorsException {
        return file(name).path();
    }

    @Override
    public Tensor read(String name) throws IOException {
        return file(name).read(name);
    }

    @Override
    public Tensor readFloat32(String name) throws IOException {
        return file(name).readFloat32(name);
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (SafeTensorsFile f : shards.values()) {
            try {
                f.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "SafeTensorsDirectory(" + dir + ", " + byTensor.size() + " tensors in " + shards.size() + " file(s))";
    }
}
