package io.vlmrl.files;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.ArchiveWriter;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * LibTorch archives ({@code torch::serialize}) written and read with errors that name the file.
 *
 * <p>Why not {@code OutputArchive.save_to(path)}: on a full disk LibTorch's own file writer fails
 * inside a destructor and aborts the JVM ({@code [enforce fail at inline_container.cc] unexpected
 * pos}). Here LibTorch hands the bytes to a Java callback that writes them through
 * {@link AtomicFiles}; a Java write failure is remembered (LibTorch is told the write succeeded,
 * so it finishes normally), the temporary file is deleted and an {@link IOException} naming the
 * file and the cause is thrown after LibTorch returns.
 */
public final class ArchiveFiles {

    private ArchiveFiles() {
    }

    /** Writes {@code archive} to {@code file} atomically. */
    public static void save(OutputArchive archive, Path file) throws IOException {
        AtomicFiles.write(file, out -> {
            Writer writer = new Writer(out);
            try {
                archive.save_to(writer);
            } finally {
                writer.deallocate();
            }
            if (writer.failure != null) throw writer.failure;
        });
    }

    /**
     * Reads {@code file} into {@code archive}.
     *
     * @throws DamagedFileException naming the file when it is missing, truncated or not an archive
     */
    public static void load(InputArchive archive, Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new DamagedFileException(file, "missing");
        }
        try {
            archive.load_from(file.toString());
        } catch (RuntimeException e) {
            throw new DamagedFileException(file, "not a readable LibTorch archive (truncated or corrupt?): "
                    + firstLine(e.getMessage()), e);
        }
    }

    /** The first line of a (LibTorch, many-line) message. */
    public static String firstLine(String message) {
        if (message == null) return "(no message)";
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    /** Copies each chunk LibTorch produces to a Java stream; remembers the first failure. */
    private static final class Writer extends ArchiveWriter {
        private final OutputStream out;
        private IOException failure;
        private byte[] buffer = new byte[1 << 16];

        Writer(OutputStream out) {
            this.out = out;
        }

        @Override
        public long call(Pointer data, long size) {
            if (failure != null || size == 0) return size;
            try {
                BytePointer bytes = new BytePointer(data).capacity(size);
                for (long done = 0; done < size; ) {
                    int n = (int) Math.min(buffer.length, size - done);
                    bytes.position(done).get(buffer, 0, n);
                    out.write(buffer, 0, n);
                    done += n;
                }
            } catch (IOException e) {
                failure = e;
            }
            return size;
        }
    }
}
