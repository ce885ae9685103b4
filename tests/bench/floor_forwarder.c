/*
 * floor_forwarder: the machine's floor for UDP DNS forwarding.
 *
 * Usage: floor_forwarder LISTEN_PORT BACKEND_PORT   (both on 127.0.0.1)
 *
 * One thread, no parsing beyond the 2-byte DNS ID, no rules, no health
 * checks: the least work any load balancer must do per query. The benchmark
 * harness (tests/bench/run.py) measures its CPU per query the same way as
 * dnsdist's and dnspc's, so it shows how far a real balancer is from the
 * cost of moving the packets at all.
 *
 * Queries get a fresh 16-bit ID from a counter, so answers from the single
 * backend socket can be matched without a hash table: the ID indexes a
 * 65536-slot array holding the client address and its original ID. A slot is
 * reused after 65536 further queries, far longer than a loopback backend
 * takes to answer; a late answer for a reused slot would go to the wrong
 * client, which a benchmark tolerates and a real balancer would not.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 64   /* packets per recvmmsg/sendmmsg: amortises syscalls */
#define BUFSZ 4096 /* plenty for UDP DNS without large EDNS answers */

struct slot {
    struct sockaddr_in client;
    uint16_t orig_id;
    uint8_t used;
};

static struct slot slots[65536];
static unsigned char bufs[BATCH][BUFSZ];
static struct sockaddr_in addrs[BATCH];
static struct iovec iovs[BATCH];
static struct mmsghdr msgs[BATCH];

static int udp_socket(uint16_t port, int do_bind) {
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int big = 4 << 20; /* bursts from dnsperf must not overflow the queue */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    /* The backend socket is connected: sends need no address, and the kernel
     * drops datagrams from anyone but the backend. */
    if (fd < 0 || (do_bind ? bind(fd, (struct sockaddr *)&sa, sizeof sa)
                           : connect(fd, (struct sockaddr *)&sa, sizeof sa)) < 0) {
        perror("socket");
        exit(1);
    }
    return fd;
}

/* Receive up to BATCH datagrams (with their source address when want_addr). */
static int recv_batch(int fd, int want_addr) {
    for (int i = 0; i < BATCH; i++) {
        iovs[i] = (struct iovec){bufs[i], BUFSZ};
        msgs[i].msg_hdr = (struct msghdr){
            .msg_name = want_addr ? &addrs[i] : NULL,
            .msg_namelen = want_addr ? sizeof addrs[i] : 0,
            .msg_iov = &iovs[i], .msg_iovlen = 1};
    }
    int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    return n < 0 ? 0 : n;
}

/* Send the first n prepared messages; a full socket buffer drops the rest,
 * as UDP may, rather than blocking the loop. */
static void send_batch(int fd, struct mmsghdr *m, int n) {
    while (n > 0) {
        int sent = sendmmsg(fd, m, n, MSG_DONTWAIT);
        if (sent <= 0) return;
        m += sent;
        n -= sent;
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s LISTEN_PORT BACKEND_PORT\n", argv[0]);
        return 2;
    }
    int front = udp_socket((uint16_t)atoi(argv[1]), 1);
    int back = udp_socket((uint16_t)atoi(argv[2]), 0);
    uint16_t next_id = 0;
    struct pollfd pfd[2] = {{.fd = front, .events = POLLIN}, {.fd = back, .events = POLLIN}};

    for (;;) {
        if (poll(pfd, 2, -1) < 0) continue; /* EINTR */
        if (pfd[0].revents & POLLIN) { /* queries: client -> backend */
            int n = recv_batch(front, 1), out = 0;
            for (int i = 0; i < n; i++) {
                if (msgs[i].msg_len < 12) continue; /* shorter than a DNS header */
                uint16_t id = next_id++;
                struct slot *s = &slots[id];
                s->client = addrs[i];
                memcpy(&s->orig_id, bufs[i], 2);
                s->used = 1;
                memcpy(bufs[i], &id, 2); /* host order is fine: it comes back as is */
                iovs[i].iov_len = msgs[i].msg_len;
                msgs[i].msg_hdr.msg_name = NULL; /* connected socket */
                msgs[i].msg_hdr.msg_namelen = 0;
                msgs[out++] = msgs[i];
            }
            send_batch(back, msgs, out);
        }
        if (pfd[1].revents & POLLIN) { /* answers: backend -> client */
            int n = recv_batch(back, 0), out = 0;
            for (int i = 0; i < n; i++) {
                uint16_t id;
                if (msgs[i].msg_len < 12) continue;
                memcpy(&id, bufs[i], 2);
                struct slot *s = &slots[id];
                if (!s->used) continue; /* unsolicited or duplicate answer */
                s->used = 0;
                memcpy(bufs[i], &s->orig_id, 2);
                iovs[i].iov_len = msgs[i].msg_len;
                msgs[i].msg_hdr.msg_name = &s->client;
                msgs[i].msg_hdr.msg_namelen = sizeof s->client;
                msgs[out++] = msgs[i];
            }
            send_batch(front, msgs, out);
        }
    }
}
