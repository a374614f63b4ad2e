#ifndef CEPOLL_H
#define CEPOLL_H

// Linux epoll and eventfd for Swift. Glibc's Swift module does not export these headers,
// and some of their constants are macros Swift cannot import; small wrappers fix both.

#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

static const uint32_t CEPOLL_IN = EPOLLIN;
static const uint32_t CEPOLL_OUT = EPOLLOUT;
static const uint32_t CEPOLL_ERR = EPOLLERR;
static const uint32_t CEPOLL_HUP = EPOLLHUP;
static const uint32_t CEPOLL_RDHUP = EPOLLRDHUP;
static const uint32_t CEPOLL_ET = EPOLLET;

static const int CEPOLL_CTL_ADD = EPOLL_CTL_ADD;
static const int CEPOLL_CTL_MOD = EPOLL_CTL_MOD;
static const int CEPOLL_CTL_DEL = EPOLL_CTL_DEL;

/// One readiness event: the registered 64-bit token and the event bits.
typedef struct {
    uint64_t token;
    uint32_t events;
} cepoll_event;

int cepoll_create(void);
int cepoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t token);
/// Waits up to timeout_ms (-1: forever); fills at most max events. Returns the count or -1 (errno).
int cepoll_wait(int epfd, cepoll_event *events, int max, int timeout_ms);

int cepoll_eventfd(void);
int cepoll_eventfd_signal(int fd);
int cepoll_eventfd_drain(int fd);


// accept4 is a GNU extension the Glibc module does not expose either.
#include <sys/socket.h>
/// Accepts a connection as non-blocking and close-on-exec. Returns the fd or -1 (errno).
int cepoll_accept(int fd, struct sockaddr *addr, socklen_t *len);

// memmem is a GNU extension too.
#include <stddef.h>
/// The first occurrence of needle in haystack, or NULL.
const void *cepoll_memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

#endif
