package io.vlmrl.dist;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Copies one output stream of a rank's process to the launcher's, starting every line with
 * {@code [rank k] } (after a carriage return too, so that rank 0's progress bar, which redraws its
 * line with {@code \r}, keeps its prefix). Whatever arrived is written at once, in one piece per
 * read, so the ranks' lines interleave whole as long as a line arrives in one read.
 */
final class RankOutput implements Runnable {
    private final InputStream in;
    private final PrintStream out;
    private final byte[] prefix;

    RankOutput(InputStream in, PrintStream out, int rank) {
        this.in = in;
        this.out = out;
        this.prefix = ("[rank " + rank + "] ").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void run() {
        byte[] buffer = new byte[8192];
        ByteArrayOutputStream chunk = new ByteArrayOutputStream();
        boolean lineStart = true;
        try {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                chunk.reset();
                for (int i = 0; i < n; i++) {
                    byte b = buffer[i];
                    if (lineStart && b != '\n' && b != '\r') {
                        chunk.write(prefix, 0, prefix.length);
                        lineStart = false;
                    }
                    chunk.write(b);
                    if (b == '\n' || b == '\r') lineStart = true;
                }
                synchronized (out) {
                    chunk.writeTo(out);
                    out.flush();
                }
            }
        } catch (IOException e) {
            // the rank's process is gone: its output ends here
        }
    }
}
