package io.vlmrl.run;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One line of a {@code score} or {@code generate} input file ({@link PromptRecords}): a prompt in
 * exactly one of three forms, its images, and for scoring a response in one of two forms. Fields
 * that the line does not give are null. Java memory only.
 *
 * @param index       0-based position among the file's records (blank lines skipped)
 * @param where       {@code file:line}, for messages
 * @param images      image files, in prompt order (resolved against the file's folder; may be empty)
 * @param prompt      the user's question text ({@code prompt}, or {@code question}), rendered as one user
 *                    turn (images first) with the chat template
 * @param messages    a whole chat conversation ({@code messages}: role / content maps), rendered with the
 *                    chat template and the generation prompt
 * @param promptIds   prompt token ids with one image placeholder per image ({@code prompt_ids})
 * @param response    response text without the end token, which is appended ({@code response})
 * @param responseIds response token ids, taken as they are ({@code response_ids})
 */
public record PromptRecord(int index, String where, List<Path> images, String prompt, List<Map<String, Object>> messages,
                           int[] promptIds, String response, int[] responseIds) {

    public PromptRecord {
        images = List.copyOf(images);
        int forms = (prompt != null ? 1 : 0) + (messages != null ? 1 : 0) + (promptIds != null ? 1 : 0);
        if (forms != 1) {
            throw new IllegalArgumentException(where + ": expected exactly one of \"prompt\", \"messages\" and \"prompt_ids\", got "
                    + forms);
        }
        if (response != null && responseIds != null) {
            throw new IllegalArgumentException(where + ": expected one of \"response\" and \"response_ids\", got both");
        }
    }

    /** Whether the record gives a response. */
    public boolean hasResponse() {
        return response != null || responseIds != null;
    }
}
