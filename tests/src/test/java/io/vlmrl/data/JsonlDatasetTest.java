package io.vlmrl.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vlmrl.config.Schema;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlDatasetTest {
    @TempDir
    Path dir;

    @BeforeEach
    void writeImages() throws IOException {
        BufferedImage red = new BufferedImage(20, 10, BufferedImage.TYPE_INT_RGB);
        var g = red.createGraphics();
        g.setColor(Color.RED);
        g.fillRect(0, 0, 20, 10);
        g.dispose();
        Files.createDirectories(dir.resolve("imgs"));
        ImageIO.write(red, "png", dir.resolve("imgs/red.png").toFile());
        ImageIO.write(red, "jpg", dir.resolve("red.jpg").toFile());
        Files.writeString(dir.resolve("broken.png"), "this is not a png");
    }

    @Test
    void loadsRecordsWithRelativeAndAbsolutePathsAtTheirOwnSize() throws IOException {
        Path file = write("""
                {"image": "imgs/red.png", "question": "what colour is it ?", "answer": "Red", "type": "spatial"}

                {"image": "%s", "question": "how many shapes ?", "answer": 1, "solution": "shapes 1 answer 1"}
                """.formatted(dir.resolve("red.jpg").toAbsolutePath().toString().replace("\\", "\\\\")));
        JsonlDataset data = JsonlDataset.load(file);
        assertEquals(2, data.size());
        assertEquals("data.jsonl", data.name());
        Problem first = data.get(0);
        assertEquals(file + ":1", first.id());
        assertEquals(20, first.image().getWidth(), "images keep their size: the policy resizes them");
        assertEquals(10, first.image().getHeight());
        assertEquals(0xff0000, first.image().getRGB(8, 8) & 0xffffff);
        assertEquals("Red", first.answer(), "answers are kept as written; rewards normalise them");
        assertEquals("spatial", first.type());
        assertNull(first.workedResponse());
        assertEquals("answer red", first.targetResponse());
        Problem second = data.get(1);
        assertEquals(file + ":3", second.id(), "ids count blank lines");
        assertEquals("1", second.answer(), "a numeric answer becomes its text");
        assertEquals(Problem.UNTYPED, second.type());
        assertEquals("shapes 1 answer 1", second.targetResponse());
        int rgb = second.image().getRGB(8, 8);
        assertTrue(((rgb >> 16) & 0xff) > 200 && ((rgb >> 8) & 0xff) < 60, "JPEG pixel should stay red");
    }

    @Test
    void fieldNamesComeFromTheConfigurationAndImagesMayBeAList() throws IOException {
        Path file = write("{\"imgs\": [\"imgs/red.png\", \"red.jpg\"], \"problem\": \"same ?\", \"gt\": \"yes\", "
                + "\"cot\": \"both red answer yes\", \"kind\": \"comparison\"}\n");
        DataConfig fields = Schema.with(DataConfig.defaults(), "image_key=imgs", "prompt_key=problem", "answer_key=gt",
                "solution_key=cot", "type_key=kind");
        Problem p = JsonlDataset.load(file, fields).get(0);
        assertEquals(2, p.images().size());
        assertEquals("same ?", p.question());
        assertEquals("yes", p.answer());
        assertEquals("both red answer yes", p.workedResponse());
        assertEquals("comparison", p.type());
        assertMessage(file, "data.jsonl:1", "\"question\""); // the default field names do not match this file
    }

    @Test
    void missingDatasetFileIsNamed() {
        Path missing = dir.resolve("nope.jsonl");
        var e = assertThrows(IllegalArgumentException.class, () -> JsonlDataset.load(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void missingImageFileNamesFileAndLine() throws IOException {
        Path file = write(good() + "\n{\"image\": \"imgs/absent.png\", \"question\": \"q ?\", \"answer\": \"1\"}\n");
        assertMessage(file, "data.jsonl:2", "absent.png", "does not exist");
        Path inList = write("{\"image\": [\"imgs/red.png\", \"gone.png\"], \"question\": \"q ?\", \"answer\": \"1\"}\n");
        assertMessage(inList, "data.jsonl:1", "gone.png");
    }

    @Test
    void unreadableImageNamesFileAndLine() throws IOException {
        Path file = write(good() + "\n" + good() + "\n{\"image\": \"broken.png\", \"question\": \"q ?\", \"answer\": \"1\"}\n");
        assertMessage(file, "data.jsonl:3", "broken.png", "not a readable");
    }

    @Test
    void missingFieldNamesTheFieldAndLine() throws IOException {
        assertMessage(write("{\"image\": \"imgs/red.png\", \"question\": \"q ?\"}\n"), "data.jsonl:1", "\"answer\"");
        assertMessage(write("{\"question\": \"q ?\", \"answer\": \"1\"}\n"), "data.jsonl:1", "\"image\"");
        assertMessage(write("{\"image\": \"imgs/red.png\", \"question\": \"  \", \"answer\": \"1\"}\n"), "data.jsonl:1",
                "\"question\"", "empty");
        assertMessage(write("{\"image\": \"imgs/red.png\", \"question\": \"q ?\", \"answer\": \"\"}\n"), "data.jsonl:1",
                "\"answer\"", "empty");
    }

    @Test
    void wrongTypesAreNamed() throws IOException {
        assertMessage(write("{\"image\": \"imgs/red.png\", \"question\": 5, \"answer\": \"1\"}\n"), "data.jsonl:1",
                "\"question\"", "string");
        assertMessage(write("{\"image\": 3, \"question\": \"q\", \"answer\": \"1\"}\n"), "data.jsonl:1", "\"image\"");
        assertMessage(write("{\"image\": [], \"question\": \"q\", \"answer\": \"1\"}\n"), "data.jsonl:1", "at least one");
        assertMessage(write("{\"image\": \"imgs/red.png\", \"question\": \"q\", \"answer\": [1]}\n"), "data.jsonl:1",
                "\"answer\"");
        assertMessage(write(good().replace("}", ", \"solution\": {\"a\": 1}}") + "\n"), "data.jsonl:1", "\"solution\"");
    }

    @Test
    void invalidJsonNamesTheLine() throws IOException {
        Path file = write(good() + "\n{\"image\": \"imgs/red.png\", \"question\": \n");
        assertMessage(file, "data.jsonl:2", "invalid JSON");
        Path array = write("[1, 2]\n");
        assertMessage(array, "data.jsonl:1", "JSON object");
    }

    @Test
    void fileWithoutRecordsIsRejected() throws IOException {
        assertMessage(write("\n  \n"), "no records");
    }

    @Test
    void overlapCountsProblemsWithTheSameQuestionAnswerAndImageContents() throws IOException {
        Files.copy(dir.resolve("imgs/red.png"), dir.resolve("copy.png"));
        JsonlDataset train = JsonlDataset.load(writeAs("train.jsonl", good() + "\n"
                + "{\"image\": \"red.jpg\", \"question\": \"q ?\", \"answer\": \"1\"}\n"));
        JsonlDataset eval = JsonlDataset.load(writeAs("eval.jsonl",
                "{\"image\": \"copy.png\", \"question\": \"q ?\", \"answer\": \"1\"}\n" // same bytes as imgs/red.png
                + "{\"image\": \"imgs/red.png\", \"question\": \"q ?\", \"answer\": \"2\"}\n" // other answer
                + "{\"image\": \"imgs/red.png\", \"question\": \"other ?\", \"answer\": \"1\"}\n"));
        assertEquals(1, train.overlapWith(eval));
    }

    private static String good() {
        return "{\"image\": \"imgs/red.png\", \"question\": \"q ?\", \"answer\": \"1\"}";
    }

    private Path write(String content) throws IOException {
        return writeAs("data.jsonl", content);
    }

    private Path writeAs(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    private static void assertMessage(Path file, String... fragments) {
        var e = assertThrows(IllegalArgumentException.class, () -> JsonlDataset.load(file));
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' lacks '" + fragment + "'");
        }
    }
}
