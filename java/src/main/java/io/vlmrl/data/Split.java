package io.vlmrl.data;

/** The two disjoint parts of the built-in task: problems for training and problems for evaluation. */
public enum Split {
    TRAIN,
    HELD_OUT
}
