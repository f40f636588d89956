package io.vlmrl.sft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vlmrl.model.WordTokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResponseTargetsTest {
    @Test
    void appendsTheEndTokenAndRightPads() {
        var policy = TinyModels.policy(0);
        WordTokenizer tokenizer = policy.tokenizer();
        ResponseTargets targets = ResponseTargets.of(List.of(policy.encodeResponse("red 2 answer 2"),
                policy.encodeResponse("answer yes")), tokenizer.padId());
        int red = tokenizer.encode("red")[0], two = tokenizer.encode("2")[0], answer = tokenizer.encode("answer")[0];
        int yes = tokenizer.encode("yes")[0], eos = tokenizer.eosId(), pad = tokenizer.padId();
        long[] ids = new long[10];
        targets.ids().data_ptr_long().get(ids);
        assertArrayEquals(new long[] {red, two, answer, two, eos, answer, yes, eos, pad, pad}, ids);
        float[] mask = new float[10];
        targets.mask().data_ptr_float().get(mask);
        assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, mask);
        assertArrayEquals(new long[] {2, 5}, targets.ids().sizes().vec().get());
    }

    @Test
    void rejectsAnEmptyBatch() {
        assertThrows(IllegalArgumentException.class, () -> ResponseTargets.of(List.of(), 0));
    }
}
