package io.vlmrl.run;

import io.vlmrl.model.SaveDtype;
import io.vlmrl.model.WeightDtype;
import io.vlmrl.policy.Policy;
import io.vlmrl.qwen.FixtureTokenizer;
import io.vlmrl.qwen.QwenPolicy;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The {@code model.*} keys of a loaded Hugging Face model: parsed, checked, and passed through to the policy. */
class ModelKeysTest {

    @TempDir
    Path dir;

    private static RunConfig set(String... overrides) {
        return RunConfig.resolve("acpo", null, List.of(overrides));
    }

    @Test
    void loadedModelKeysParseAndAreNotBuiltinSizes() {
        RunConfig c = set("model.path=/some/qwen", "model.dtype=bfloat16", "model.save_dtype=float32", "model.save_shard_mb=2000",
                "model.freeze_vision=true");
        assertEquals(WeightDtype.BFLOAT16, c.model().dtype());
        assertEquals(SaveDtype.FLOAT32, c.model().saveDtype());
        assertEquals(2_000_000_000L, c.model().saveShardBytes());
        RunConfig defaults = set();
        assertEquals(WeightDtype.FLOAT32, defaults.model().dtype());
        assertEquals(SaveDtype.AUTO, defaults.model().saveDtype());
        assertEquals(5_000_000_000L, defaults.model().saveShardBytes(), "transformers' default 5GB shards");
    }

    @Test
    void badValuesAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> set("model.dtype=float16", "model.path=/m"));
        assertTrue(e.getMessage().contains("model.dtype") && e.getMessage().contains("float16"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> set("model.dtype=bfloat16"));
        assertTrue(e.getMessage().contains("config key 'model.dtype': bfloat16 applies to a loaded Hugging Face model"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> set("model.path=/m", "model.save_shard_mb=0"));
        assertTrue(e.getMessage().contains("model.save_shard_mb"), e.getMessage());
        // the built-in sizes are still refused next to a loaded model
        e = assertThrows(IllegalArgumentException.class, () -> set("model.path=/m", "model.layers=2"));
        assertTrue(e.getMessage().contains("'model.layers'"), e.getMessage());
    }

    @Test
    void policiesPassTheKeysToTheQwenPolicy() throws IOException {
        Path model = FixtureTokenizer.copyModelDir(dir.resolve("model"));
        RunConfig c = set("model.path=" + model, "model.dtype=bfloat16", "model.save_dtype=bfloat16", "model.save_shard_mb=1",
                "model.freeze_vision=true");
        try (Policy policy = Policies.load(model, c.model())) {
            QwenPolicy qwen = assertInstanceOf(QwenPolicy.class, policy);
            assertEquals(new QwenPolicy.Options(true, WeightDtype.BFLOAT16, SaveDtype.BFLOAT16, 1_000_000L), qwen.options());
            assertEquals(torch.ScalarType.BFloat16.value, qwen.lmHeadWeight().scalar_type().value);
            assertTrue(policy.trainableParameters().keySet().stream().noneMatch(n -> n.startsWith("visual.")));
        }
    }
}
