package io.vlmrl.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

/**
 * Modules built from Java are called back from C++ (e.g. {@code Module.train} walks every child):
 * each one, containers included, must stay reachable from the model, or a garbage collection
 * between two mode switches frees its Java side and the next call fails.
 */
class ModuleLifetimeTest {
    @Test
    void modeSwitchesSurviveGarbageCollection() throws InterruptedException {
        VisionLanguageModel model = new VisionLanguageModel(ModelFixtures.tinyConfig());
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(50);
            boolean training = i % 2 == 0;
            assertDoesNotThrow(() -> model.train(training), "train(" + training + ") after a GC");
            assertDoesNotThrow(() -> model.eval(), "eval() after a GC");
        }
    }
}
