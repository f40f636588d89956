package io.vlmrl.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vlmrl.cli.Main;
import io.vlmrl.data.JsonlDataset;
import io.vlmrl.data.Problem;
import io.vlmrl.model.WeightDtype;
import io.vlmrl.qwen.FixtureTokenizer;
import io.vlmrl.qwen.QwenCheckpoint;
import io.vlmrl.qwen.QwenPolicy;
import io.vlmrl.qwen.QwenVlModel;
import io.vlmrl.sft.SftConfig;
import io.vlmrl.sft.SftTrainer;
import io.vlmrl.store.TrainCheckpoint;
import io.vlmrl.store.RunDirectory;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The trainers on a Hugging Face Qwen2.5-VL directory (the tiny fixture with its tokenizer): RL with
 * every preset through the CLI saves a final model directory that loads back, in the input's
 * layout; frozen vision stays fixed; SFT lowers the loss.
 */
class QwenTrainingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    private static Path model, train, eval;

    @BeforeAll
    static void setUp() throws IOException {
        model = FixtureTokenizer.copyModelDir(dir.resolve("model"));
        Path data = dir.resolve("data");
        Files.createDirectories(data.resolve("imgs"));
        train = data.resolve("train.jsonl");
        eval = data.resolve("eval.jsonl");
        Files.writeString(train, records(data, 0, 4));
        Files.writeString(eval, records(data, 4, 2));
    }

    /** {@code n} problems "how many squares?" with PNGs of 1..3 squares (sizes vary: any size is fine). */
    private static String records(Path data, int first, int n) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = first; i < first + n; i++) {
            int count = 1 + i % 3;
            BufferedImage image = new BufferedImage(60 + 10 * i, 50 + 7 * i, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = image.createGraphics();
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, image.getWidth(), image.getHeight());
            g.setColor(new Color(200, 30 + 40 * i, 40));
            for (int k = 0; k < count; k++) {
                g.fillRect(5 + 18 * k, 10 + 3 * k, 12, 12);
            }
            g.dispose();
            String name = "imgs/p" + i + ".png";
            ImageIO.write(image, "png", data.resolve(name).toFile());
            Map<String, Object> record = Map.of("image", name, "question", "How many squares are there?",
                    "answer", String.valueOf(count), "solution", "I count " + count + " squares. The answer is " + count + ".");
            sb.append(JSON.writeValueAsString(record)).append('\n');
        }
        return sb.toString();
    }

    /** Runs the CLI; fails with its stderr unless it exits 0. */
    private static void assertRuns(String... args) {
        io.vlmrl.cli.Cli.Result r = io.vlmrl.cli.Cli.run(args);
        assertEquals(0, r.code(), String.join(" ", args) + "\nstderr: " + r.err());
    }

    private static Path train(String preset, String... extra) {
        Path out = dir.resolve("run-" + preset + (extra.length > 0 ? "-extra" : ""));
        List<String> args = new ArrayList<>(List.of("train", "--model", model.toString(), "--data", train.toString(),
                "--eval-data", eval.toString(), "--preset", preset, "--out", out.toString(), "--quiet",
                "--set", "steps=2", "--set", "sft.steps=0", "--set", "reward.name=math",
                "--set", "rollout.prompts_per_step=2", "--set", "rollout.group_size=2", "--set", "rollout.max_response_length=6",
                "--set", "optim.mini_batch_size=4", "--set", "optim.micro_batch_size=2", "--set", "optim.lr=1e-3",
                "--set", "optim.warmup_steps=0", "--set", "eval.max_new_tokens=6", "--set", "checkpoint.every=1",
                // a random model earns no reward: the entropy bonus gives every preset a gradient,
                // and tau = -1 lets ACPO's gate keep the groups
                "--set", "loss.entropy_coef=0.05", "--set", "curriculum.tau=-1", "--set", "curriculum.n_max=2"));
        for (String e : extra) {
            args.add("--set");
            args.add(e);
        }
        assertRuns(args.toArray(new String[0]));
        return out;
    }

    static Set<String> fileNames(Path d) throws IOException {
        try (Stream<Path> files = Files.list(d)) {
            return files.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    /** Names of the parameters whose values differ between two model directories (loaded as float32). */
    static Set<String> changed(Path a, Path b, Predicate<String> names) throws IOException {
        QwenVlModel ma = QwenCheckpoint.load(a), mb = QwenCheckpoint.load(b);
        try (PointerScope scope = new PointerScope()) {
            Set<String> out = new TreeSet<>();
            Map<String, Tensor> pa = ma.namedParameters(), pb = mb.namedParameters();
            assertEquals(pa.keySet(), pb.keySet());
            pa.forEach((name, t) -> {
                if (names.test(name) && !torch.equal(t, pb.get(name))) {
                    out.add(name);
                }
            });
            return out;
        } finally {
            ma.close();
            mb.close();
        }
    }

    @Test
    void everyPresetTrainsAndSavesAModelDirectoryThatLoadsBack() throws IOException {
        for (String preset : Presets.names()) {
            Path run = train(preset);
            Path fin = RunDirectory.at(run).finalPolicy();
            java.util.Set<String> saved = new java.util.TreeSet<>(fileNames(fin));
            assertTrue(saved.remove(io.vlmrl.files.Manifest.FILE), preset + ": final/ is checksummed");
            assertEquals(new java.util.TreeSet<>(fileNames(model)), saved, preset + ": final/ has the input model's files");
            JsonNode report = JSON.readTree(RunDirectory.at(run).eval().toFile());
            assertEquals(2, report.get("problems").asInt(), preset);
            // final/ holds exactly the weights of the last checkpoint, and QwenPolicy reads them as QwenCheckpoint does
            Path last = TrainCheckpoint.latestIntact(RunDirectory.at(run)).resolve(TrainCheckpoint.POLICY);
            assertEquals(Set.of(), changed(fin, last, n -> true), preset + ": final/ = last checkpoint");
            try (QwenPolicy loaded = QwenPolicy.load(fin, false, WeightDtype.FLOAT32);
                 PointerScope scope = new PointerScope()) {
                QwenVlModel direct = QwenCheckpoint.load(fin);
                try {
                    Map<String, Tensor> a = loaded.model().namedParameters(), b = direct.namedParameters();
                    a.forEach((name, t) -> assertTrue(torch.equal(t, b.get(name)), preset + " " + name));
                } finally {
                    direct.close();
                }
            }
            if (!preset.equals("dapo")) { // DAPO's dynamic sampling drops groups of equal rewards: no update here
                assertFalse(changed(model, fin, n -> n.startsWith("model.")).isEmpty(), preset + ": RL changed the LM");
            }
        }
    }

    @Test
    void frozenVisionStaysFixedWhileTheLanguageModelTrains() throws IOException {
        Path run = train("ppo", "model.freeze_vision=true");
        Path fin = RunDirectory.at(run).finalPolicy();
        assertEquals(Set.of(), changed(model, fin, n -> n.startsWith("visual.")), "vision tower and merger unchanged");
        assertFalse(changed(model, fin, n -> n.startsWith("model.")).isEmpty(), "the language model trained");

        // a resumed run reloads its warm start and last checkpoint (QwenPolicy.loadWeights) and trains on
        Path beforeResume = dir.resolve("before-resume");
        Files.createDirectories(beforeResume);
        for (String name : fileNames(fin)) {
            Files.copy(fin.resolve(name), beforeResume.resolve(name));
        }
        assertRuns("train", "--resume", run.toString(), "--quiet", "--set", "steps=3");
        assertEquals(3, io.vlmrl.rl.MetricsLogger.read(RunDirectory.at(run).metrics()).size(), "metrics of steps 0, 1 and 2");
        assertEquals(Set.of(), changed(model, fin, n -> n.startsWith("visual.")), "vision still unchanged");
        assertFalse(changed(beforeResume, fin, n -> n.startsWith("model.")).isEmpty(), "step 2 trained the LM further");
    }

    @Test
    void bf16WeightsTrainAndSaveInTheCheckpointsOwnDtype() throws IOException {
        Path run = train("grpo", "model.dtype=bfloat16");
        Path fin = RunDirectory.at(run).finalPolicy();
        try (io.vlmrl.hf.SafeTensorsFile saved = io.vlmrl.hf.SafeTensors.open(fin.resolve("model.safetensors"))) {
            for (String name : saved.names()) {
                assertEquals(io.vlmrl.hf.SafeDtype.F32, saved.info(name).dtype(), name + ": the fixture's float32, as stored");
            }
        }
        // the trained weights differ from the input rounded to bfloat16 (what training started from)
        QwenVlModel trained = QwenCheckpoint.load(fin);
        try (QwenPolicy start = QwenPolicy.load(model, false, WeightDtype.BFLOAT16); PointerScope scope = new PointerScope()) {
            Map<String, Tensor> a = start.model().namedParameters(), b = trained.namedParameters();
            long changed = a.keySet().stream().filter(n -> n.startsWith("model."))
                    .filter(n -> !torch.equal(a.get(n).to(torch.ScalarType.Float), b.get(n))).count();
            assertTrue(changed > 0, "RL in bfloat16 changed the LM");
            long offGrid = b.values().stream().filter(t -> !torch.equal(t, t.to(torch.ScalarType.BFloat16).to(torch.ScalarType.Float)))
                    .count();
            assertEquals(0, offGrid, "float32 file of bfloat16 values");
        } finally {
            trained.close();
        }
    }

    @Test
    void sftLowersTheLossAndSavesAModelDirectory() throws IOException {
        Path out = dir.resolve("sft-out");
        assertRuns("sft", "--model", model.toString(), "--data", train.toString(), "--out", out.toString(), "--quiet",
                "--set", "sft.steps=12", "--set", "sft.batch_size=4", "--set", "sft.lr=2e-3", "--set", "sft.warmup_steps=0");
        assertTrue(fileNames(out).containsAll(fileNames(model)), "the model directory's files: " + fileNames(out));
        List<Problem> problems = new ArrayList<>();
        JsonlDataset data = JsonlDataset.load(train);
        for (int i = 0; i < data.size(); i++) {
            problems.add(data.get(i));
        }
        SftConfig config = SftConfig.defaults();
        double before, after;
        try (QwenPolicy original = QwenPolicy.load(model, false, WeightDtype.FLOAT32)) {
            before = new SftTrainer(original, config, 1).loss(problems);
        }
        try (QwenPolicy trained = QwenPolicy.load(out, false, WeightDtype.FLOAT32)) {
            after = new SftTrainer(trained, config, 1).loss(problems);
        }
        assertTrue(after < 0.8 * before, "SFT loss on the training set: " + before + " -> " + after);
    }
}
