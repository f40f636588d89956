package io.vlmrl.store;

import io.vlmrl.files.AtomicFiles;
import io.vlmrl.files.Manifest;
import io.vlmrl.policy.Policy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A policy saved as a directory that exists only complete and verified: the policy writes into a
 * temporary sibling, a {@link Manifest} of its files is added, and the directory is renamed into
 * place; loading code checks the manifest first ({@link #verify}).
 */
public final class PolicyDirectory {

    private PolicyDirectory() {
    }

    /** Extra files written next to the policy before the manifest (e.g. sft.json). */
    @FunctionalInterface
    public interface Extras {
        void writeInto(Path dir) throws IOException;
    }

    /**
     * Saves {@code policy} to {@code dir}, replacing what is there.
     *
     * @throws IOException naming the file that could not be written; {@code dir} is then unchanged
     */
    public static void save(Policy policy, Path dir, Extras extras) throws IOException {
        Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
        try {
            AtomicFiles.deleteRecursively(tmp);
            policy.save(tmp);
            if (extras != null) extras.writeInto(tmp);
            Manifest.write(tmp);
        } catch (IOException | RuntimeException e) {
            try {
                AtomicFiles.deleteRecursively(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw new IOException("cannot save the policy to " + dir + ": " + e.getMessage(), e);
        }
        AtomicFiles.deleteRecursively(dir);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Saves {@code policy} to {@code dir} with nothing else. */
    public static void save(Policy policy, Path dir) throws IOException {
        save(policy, dir, null);
    }

    /**
     * Checks the files of a directory saved by {@link #save} against its manifest; a directory
     * without a manifest (a model the user brought) is not checked.
     *
     * @throws io.vlmrl.files.DamagedFileException naming the first damaged file
     */
    public static void verify(Path dir) throws IOException {
        if (Manifest.present(dir)) Manifest.verify(dir);
    }
}
