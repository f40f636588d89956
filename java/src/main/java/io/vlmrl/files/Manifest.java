package io.vlmrl.files;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@value #FILE}: the SHA-256 and size of every file of a saved directory (a model, a training
 * checkpoint), written last, so that a damaged file (a flipped bit, a truncation, a missing file)
 * is found on load and named, instead of loading silently wrong weights.
 */
public final class Manifest {
    public static final String FILE = "manifest.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private Manifest() {
    }

    /** Writes the manifest of every regular file below {@code dir} (the manifest itself excepted). */
    public static void write(Path dir) throws IOException {
        Map<String, Object> files = new TreeMap<>();
        for (Path f : files(dir)) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("sha256", sha256(f));
            entry.put("bytes", Files.size(f));
            files.put(dir.relativize(f).toString().replace('\\', '/'), entry);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("algorithm", "SHA-256");
        root.put("files", files);
        AtomicFiles.write(dir.resolve(FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
    }

    /** Whether {@code dir} has a manifest. */
    public static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve(FILE));
    }

    /**
     * Checks every file the manifest lists (present, same size, same SHA-256).
     *
     * @throws DamagedFileException naming the first damaged file (or the manifest itself when it is unreadable)
     */
    public static void verify(Path dir) throws IOException {
        Path manifest = dir.resolve(FILE);
        Map<String, Map<String, Object>> files;
        try {
            Map<String, Object> root = JSON.readValue(manifest.toFile(), new TypeReference<LinkedHashMap<String, Object>>() {});
            @SuppressWarnings("unchecked")
            Map<String, Map<String, Object>> listed = (Map<String, Map<String, Object>>) root.get("files");
            if (listed == null) throw new IOException("no \"files\"");
            files = listed;
        } catch (IOException | RuntimeException e) {
            throw new DamagedFileException(manifest, "unreadable manifest (" + e.getMessage() + ")");
        }
        for (Map.Entry<String, Map<String, Object>> e : files.entrySet()) {
            Path f = dir.resolve(e.getKey());
            if (!Files.isRegularFile(f)) throw new DamagedFileException(f, "missing");
            long expectedBytes = ((Number) e.getValue().get("bytes")).longValue();
            long bytes = Files.size(f);
            if (bytes != expectedBytes) {
                throw new DamagedFileException(f, "has " + bytes + " bytes, the manifest says " + expectedBytes + " (truncated?)");
            }
            String expected = (String) e.getValue().get("sha256");
            String actual = sha256(f);
            if (!actual.equals(expected)) {
                throw new DamagedFileException(f, "its SHA-256 is " + actual + ", the manifest says " + expected + " (corrupted)");
            }
        }
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).filter(p -> !p.equals(dir.resolve(FILE))).sorted().toList();
        }
    }

    private static String sha256(Path f) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0; ) digest.update(buffer, 0, n);
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
