package io.vlmrl.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void loadsRecordsWithRelativeAndAbsolutePathsAndResizes() throws IOException {
        Path file = write("""
                {"image": "imgs/red.png", "question": "what colour is it ?", "answer": "Red", "type": "spatial"}

                {"image": "%s", "question": "how many shapes ?", "answer": "one", "response": "shapes 1 answer 1"}
                """.formatted(dir.resolve("red.jpg").toAbsolutePath().toString().replace("\\", "\\\\")));
        JsonlDataset data = JsonlDataset.load(file, 16);
        assertEquals(2, data.size());
        assertEquals("data.jsonl", data.name());
        Problem first = data.get(0);
        assertEquals(16, first.image().getWidth());
        assertEquals(16, first.image().getHeight());
        assertEquals(0xff0000, first.image().getRGB(8, 8) & 0xffffff);
        assertEquals("red", first.answer());
        assertEquals("spatial", first.type());
        assertNull(first.workedResponse());
        assertEquals("answer red", first.targetResponse());
        Problem second = data.get(1);
        assertEquals("1", second.answer());
        assertEquals(Problem.UNTYPED, second.type());
        assertEquals("shapes 1 answer 1", second.targetResponse());
        int rgb = second.image().getRGB(8, 8);
        assertTrue(((rgb >> 16) & 0xff) > 200 && ((rgb >> 8) & 0xff) < 60, "JPEG pixel should stay red");
    }

    @Test
    void missingDatasetFileIsNamed() {
        Path missing = dir.resolve("nope.jsonl");
        var e = assertThrows(IllegalArgumentException.class, () -> JsonlDataset.load(missing, 16));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void missingImageFileNamesFileAndLine() throws IOException {
        Path file = write(good() + "\n{\"image\": \"imgs/absent.png\", \"question\": \"q ?\", \"answer\": \"1\"}\n");
        assertMessage(file, "data.jsonl:2", "absent.png", "does not exist");
    }

    @Test
    void unreadableImageNamesFileAndLine() throws IOException {
        Path file = write(good() + "\n" + good() + "\n{\"image\": \"broken.png\", \"question\": \"q ?\", \"answer\": \"1\"}\n");
        assertMessage(file, "data.jsonl:3", "broken.png", "not a readable");
    }

    @Test
    void missingFieldNamesTheFieldAndLine() throws IOException {
        Path file = write("{\"image\": \"imgs/red.png\", \"question\": \"q ?\"}\n");
        assertMessage(file, "data.jsonl:1", "\"answer\"");
        Path emptyQuestion = write("{\"image\": \"imgs/red.png\", \"question\": \"  \", \"answer\": \"1\"}\n");
        assertMessage(emptyQuestion, "data.jsonl:1", "\"question\"");
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

    private static String good() {
        return "{\"image\": \"imgs/red.png\", \"question\": \"q ?\", \"answer\": \"1\"}";
    }

    private Path write(String content) throws IOException {
        return Files.writeString(dir.resolve("data.jsonl"), content);
    }

    private static void assertMessage(Path file, String... fragments) {
        var e = assertThrows(IllegalArgumentException.class, () -> JsonlDataset.load(file, 16));
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' lacks '" + fragment + "'");
        }
    }
}
