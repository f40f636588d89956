package io.vlmrl.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Greedy-decoding results on a data set.
 *
 * @param dataset            name of the evaluated data set
 * @param problems           number of problems evaluated
 * @param correct            how many were answered correctly
 * @param accuracy           correct / problems
 * @param formatRate         fraction of responses whose reward has a positive {@code format} component
 *                           (null when the reward has no such component)
 * @param meanReward         mean reward score
 * @param meanResponseTokens mean generated tokens per response (end token included)
 * @param byType             the same counts per question type, sorted by type
 * @param examples           the first few problems with the generated response
 * @param seconds            wall time of the evaluation
 */
public record EvalResult(String dataset, int problems, int correct, double accuracy, Double formatRate,
                         double meanReward, double meanResponseTokens, Map<String, TypeAccuracy> byType,
                         List<Example> examples, double seconds) {
    public EvalResult {
        byType = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(byType));
        examples = List.copyOf(examples);
    }

    /** Accuracy of one question type. */
    public record TypeAccuracy(int problems, int correct, double accuracy) {
    }

    /** One evaluated problem. */
    public record Example(String id, String type, String question, String answer, String response, boolean correct) {
    }

    public void writeJson(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        io.vlmrl.files.AtomicFiles.write(file, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(this));
    }

    public static EvalResult readJson(Path file) throws IOException {
        return new ObjectMapper().readValue(file.toFile(), EvalResult.class);
    }
}
