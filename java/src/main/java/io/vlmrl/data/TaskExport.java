package io.vlmrl.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import javax.imageio.ImageIO;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes the built-in task as a user's data set would be: PNG images and two JSONL files in the
 * format {@link JsonlDataset} reads ({@code image}, {@code question}, {@code answer},
 * {@code solution}, {@code type}, {@code difficulty}, {@code data_source}, {@code derivation}). The
 * training set's solutions are the task's SFT demonstrations (its teacher's, as the built-in warm
 * start uses); the held-out set's are the exact derivations. {@code data_source: builtin-scene}
 * routes the records to the built-in task's reward, which credits the exact {@code derivation}. So a new user can see the format and run the user-data path end to end on
 * data that needs no download.
 */
public final class TaskExport {
    public static final String TRAIN_FILE = "train.jsonl";
    public static final String EVAL_FILE = "eval.jsonl";
    public static final String IMAGES_DIR = "images";
    /** The field naming a record's reward, as verl's {@code data_source}. */
    public static final String SOURCE_FIELD = "data_source";
    /** The reward of the built-in task's records. */
    public static final String SOURCE = "builtin-scene";

    private static final ObjectMapper JSON = new ObjectMapper();

    private TaskExport() {
    }

    /**
     * Writes {@code trainSize} training problems (with the teacher's demonstrations) and
     * {@code evalSize} held-out problems of {@code task} into {@code out}.
     */
    public static void write(BuiltinTask task, Path out, int trainSize, int evalSize) throws IOException {
        if (trainSize < 1) throw new IllegalArgumentException("--train: expected a number of problems >= 1, got " + trainSize);
        if (evalSize < 1) throw new IllegalArgumentException("--eval: expected a number of problems >= 1, got " + evalSize);
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IllegalArgumentException("--out: expected a directory, got the file '" + out + "'");
        }
        Files.createDirectories(out.resolve(IMAGES_DIR));
        writeSplit(task.demonstrations(Split.TRAIN, trainSize), out, TRAIN_FILE, "train");
        writeSplit(task.dataset(Split.HELD_OUT, evalSize), out, EVAL_FILE, "eval");
    }

    private static void writeSplit(Dataset problems, Path out, String file, String prefix) throws IOException {
        Path tmp = out.resolve(file + ".tmp");
        try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            for (int i = 0; i < problems.size(); i++) {
                Problem p = problems.get(i);
                String image = IMAGES_DIR + "/" + String.format("%s-%06d.png", prefix, i);
                ImageIO.write(p.image(), "png", out.resolve(image).toFile());
                ObjectNode record = JSON.createObjectNode();
                record.put("image", image);
                record.put("question", p.question());
                record.put("answer", p.answer());
                if (p.workedResponse() != null) record.put("solution", p.workedResponse());
                record.put("type", p.type());
                record.put("difficulty", p.difficulty());
                // verl's convention: the record names its reward; and the exact derivation it credits.
                record.put(SOURCE_FIELD, SOURCE);
                record.put(BuiltinTask.DERIVATION_FIELD, p.extra().get(BuiltinTask.DERIVATION_FIELD));
                w.write(JSON.writeValueAsString(record));
                w.write('\n');
            }
        }
        Files.move(tmp, out.resolve(file), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
