package io.vlmrl.data;

import java.awt.Color;

/**
 * The palette of the built-in task. The colours are far apart in RGB so that each one is
 * recognisable from a single pixel, and the renderer draws them without antialiasing, so every
 * shape pixel has exactly one of these values.
 */
public enum ShapeColor {
    RED("red", new Color(230, 40, 40)),
    GREEN("green", new Color(40, 200, 60)),
    BLUE("blue", new Color(50, 90, 240)),
    YELLOW("yellow", new Color(240, 220, 40));

    private final String word;
    private final Color rgb;

    ShapeColor(String word, Color rgb) {
        this.word = word;
        this.rgb = rgb;
    }

    /** The word used for this colour in questions and answers. */
    public String word() {
        return word;
    }

    /** The exact pixel colour the renderer uses. */
    public Color rgb() {
        return rgb;
    }
}
