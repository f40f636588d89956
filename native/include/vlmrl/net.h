/*
 * vlmrl native helpers: a listening TCP socket for the data-parallel rendezvous store.
 *
 * LibTorch's TCPStore binds its server to every interface unless it is handed a socket that is
 * already listening (TCPStoreOptions.masterListenFd). This function makes that socket bound to
 * one address, so a single-machine run's store is reachable over loopback only and a
 * multi-machine run's store only on the address given.
 */
#ifndef VLMRL_NET_H
#define VLMRL_NET_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Opens a TCP socket bound to `host` (a numeric address or a name) and `port` and listening with
 * `backlog`. Returns the file descriptor, which the caller owns (TCPStore takes it over and closes
 * it), or -1 with the reason (naming host:port and the system's error) in vlmrl_last_error().
 */
int vlmrl_tcp_listen(const char* host, int port, int backlog);

#ifdef __cplusplus
}
#endif

#endif /* VLMRL_NET_H */
