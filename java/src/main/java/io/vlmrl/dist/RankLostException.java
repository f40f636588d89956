package io.vlmrl.dist;

/**
 * A collective failed because another rank stopped (killed, crashed, failed with an error of its
 * own, or stuck past {@code dist.timeout_s}). The message names the rank and what this rank was
 * doing; the run stops on every rank and continues from its last checkpoint with
 * {@code --resume}.
 */
public final class RankLostException extends RuntimeException {
    private final int lostRank;

    RankLostException(int lostRank, String message, Throwable cause) {
        super(message, cause);
        this.lostRank = lostRank;
    }

    /** The rank that stopped, or -1 when no rank could be named (every heartbeat was alive). */
    public int lostRank() {
        return lostRank;
    }
}
