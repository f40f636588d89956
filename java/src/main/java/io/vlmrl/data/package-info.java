/**
 * Problems for training and evaluation.
 *
 * <ul>
 *   <li>{@link io.vlmrl.data.BuiltinTask}: rendered scenes of coloured shapes ({@link io.vlmrl.data.Scene},
 *       {@link io.vlmrl.data.SceneRenderer}) with counting, comparison, spatial and arithmetic questions at
 *       three difficulty levels; reproducible from a seed, with content-disjoint train and held-out
 *       {@link io.vlmrl.data.Split splits}; {@link io.vlmrl.data.BuiltinTask#vocabulary()} lists every word.
 *       Its supervised demonstrations are written by a {@link io.vlmrl.data.Teacher} that may overlook shapes;
 *       answers, rewards and evaluation are always exact.</li>
 *   <li>{@link io.vlmrl.data.JsonlDataset}: user problems from a JSONL file of image paths, questions and answers.</li>
 *   <li>{@link io.vlmrl.data.ResponseFormat}: the response grammar {@code REASONING answer VALUE}, and
 *       {@link io.vlmrl.data.RewardFunction}: accuracy (1) plus a weighted format reward (0.1 by default).</li>
 *   <li>{@link io.vlmrl.data.ImageTensors}: images to the model's [B, 3, H, W] float input in [0, 1].</li>
 * </ul>
 */
package io.vlmrl.data;
