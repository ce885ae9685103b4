/*
 * flood_sender: UDP DNS queries as fast as one thread can send them (or at a
 * set rate), answers ignored. The XDP benchmark's flood generator
 * (tests/bench/xdp_bench.py).
 *
 * Usage: flood_sender ADDRESS PORT SECONDS RATE NAME...
 *   RATE 0: no pacing (the highest rate this thread reaches).
 *
 * dnsperf cannot flood a server that drops: every query it sends holds one
 * of its -q slots until its timeout, so against a silent server it sends
 * -q queries per -t seconds. This sender keeps nothing in flight: it cycles
 * through prebuilt A queries for the NAMEs (IDs counting up), BATCH to a
 * sendmmsg on a connected socket, and at the end prints one line:
 *   sent N seconds S errors E
 * where N counts the datagrams the kernel accepted (sendmmsg's return) and
 * E the failed calls (ENOBUFS and the like; the datagrams are not counted).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64    /* datagrams per sendmmsg: amortises the syscall */
#define MAXNAMES 64 /* distinct query names cycled through */
#define QSIZE 300   /* a query: header, a name of up to 255 bytes, type, class */

static unsigned char queries[BATCH][QSIZE];
static struct iovec iovs[BATCH];
static struct mmsghdr msgs[BATCH];

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* An A query for `name` (dotted, with or without the final dot) into out;
 * its length, or 0 when the name does not fit. */
static size_t build_query(unsigned char *out, const char *name) {
    static const unsigned char header[12] = {0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}; /* RD, 1 question */
    memcpy(out, header, sizeof header);
    size_t off = sizeof header;
    const char *p = name;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || len > 63 || off + 1 + len + 5 > QSIZE) return 0;
        out[off++] = (unsigned char)len;
        memcpy(out + off, p, len);
        off += len;
        p += len + (dot ? 1 : 0);
    }
    out[off++] = 0;
    const unsigned char tail[4] = {0, 1, 0, 1}; /* type A, class IN */
    memcpy(out + off, tail, sizeof tail);
    return off + sizeof tail;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: flood_sender ADDRESS PORT SECONDS RATE NAME...\n");
        return 2;
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
        fprintf(stderr, "flood_sender: %s is not an IPv4 address\n", argv[1]);
        return 2;
    }
    double seconds = atof(argv[3]), rate = atof(argv[4]);
    int names = argc - 5 < MAXNAMES ? argc - 5 : MAXNAMES;

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("flood_sender: socket");
        return 1;
    }
    /* Slot i of a batch always carries name i % names; IDs change per send. */
    for (int i = 0; i < BATCH; i++) {
        size_t len = build_query(queries[i], argv[5 + i % names]);
        if (len == 0) {
            fprintf(stderr, "flood_sender: bad name %s\n", argv[5 + i % names]);
            return 2;
        }
        iovs[i].iov_base = queries[i];
        iovs[i].iov_len = len;
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    uint64_t sent = 0, errors = 0;
    uint16_t id = 0;
    double start = now(), end = start + seconds, t = start;
    while (t < end) {
        for (int i = 0; i < BATCH; i++) {
            queries[i][0] = (unsigned char)(id >> 8);
            queries[i][1] = (unsigned char)id;
            id++;
        }
        int n = sendmmsg(fd, msgs, BATCH, 0);
        if (n > 0)
            sent += (uint64_t)n;
        else if (errno != EINTR)
            errors++;
        t = now();
        if (rate > 0) {
            /* Ahead of schedule: sleep until the batch is due. */
            double due = start + sent / rate;
            if (due > t) {
                double wait = due - t;
                struct timespec ts = {(time_t)wait, (long)((wait - (time_t)wait) * 1e9)};
                nanosleep(&ts, NULL);
                t = now();
            }
        }
    }
    printf("sent %llu seconds %.3f errors %llu\n", (unsigned long long)sent, now() - start,
           (unsigned long long)errors);
    return 0;
}
