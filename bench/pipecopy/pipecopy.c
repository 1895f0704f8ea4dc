/* bench/pipecopy: what one copy stage between two pipes costs, three ways (issue 12's
 * "does splice/tee help"). stdin and stdout must be pipes: cat FILE | pipecopy MODE | cat >/dev/null
 *
 *   rw      read(stdin, buf) + write(stdout, buf): what dbstash's copy loop does (its hashing
 *           aside: the bytes pass through user space once)
 *   tee     tee(stdin -> stdout) then read(stdin, buf): the bytes reach the next pipe without a
 *           copy (page references), and user space still sees every byte (to hash it)
 *   splice  splice(stdin -> stdout): no copy at all and no look at the bytes (the lower bound;
 *           no hash possible)
 *
 * Prints "<mode> <bytes> <user s> <sys s>" of this process to stderr. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define PIPE (1 << 20)
#define BUF (128 << 10)

static void full_write(const char *p, ssize_t n) {
    while (n > 0) {
        ssize_t w = write(1, p, n);
        if (w < 0) { perror("write"); exit(1); }
        p += w; n -= w;
    }
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "rw";
    fcntl(0, F_SETPIPE_SZ, PIPE);
    fcntl(1, F_SETPIPE_SZ, PIPE);
    static char buf[BUF];
    unsigned long long total = 0, sum = 0;
    if (!strcmp(mode, "rw")) {
        ssize_t n;
        while ((n = read(0, buf, BUF)) > 0) { total += n; sum += (unsigned char)buf[n - 1]; full_write(buf, n); }
    } else if (!strcmp(mode, "tee")) {
        for (;;) {
            ssize_t t = tee(0, 1, BUF, 0); /* duplicate into stdout's pipe, no copy */
            if (t < 0) { perror("tee"); return 1; }
            if (t == 0) break;
            ssize_t left = t; /* then consume exactly those bytes for the hash */
            while (left > 0) {
                ssize_t n = read(0, buf, left < BUF ? left : BUF);
                if (n <= 0) { perror("read"); return 1; }
                sum += (unsigned char)buf[n - 1]; left -= n; total += n;
            }
        }
    } else if (!strcmp(mode, "splice")) {
        ssize_t n;
        while ((n = splice(0, NULL, 1, NULL, PIPE, SPLICE_F_MOVE)) > 0) total += n;
        if (n < 0) { perror("splice"); return 1; }
    } else { fprintf(stderr, "mode: rw | tee | splice\n"); return 2; }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "%s %llu %.3f %.3f %llu\n", mode, total, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
            ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, sum % 7);
    return 0;
}
