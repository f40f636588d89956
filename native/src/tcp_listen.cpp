// vlmrl_tcp_listen: a listening socket bound to one address (see vlmrl/net.h).
#include "vlmrl/net.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "internal.h"

extern "C" int vlmrl_tcp_listen(const char* host, int port, int backlog) {
    vlmrl_clear_error();
    if (host == nullptr) {
        vlmrl_set_error(VLMRL_ERR_NULL_POINTER, "host is null");
        return -1;
    }
    if (port < 1 || port > 65535) {
        vlmrl_set_error(VLMRL_ERR_BAD_CONFIG, "%s:%d: expected a port in [1, 65535]", host, port);
        return -1;
    }
    char service[16];
    std::snprintf(service, sizeof(service), "%d", port);
    addrinfo hints;
    std::memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    int rc = getaddrinfo(host, service, &hints, &found);
    if (rc != 0) {
        vlmrl_set_error(VLMRL_ERR_BAD_CONFIG, "%s:%d: cannot resolve the address: %s", host, port, gai_strerror(rc));
        return -1;
    }
    int lastErrno = 0;
    int fd = -1;
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            lastErrno = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, backlog) == 0) {
            break;
        }
        lastErrno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(found);
    if (fd < 0) {
        vlmrl_set_error(VLMRL_ERR_BAD_CONFIG, "%s:%d: cannot listen: %s", host, port,
                        lastErrno != 0 ? std::strerror(lastErrno) : "no usable address");
    }
    return fd;
}
