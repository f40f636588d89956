package io.vlmrl.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vlmrl.data.BuiltinTask;
import io.vlmrl.data.JsonlDataset;
import io.vlmrl.data.Problem;
import io.vlmrl.data.TaskConfig;
import io.vlmrl.data.TaskExport;
import io.vlmrl.reward.GuardedReward;
import io.vlmrl.reward.Reward;
import io.vlmrl.reward.RewardConfig;
import io.vlmrl.reward.RewardFunction;
import io.vlmrl.reward.RewardProvider;
import io.vlmrl.rl.MetricNames;
import io.vlmrl.rl.MetricsLogger;
import io.vlmrl.store.RunDirectory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The user-data path end to end on a tiny model: the built-in task exported as JSONL, SFT, a few
 * RL steps with each preset and the evaluation with per-type accuracy; a hand-written data set
 * with a user's reward class; reward failures under both settings of reward.on_error.
 */
class UserDataPathTest {

    @TempDir
    static Path shared;
    static Path exported;

    @TempDir
    Path dir;

    /** A model, rollout and budget small enough for a unit test. */
    static final List<String> TINY = List.of(
            "model.image_size=24", "model.patch_size=12", "model.vision_width=16", "model.vision_layers=1",
            "model.hidden_size=32", "model.layers=1", "model.heads=2", "model.intermediate_size=48",
            "sft.steps=4", "sft.batch_size=8", "eval.size=12", "eval.batch_size=12",
            "rollout.prompts_per_step=2", "rollout.group_size=3", "steps=2", "checkpoint.every=0",
            "optim.mini_batch_size=6", "optim.micro_batch_size=6", "curriculum.tau=-1", "curriculum.n_max=3");

    @BeforeAll
    static void export() throws Exception {
        exported = shared.resolve("task");
        TaskExport.write(new BuiltinTask(TaskConfig.defaults()), exported, 40, 12);
    }

    private RunConfig config(String preset, Path train, Path eval, String... extra) {
        List<String> sets = new ArrayList<>(TINY);
        sets.add("data.train=" + train);
        sets.add("data.eval=" + eval);
        sets.addAll(List.of(extra));
        return RunConfig.resolve(preset, null, sets);
    }

    @Test
    void exportWritesTheBuiltinTaskAsJsonlWithImagesAndSolutions() throws Exception {
        JsonlDataset train = JsonlDataset.load(exported.resolve(TaskExport.TRAIN_FILE));
        JsonlDataset eval = JsonlDataset.load(exported.resolve(TaskExport.EVAL_FILE));
        assertEquals(40, train.size());
        assertEquals(12, eval.size());
        BuiltinTask task = new BuiltinTask(TaskConfig.defaults());
        for (int i = 0; i < 5; i++) {
            Problem exportedProblem = train.get(i), original = task.demonstration(io.vlmrl.data.Split.TRAIN, i);
            assertEquals(original.question(), exportedProblem.question());
            assertEquals(original.answer(), exportedProblem.answer());
            assertEquals(original.workedResponse(), exportedProblem.workedResponse(), "train solutions are the teacher's");
            assertEquals(original.type(), exportedProblem.type());
            assertEquals(48, exportedProblem.image().getWidth());
        }
        assertEquals(0, train.overlapWith(eval), "the held-out split shares nothing with the training split");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ppo", "grpo", "dapo", "acpo", "apo"})
    void everyPresetTrainsAndEvaluatesOnAUsersData(String preset) throws Exception {
        Path run = dir.resolve(preset);
        RunConfig c = config(preset, exported.resolve(TaskExport.TRAIN_FILE), exported.resolve(TaskExport.EVAL_FILE));
        Map<String, Object> report = new TrainJob(c, run).showProgress(false).run();
        assertEquals(12, report.get("problems"));
        @SuppressWarnings("unchecked")
        Map<String, Object> byType = (Map<String, Object>) report.get("by_type");
        assertEquals(List.of("arithmetic", "comparison", "counting", "spatial"), new ArrayList<>(byType.keySet()),
                "per-type accuracy from the data's type field");
        assertEquals(2, MetricsLogger.read(RunDirectory.at(run).metrics()).size());
        assertTrue(Files.isRegularFile(RunDirectory.at(run).warmStart().resolve(RunDirectory.SFT_RESULT_FILE)));
        assertEquals(c, RunConfig.load(RunDirectory.at(run).config()));
    }

    /** A user's reward: right when the response contains the answer's text anywhere. */
    public static final class ContainsReward implements RewardFunction {
        @Override
        public Reward score(Problem problem, String response) {
            boolean right = response.contains(problem.answer().toLowerCase());
            return Reward.of(right ? 1.0 : 0.0, right);
        }
    }

    /** The same reward found by name through ServiceLoader (listed in META-INF/services). */
    public static final class ContainsRewardProvider implements RewardProvider {
        @Override
        public String name() {
            return "contains-test";
        }

        @Override
        public RewardFunction create(RewardConfig config) {
            return new ContainsReward();
        }
    }

    /** Throws on responses that contain "answer"; counts how often it was asked. */
    public static final class FailingReward implements RewardFunction {
        @Override
        public Reward score(Problem problem, String response) {
            if (response.contains("answer")) throw new IllegalStateException("cannot parse");
            return Reward.of(Double.NaN, false);
        }
    }

    private Path handWritten() throws Exception {
        BufferedImage red = new BufferedImage(30, 20, BufferedImage.TYPE_INT_RGB);
        var g = red.createGraphics();
        g.setColor(Color.RED);
        g.fillRect(0, 0, 30, 20);
        g.dispose();
        ImageIO.write(red, "png", dir.resolve("red.png").toFile());
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            lines.append("{\"image\": \"red.png\", \"question\": \"What colour, item ").append(i)
                    .append("?\", \"answer\": \"red\", \"solution\": \"it is red answer red\"}\n");
        }
        return Files.writeString(dir.resolve("colours.jsonl"), lines);
    }

    @Test
    void aHandWrittenJsonlTrainsWithAUsersRewardClassSelectedByClassOrByName() throws Exception {
        Path data = handWritten();
        RunConfig byClass = config("grpo", data, data, "reward.class=" + ContainsReward.class.getName());
        Map<String, Object> report = new TrainJob(byClass, dir.resolve("by-class")).showProgress(false).run();
        assertEquals(6, report.get("problems"));
        assertTrue(report.get("format_rate_after") == null, "this reward has no format component");
        RunConfig byName = config("grpo", data, data, "reward.name=contains-test");
        new TrainJob(byName, dir.resolve("by-name")).showProgress(false).run();
        assertEquals(2, MetricsLogger.read(RunDirectory.at(dir.resolve("by-name")).metrics()).size());
    }

    @Test
    void aFailingRewardStopsTheStepNamingProblemAndResponseOrScoresZeroAndIsCounted() throws Exception {
        Path data = handWritten();
        RunConfig fail = config("grpo", data, data, "reward.class=" + FailingReward.class.getName(), "sft.steps=20",
                "sft.lr=0.01");
        var failed = assertThrows(JobFailedException.class,
                () -> new TrainJob(fail, dir.resolve("fail")).showProgress(false).run());
        assertTrue(failed.getCause() instanceof GuardedReward.RewardFailure, String.valueOf(failed.getCause()));
        assertTrue(failed.getMessage().contains("run.log"), failed.getMessage());
        var e = failed.getCause();
        assertTrue(e.getMessage().contains("colours.jsonl:"), e.getMessage());
        assertTrue(e.getMessage().contains("for the response \""), e.getMessage());
        assertTrue(e.getMessage().contains("reward.on_error=zero"), e.getMessage());

        RunConfig zero = fail.with("reward.on_error=zero");
        new TrainJob(zero, dir.resolve("zero")).showProgress(false).run();
        double errors = 0;
        for (Map<String, Object> r : MetricsLogger.read(RunDirectory.at(dir.resolve("zero")).metrics())) {
            errors += ((Number) r.get(MetricNames.REWARD_ERRORS)).doubleValue();
            assertEquals(0.0, ((Number) r.get(MetricNames.REWARD_MEAN)).doubleValue(), "every response scored 0");
        }
        assertEquals(2 * 2 * 3, errors, 0.0, "every sampled response failed (NaN or a throw) and was counted");
    }

    @Test
    void theBuiltinModelsVocabularyComesFromTheTrainingDataAndUnknownCharactersAreNamed() throws Exception {
        Path data = handWritten();
        Path other = Files.writeString(dir.resolve("other.jsonl"),
                "{\"image\": \"red.png\", \"question\": \"Quelle couleur ?\", \"answer\": \"rouge\"}\n"
                + "{\"image\": \"red.png\", \"question\": \"Couleur № 2 ?\", \"answer\": \"rouge\"}\n");
        RunConfig c = config("grpo", data, other);
        RunData runData = RunData.open(c, RunData.Need.TRAIN_AND_EVAL);
        var tokenizer = runData.builtinTokenizer();
        assertTrue(tokenizer.contains("colour"), "words of the training set are tokens");
        assertTrue(tokenizer.contains("№"), "characters of the held-out set get tokens");
        var policy = Policies.initial(c, runData);
        Policies.check(policy, runData.toCheck());
        // A model trained elsewhere (the built-in task's vocabulary) cannot write such a character.
        var builtin = io.vlmrl.model.BuiltinPolicy.create(c.model(),
                io.vlmrl.model.WordTokenizer.fromWords(BuiltinTask.vocabulary()), 1);
        var e = assertThrows(IllegalArgumentException.class, () -> Policies.check(builtin, runData.toCheck()));
        assertTrue(e.getMessage().contains("other.jsonl:2") && e.getMessage().contains("'№'"), e.getMessage());
    }

    @Test
    void autoScoresExportedRecordsWithTheBuiltinRewardAndOtherRecordsWithMath() throws Exception {
        JsonlDataset exportedTrain = JsonlDataset.load(exported.resolve(TaskExport.TRAIN_FILE));
        Problem builtinRecord = exportedTrain.get(0);
        assertEquals("builtin-scene", builtinRecord.extra().get("data_source"));
        assertTrue(builtinRecord.extra().get("derivation").endsWith("answer " + builtinRecord.answer()));
        RewardFunction auto = io.vlmrl.reward.Rewards.create(RewardConfig.defaults(), false);
        Reward r = auto.score(builtinRecord, builtinRecord.extra().get("derivation"));
        assertEquals(1.0 + 0.1 + 0.4, r.score(), 1e-12, "full credit: answer, format and the exact derivation's facts");
        Problem plain = JsonlDataset.load(handWritten()).get(0);
        Reward m = auto.score(plain, "<think>it is red</think><answer>Red</answer>");
        assertEquals(Map.of("accuracy", 1.0, "format", 0.1), m.components(), "a record without data_source gets math");
    }

    @Test
    void evalJsonHasPerTypeAccuracy() throws Exception {
        Path run = dir.resolve("acpo");
        new TrainJob(config("acpo", exported.resolve(TaskExport.TRAIN_FILE), exported.resolve(TaskExport.EVAL_FILE)), run)
                .showProgress(false).run();
        var json = new ObjectMapper().readTree(RunDirectory.at(run).eval().toFile());
        assertEquals(4, json.get("by_type").size());
        int problems = 0;
        for (var t : json.get("by_type")) problems += t.get("problems").asInt();
        assertEquals(12, problems);
    }
}
