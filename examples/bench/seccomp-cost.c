/* The kernel's side of a seccomp filter, timed where it is incurred (driven by SeccompCostBenchmark,
 * which compiles the programs and does the statistics; this prints raw nanoseconds, one pair a line):
 *
 *   seccomp-cost load A.bin B.bin N   seccomp(SET_MODE_FILTER) of program A and of program B, each in a
 *                                     fresh forked child (a filter is per process), pairs alternating order
 *   seccomp-cost exec P.bin TRUE N    fork, no_new_privs, [load P,] execve(TRUE), wait: with and without
 *                                     the filter, pairs alternating order (the load plus the exec and exit
 *                                     under the filter)
 *   seccomp-cost syscall P.bin N      ns per getppid (answered by the kernel's action cache) and per
 *                                     personality(0xffffffff) (an argument test: the program runs), with
 *                                     the filter and without, N calls each
 *
 * A .bin file is the program as the plan carries it: 8-byte struct sock_filter entries, host order. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct sock_fprog read_program(const char *path) {
    static char buf[8 * BPF_MAXINSNS + 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { perror(path); exit(2); }
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n <= 0 || n % 8 != 0 || n > 8 * BPF_MAXINSNS) { fprintf(stderr, "%s: not a BPF program\n", path); exit(2); }
    struct sock_filter *f = malloc((size_t)n);
    if (!f) exit(2);
    memcpy(f, buf, (size_t)n);
    return (struct sock_fprog){ .len = (unsigned short)(n / 8), .filter = f };
}

static long long now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long load(struct sock_fprog *p) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return p ? syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, p) : 0;
}

/* The load of p alone, timed inside a fresh child. */
static long long time_load(struct sock_fprog *p) {
    int fds[2];
    if (pipe(fds) != 0) exit(2);
    pid_t pid = fork();
    if (pid < 0) exit(2);
    if (pid == 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(3);
        long long t0 = now();
        long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, p);
        long long d = now() - t0;
        if (r != 0 || write(fds[1], &d, sizeof d) != sizeof d) _exit(3);
        _exit(0);
    }
    long long d = -1;
    int st;
    if (read(fds[0], &d, sizeof d) != sizeof d) d = -1;
    close(fds[0]);
    close(fds[1]);
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) { fprintf(stderr, "load failed\n"); exit(1); }
    return d;
}

/* fork to exit of TRUE, with p loaded before the exec (or none). */
static long long time_exec(struct sock_fprog *p, const char *prog) {
    long long t0 = now();
    pid_t pid = fork();
    if (pid < 0) exit(2);
    if (pid == 0) {
        if (load(p) != 0) _exit(3);
        execl(prog, prog, (char *)NULL);
        _exit(4);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) { fprintf(stderr, "exec failed\n"); exit(1); }
    return now() - t0;
}

/* ns per call of getppid and of personality(0xffffffff), in a child with p loaded (or none). */
static void time_calls(struct sock_fprog *p, long n, double out[2]) {
    int fds[2];
    if (pipe(fds) != 0) exit(2);
    pid_t pid = fork();
    if (pid < 0) exit(2);
    if (pid == 0) {
        if (load(p) != 0) _exit(3);
        double r[2];
        long long t0 = now();
        for (long i = 0; i < n; i++) syscall(SYS_getppid);
        r[0] = (double)(now() - t0) / (double)n;
        t0 = now();
        for (long i = 0; i < n; i++) syscall(SYS_personality, 0xffffffffUL);
        r[1] = (double)(now() - t0) / (double)n;
        if (write(fds[1], r, sizeof r) != sizeof r) _exit(3);
        _exit(0);
    }
    int st;
    if (read(fds[0], out, 2 * sizeof(double)) != 2 * sizeof(double)) exit(1);
    close(fds[0]);
    close(fds[1]);
    waitpid(pid, &st, 0);
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "load") == 0) {
        struct sock_fprog a = read_program(argv[2]), b = read_program(argv[3]);
        long n = atol(argv[4]);
        for (long i = 0; i < n; i++) {
            long long x, y;
            if (i & 1) { y = time_load(&b); x = time_load(&a); } else { x = time_load(&a); y = time_load(&b); }
            printf("%lld %lld\n", x, y);
        }
    } else if (argc == 5 && strcmp(argv[1], "exec") == 0) {
        struct sock_fprog p = read_program(argv[2]);
        long n = atol(argv[4]);
        for (long i = 0; i < n; i++) {
            long long x, y;
            if (i & 1) { y = time_exec(NULL, argv[3]); x = time_exec(&p, argv[3]); }
            else { x = time_exec(&p, argv[3]); y = time_exec(NULL, argv[3]); }
            printf("%lld %lld\n", x, y);
        }
    } else if (argc == 4 && strcmp(argv[1], "syscall") == 0) {
        struct sock_fprog p = read_program(argv[2]);
        double with[2], without[2];
        time_calls(&p, atol(argv[3]), with);
        time_calls(NULL, atol(argv[3]), without);
        printf("%.1f %.1f %.1f %.1f\n", with[0], without[0], with[1], without[1]);
    } else {
        fprintf(stderr, "usage: %s load A.bin B.bin N | exec P.bin TRUE N | syscall P.bin N\n", argv[0]);
        return 2;
    }
    return 0;
}
