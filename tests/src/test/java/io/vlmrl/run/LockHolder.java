package io.vlmrl.run;

import io.vlmrl.store.RunLock;

import java.nio.file.Path;

/** A separate process for {@link RunSafetyTest}: takes a run directory's lock, says so, and holds it until killed. */
public final class LockHolder {
    public static void main(String[] args) throws Exception {
        try (RunLock lock = RunLock.acquire(Path.of(args[0]))) {
            System.out.println("locked");
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
