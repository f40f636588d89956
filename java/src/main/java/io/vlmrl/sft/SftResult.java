package io.vlmrl.sft;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What a supervised run produced.
 *
 * @param dataset  name of the training data set
 * @param config   the settings used
 * @param seed     the seed that drew the batches
 * @param losses   mean cross-entropy (nats per response token) of each step, before its update
 * @param seconds  wall time of the training loop
 */
public record SftResult(String dataset, SftConfig config, long seed, List<Double> losses, double seconds) {
    public SftResult {
        losses = List.copyOf(losses);
    }

    /** Loss of the first step, NaN when no step ran. */
    @JsonProperty("initialLoss")
    public double initialLoss() {
        return losses.isEmpty() ? Double.NaN : losses.get(0);
    }

    /** Mean loss of the last min(10, steps) steps (less noisy than the very last one), NaN when none. */
    @JsonProperty("finalLoss")
    public double finalLoss() {
        int n = Math.min(10, losses.size());
        return losses.subList(losses.size() - n, losses.size()).stream().mapToDouble(Double::doubleValue).average()
                .orElse(Double.NaN);
    }

    public void writeJson(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        io.vlmrl.files.AtomicFiles.write(file, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(this));
    }
}
