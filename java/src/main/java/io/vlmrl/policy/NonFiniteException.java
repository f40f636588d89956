package io.vlmrl.policy;

/**
 * A quantity of training (logits, a loss, a gradient norm, weights) became NaN or infinite: the
 * training diverged. Thrown where the value first appears, naming it; the RL trainer adds the step.
 */
public class NonFiniteException extends IllegalStateException {
    private final String quantity;

    /**
     * @param quantity what is not finite, e.g. "the policy's logits while sampling"
     */
    public NonFiniteException(String quantity) {
        super(quantity + " became NaN or infinite");
        this.quantity = quantity;
    }

    /** What is not finite. */
    public String quantity() {
        return quantity;
    }
}
