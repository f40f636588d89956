package io.vlmrl.dist;

/**
 * A rank could not join the run: the rendezvous store's address cannot be listened on (a port in
 * use, an address of another machine) or reached, or not every rank joined within
 * {@code dist.rendezvous_timeout_s}. The message names the address and the variables it came
 * from. It is a bad launch setting, so the CLI reports it in one line with exit code 2.
 */
public final class RendezvousException extends IllegalArgumentException {
    RendezvousException(String message, Throwable cause) {
        super(message, cause);
    }
}
