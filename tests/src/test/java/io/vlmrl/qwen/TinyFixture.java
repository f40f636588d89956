package io.vlmrl.qwen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the tiny Qwen2.5-VL fixture copied into the test resources ({@code qwen25vl-tiny/}, see its
 * README) and reads its {@code reference.json} and {@code reference.safetensors}.
 */
public final class TinyFixture {

    private static final String RESOURCE = "/qwen25vl-tiny";

    private TinyFixture() {
    }

    /** The fixture's root directory (holding {@code float32/} and {@code bf16/}). */
    public static Path root() {
        URL url = TinyFixture.class.getResource(RESOURCE);
        if (url == null) {
            throw new IllegalStateException("test resource " + RESOURCE + " is missing from the class path");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("test resource " + RESOURCE + " has no file path: " + url, e);
        }
    }

    /** {@code float32/}: a complete Hugging Face model directory without tokenizer files. */
    public static Path float32() {
        return root().resolve("float32");
    }

    /** {@code float32/reference.json}. */
    public static JsonNode reference() {
        Path file = float32().resolve("reference.json");
        try {
            return new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** {@code float32/reference.safetensors}, through the test-only reader. */
    static RefTensors tensors() {
        Path file = float32().resolve("reference.safetensors");
        try {
            return new RefTensors(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
