/*
 * probe: a static multi-call binary that reports from inside a container (the role
 * of youki's runtimetest). Called as "true" it exits 0; otherwise "probe CMD ARGS".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sched.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int is_pid(const char *s) { if (!*s) return 0; for (; *s; s++) if (*s < '0' || *s > '9') return 0; return 1; }

static void cat(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { printf("%s: %s\n", path, strerror(errno)); return; }
    char buf[4096]; ssize_t n;
    fflush(stdout);
    while ((n = read(fd, buf, sizeof buf)) > 0) if (write(1, buf, (size_t)n) < 0) break;
    close(fd);
}

static int count_state(char want) {
    DIR *d = opendir("/proc"); struct dirent *e; int n = 0;
    if (!d) return -1;
    while ((e = readdir(d))) {
        if (!is_pid(e->d_name)) continue;
        char p[300], buf[512]; snprintf(p, sizeof p, "/proc/%s/stat", e->d_name);
        int fd = open(p, O_RDONLY); if (fd < 0) continue;
        ssize_t k = read(fd, buf, sizeof buf - 1); close(fd);
        if (k <= 0) continue;
        buf[k] = 0;
        char *rp = strrchr(buf, ')');
        if (rp && rp[1] == ' ' && rp[2] == want) n++;
    }
    closedir(d);
    return n;
}

static void ps(void) {
    DIR *d = opendir("/proc"); struct dirent *e;
    while (d && (e = readdir(d))) if (is_pid(e->d_name)) printf("%s\n", e->d_name);
    if (d) closedir(d);
}

static void fds(void) {
    DIR *d = opendir("/proc/self/fd"); struct dirent *e;
    int self = d ? dirfd(d) : -1;
    while (d && (e = readdir(d))) {
        if (!is_pid(e->d_name) || atoi(e->d_name) == self) continue;
        char p[300], t[512]; snprintf(p, sizeof p, "/proc/self/fd/%s", e->d_name);
        ssize_t k = readlink(p, t, sizeof t - 1); t[k > 0 ? k : 0] = 0;
        printf("%s %s\n", e->d_name, t);
    }
    if (d) closedir(d);
}

/* Tries to reach into every process but itself and PID 1 for secs: prints "fd TARGET", "cwd TARGET" and
 * "root TARGET" for what it could read, then "tries N" (how many processes it saw). */
static char *seen[512]; static int nseen;
static void once(const char *kind, const char *what) {  /* prints each line the first time only */
    char line[600]; snprintf(line, sizeof line, "%s %s", kind, what);
    for (int i = 0; i < nseen; i++) if (!strcmp(seen[i], line)) return;
    if (nseen < 512) seen[nseen++] = strdup(line);
    printf("%s\n", line);
}

static void snoop(double secs) {
    struct timespec t0, t; clock_gettime(CLOCK_MONOTONIC, &t0);
    long tries = 0;
    do {
        DIR *d = opendir("/proc"); struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!is_pid(e->d_name) || atoi(e->d_name) == 1 || atoi(e->d_name) == getpid()) continue;
            tries++;
            char p[300], l[600], target[512]; ssize_t k;
            snprintf(p, sizeof p, "/proc/%s/fd", e->d_name);
            DIR *f = opendir(p); struct dirent *fe;
            while (f && (fe = readdir(f))) {
                if (!is_pid(fe->d_name)) continue;
                snprintf(l, sizeof l, "%s/%s", p, fe->d_name);
                if ((k = readlink(l, target, sizeof target - 1)) > 0) { target[k] = 0; once("fd", target); }
            }
            if (f) closedir(f);
            const char *links[] = { "cwd", "root" };
            for (int i = 0; i < 2; i++) {
                snprintf(l, sizeof l, "/proc/%s/%s", e->d_name, links[i]);
                if ((k = readlink(l, target, sizeof target - 1)) > 0) { target[k] = 0; once(links[i], target); }
            }
        }
        if (d) closedir(d);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
    printf("tries %ld\n", tries);
}

static volatile sig_atomic_t got;
static void on_signal(int s) { got = s; }

static volatile sig_atomic_t int_code, int_pid;
static void on_int(int s, siginfo_t *si, void *u) { (void)u; int_code = si->si_code; int_pid = si->si_pid; got = s; }

static void winsize(void) {
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) < 0) printf("winsize: %s\n", strerror(errno));
    else printf("%d %d\n", ws.ws_row, ws.ws_col);   /* as stty size */
}

/* A terminal ioctl on fd 0 (the terminal the container was given), reported as "NAME: ok" or the error. */
static int tty_ioctl(const char *name, unsigned long req, long arg) {
    if (!isatty(0)) { printf("fd 0: not a terminal\n"); return 1; }
    if (ioctl(0, req, arg) < 0) { printf("%s: %s\n", name, strerror(errno)); return 1; }
    printf("%s: ok\n", name);
    return 0;
}

/* A syscall's outcome as "NAME: ok" (or its value) or "NAME: <strerror>": what seccomp made of it. */
static int report(const char *name, long r) {
    if (r < 0) { printf("%s: %s\n", name, strerror(errno)); return 1; }
    printf("%s: ok %ld\n", name, r);
    return 0;
}

#define KEY_SPEC_USER_KEYRING (-4)
#define KEYCTL_SEARCH 10
#define KEYCTL_READ 11
#define KEYCTL_REVOKE 3

/* The syscalls Docker's default profile refuses, called with harmless arguments: the kernel would
 * answer EINVAL, EFAULT, EBADF or EPERM for want of a capability; the filter answers first. */
static int sys_by_name(const char *n) {
    if (!strcmp(n, "keyctl")) return report(n, syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, KEY_SPEC_USER_KEYRING, 0));
    if (!strcmp(n, "add_key")) return report(n, syscall(SYS_add_key, "user", "berth-probe", "x", 1, KEY_SPEC_USER_KEYRING));
    if (!strcmp(n, "request_key")) return report(n, syscall(SYS_request_key, "user", "berth-probe", NULL, 0));
    if (!strcmp(n, "bpf")) return report(n, syscall(SYS_bpf, -1, NULL, 0));
    if (!strcmp(n, "perf_event_open")) return report(n, syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
    if (!strcmp(n, "kexec_load")) return report(n, syscall(SYS_kexec_load, 0, 0, NULL, 0));
    if (!strcmp(n, "open_by_handle_at")) return report(n, syscall(SYS_open_by_handle_at, -1, NULL, 0));
    if (!strcmp(n, "ptrace")) return report(n, syscall(SYS_ptrace, 0x4206 /* PTRACE_SEIZE */, 1, 0, 0));
    if (!strcmp(n, "umount2")) return report(n, syscall(SYS_umount2, "/nonexistent", 0));
    if (!strcmp(n, "getpid")) return report(n, syscall(SYS_getpid));
    /* fd -1: with CAP_SYS_MODULE in the init user namespace EBADF, without it EPERM (checked first); ENOSYS on a
     * kernel without modules */
    if (!strcmp(n, "finit_module")) return report(n, syscall(SYS_finit_module, -1, "", 0));
    /* no time and no zone: a no-op that only checks CAP_SYS_TIME in the init user namespace */
    if (!strcmp(n, "settimeofday")) return report(n, syscall(SYS_settimeofday, NULL, NULL));
    printf("%s: not a probe syscall\n", n);
    return 2;
}

static void msleep(long ms) { struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 }; while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {} }

static int run(int argc, char **argv) {
    const char *cmd = argv[1];
    if (!strcmp(cmd, "hello")) {
        char h[256] = ""; gethostname(h, sizeof h);
        char cwd[512] = ""; if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "?");
        int n = 0; DIR *d = opendir("/proc"); struct dirent *e;
        while (d && (e = readdir(d))) if (is_pid(e->d_name)) n++;
        if (d) closedir(d);
        printf("hello from a berth container\n  hostname: %s\n  pid: %d (processes visible: %d)\n  uid/gid: %d/%d\n  cwd: %s\n",
               h, getpid(), n, getuid(), getgid(), cwd);
        return 0;
    }
    if (!strcmp(cmd, "pid")) { printf("%d %d\n", getpid(), getppid()); return 0; }
    if (!strcmp(cmd, "snoop") && argc > 2) {     /* snoop SECS: a hostile neighbour: the fds, cwd and root of */
        snoop(atof(argv[2]));                    /* every other process of the container it can reach */
        return 0;
    }
    if (!strcmp(cmd, "hostname")) { char h[256] = ""; gethostname(h, sizeof h); printf("%s\n", h); return 0; }
    if (!strcmp(cmd, "ps")) { ps(); return 0; }
    if (!strcmp(cmd, "status")) { cat("/proc/self/status"); return 0; }
    if (!strcmp(cmd, "cat") && argc > 2) { cat(argv[2]); return 0; }
    if (!strcmp(cmd, "fds")) { fds(); return 0; }
    if (!strcmp(cmd, "envsize")) {               /* how many variables, and their bytes with NULs */
        long n = 0, bytes = 0;
        for (char **e = environ; *e; e++) { n++; bytes += (long)strlen(*e) + 1; }
        printf("vars=%ld bytes=%ld\n", n, bytes);
        return 0;
    }
    if (!strcmp(cmd, "env")) { for (char **e = environ; *e; e++) printf("%s\n", *e); return 0; }
    if (!strcmp(cmd, "pwd")) { char c[512]; printf("%s\n", getcwd(c, sizeof c) ? c : strerror(errno)); return 0; }
    if (!strcmp(cmd, "id")) { printf("uid=%d gid=%d euid=%d egid=%d\n", getuid(), getgid(), geteuid(), getegid()); return 0; }
    if (!strcmp(cmd, "exit") && argc > 2) return atoi(argv[2]);
    if (!strcmp(cmd, "kill-self") && argc > 2) { kill(getpid(), atoi(argv[2])); msleep(5000); return 99; }
    if (!strcmp(cmd, "sleep") && argc > 2) { msleep((long)(atof(argv[2]) * 1000)); return 0; }
    if (!strcmp(cmd, "echo")) { for (int i = 2; i < argc; i++) printf("%s%s", argv[i], i + 1 < argc ? " " : "\n"); return 0; }
    if (!strcmp(cmd, "stdin")) {                 /* copies stdin to stdout */
        char b[4096]; ssize_t n;
        while ((n = read(0, b, sizeof b)) > 0) if (write(1, b, (size_t)n) < 0) return 1;
        return 0;
    }
    if (!strcmp(cmd, "write") && argc > 3) {
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) { printf("%s: %s\n", argv[2], strerror(errno)); return 1; }
        if (write(fd, argv[3], strlen(argv[3])) < 0) return 1;
        close(fd); return 0;
    }
    if (!strcmp(cmd, "stat") && argc > 2) {
        struct stat st;
        if (lstat(argv[2], &st) < 0) { printf("%s: %s\n", argv[2], strerror(errno)); return 1; }
        const char *t = S_ISCHR(st.st_mode) ? "char" : S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "link"
                      : S_ISREG(st.st_mode) ? "file" : "other";
        printf("%s %o %u:%u\n", t, st.st_mode & 07777, major(st.st_rdev), minor(st.st_rdev));
        return 0;
    }
    if (!strcmp(cmd, "lo")) {                    /* is the loopback interface up? */
        int s = socket(AF_INET, SOCK_DGRAM, 0); struct ifreq ifr; memset(&ifr, 0, sizeof ifr);
        strcpy(ifr.ifr_name, "lo");
        if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) { printf("lo: %s\n", strerror(errno)); return 1; }
        printf("lo %s\n", (ifr.ifr_flags & IFF_UP) ? "up" : "down");
        return 0;
    }
    if (!strcmp(cmd, "orphans") && argc > 2) {   /* leaves N orphaned grandchildren for PID 1 to reap */
        int n = atoi(argv[2]);
        for (int i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0) { if (fork() == 0) { msleep(50); _exit(0); } _exit(0); }
            if (p > 0) waitpid(p, NULL, 0);
        }
        int z = 0;
        for (int i = 0; i < 100; i++) {          /* wait until they ended and were reaped */
            msleep(50);
            z = count_state('Z');
            int live = 0; DIR *d = opendir("/proc"); struct dirent *e;
            while (d && (e = readdir(d))) if (is_pid(e->d_name)) live++;
            if (d) closedir(d);
            if (z == 0 && live <= 2) break;
        }
        printf("zombies=%d\n", z);
        return 0;
    }
    if (!strcmp(cmd, "wait-signal")) {           /* prints the first signal it gets, exits 100+sig */
        struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = on_signal;
        for (int s = 1; s < 32; s++) if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD) sigaction(s, &sa, NULL);
        printf("ready\n");
        while (!got) pause();
        printf("got %d\n", (int)got);
        return 100 + got;
    }
    if (!strcmp(cmd, "mknod") && argc > 5) {    /* mknod PATH b|c MAJOR MINOR */
        mode_t kind = argv[3][0] == 'b' ? S_IFBLK : S_IFCHR;
        if (mknod(argv[2], kind | 0666, makedev(atoi(argv[4]), atoi(argv[5]))) < 0) {
            printf("mknod %s: %s\n", argv[2], strerror(errno)); return 1;
        }
        printf("mknod %s: ok\n", argv[2]);
        return 0;
    }
    if (!strcmp(cmd, "symlink") && argc > 3) {   /* symlink TARGET LINK */
        if (symlink(argv[2], argv[3]) < 0) { printf("symlink %s: %s\n", argv[3], strerror(errno)); return 1; }
        return 0;
    }
    if (!strcmp(cmd, "mkdir") && argc > 2) {
        if (mkdir(argv[2], 0755) < 0) { printf("mkdir %s: %s\n", argv[2], strerror(errno)); return 1; }
        return 0;
    }
    if (!strcmp(cmd, "read") && argc > 3) {      /* read PATH N: the first N bytes, as text */
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0) { printf("open %s: %s\n", argv[2], strerror(errno)); return 1; }
        char b[4096]; size_t want = (size_t)atoi(argv[3]); if (want > sizeof b - 1) want = sizeof b - 1;
        ssize_t n = read(fd, b, want);
        if (n < 0) { printf("read %s: %s\n", argv[2], strerror(errno)); return 1; }
        b[n] = 0;
        printf("read %s: %s\n", argv[2], b);
        return 0;
    }
    if (!strcmp(cmd, "overwrite") && argc > 3) { /* overwrite PATH TEXT: at offset 0, no create, no truncate */
        int fd = open(argv[2], O_WRONLY);
        if (fd < 0) { printf("open %s: %s\n", argv[2], strerror(errno)); return 1; }
        ssize_t n = write(fd, argv[3], strlen(argv[3]));
        if (n < 0) { printf("write %s: %s\n", argv[2], strerror(errno)); return 1; }
        fsync(fd);
        printf("wrote %s: %zd\n", argv[2], n);
        return 0;
    }
    if (!strcmp(cmd, "family") && argc > 2) {    /* family N: N children that sleep, pids printed, then sleeps */
        int n = atoi(argv[2]);
        for (int i = 0; i < n; i++) { pid_t p = fork(); if (p == 0) { setsid(); for (;;) pause(); } if (p > 0) printf("child %d\n", p); }
        printf("ready\n");
        for (;;) pause();
    }
    if (!strcmp(cmd, "spin")) { for (;;) {} }
    if (!strcmp(cmd, "tty")) {                   /* as tty(1): the name of the terminal on stdin */
        char *n = isatty(0) ? ttyname(0) : NULL;
        printf("%s\n", !isatty(0) ? "not a tty" : n ? n : strerror(errno));
        return isatty(0) ? 0 : 1;
    }
    if (!strcmp(cmd, "winsize")) { winsize(); return 0; }
    if (!strcmp(cmd, "wait-winch")) {            /* prints the terminal's size after the next SIGWINCH */
        struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = on_signal;
        sigaction(SIGWINCH, &sa, NULL);
        printf("ready\n");
        while (!got) pause();
        winsize();
        return 0;
    }
    if (!strcmp(cmd, "ctty")) {                  /* is stdin this session's controlling terminal, in the foreground? */
        pid_t sid = getsid(0), tsid = tcgetsid(0), fg = tcgetpgrp(0);
        printf("ctty: %s, %s\n", tsid == sid ? "this session's" : "not this session's",
               fg == getpgrp() ? "foreground" : "not foreground");
        return 0;
    }
    if (!strcmp(cmd, "sctty")) return tty_ioctl("TIOCSCTTY", TIOCSCTTY, argc > 2 ? atol(argv[2]) : 0);
    if (!strcmp(cmd, "sti")) { static char c = '#'; return tty_ioctl("TIOCSTI", TIOCSTI, (long)&c); }
    if (!strcmp(cmd, "wait-int")) {              /* SIGINT to its process group: this process and a child */
        struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = on_int; sa.sa_flags = SA_SIGINFO;
        sigaction(SIGINT, &sa, NULL);
        pid_t child = fork();
        if (child == 0) { while (!got) pause(); _exit(int_code == SI_KERNEL ? 10 : 11); }
        printf("ready\n");
        while (!got) pause();
        int st = 0;                              /* a signal for this process alone leaves the child waiting */
        for (int i = 0; i < 40 && waitpid(child, &st, WNOHANG) == 0; i++) msleep(50);
        if (kill(child, SIGKILL) == 0) waitpid(child, &st, 0);
        if (int_code == SI_KERNEL) printf("SIGINT from the terminal\n"); else printf("SIGINT from pid %d\n", (int)int_pid);
        printf("child: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 10 ? "SIGINT from the terminal"
               : WIFEXITED(st) && WEXITSTATUS(st) == 11 ? "SIGINT from a process" : "no SIGINT");
        return 100 + SIGINT;
    }
    if (!strcmp(cmd, "owner") && argc > 2) {
        struct stat st;
        if (stat(argv[2], &st) < 0) { printf("%s: %s\n", argv[2], strerror(errno)); return 1; }
        printf("%u:%u\n", st.st_uid, st.st_gid);
        return 0;
    }
    if (!strcmp(cmd, "ignore") && argc > 2) {    /* ignores a signal, says so, then sleeps */
        signal(atoi(argv[2]), SIG_IGN);
        printf("ignoring %d\n", atoi(argv[2]));
        for (;;) pause();
    }
    if (!strcmp(cmd, "hog") && argc > 2) {       /* touches N MiB, one page at a time */
        long mb = atol(argv[2]);
        for (long i = 0; i < mb; i++) { char *p = malloc(1 << 20); if (!p) return 3; memset(p, 1, 1 << 20); }
        printf("allocated %ld MiB\n", mb);
        return 0;
    }
    if (!strcmp(cmd, "fork") && argc > 2) {      /* starts N sleeping children, prints how many started */
        int n = atoi(argv[2]), ok = 0;
        for (int i = 0; i < n; i++) { pid_t p = fork(); if (p == 0) { msleep(3000); _exit(0); } if (p > 0) ok++; }
        printf("started=%d\n", ok);
        while (wait(NULL) > 0) {}
        return 0;
    }
    if (!strcmp(cmd, "install") && argc > 4) {   /* install SRC DST MODE: a copy with octal MODE (setuid too) */
        int in = open(argv[2], O_RDONLY), out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0) { printf("install %s %s: %s\n", argv[2], argv[3], strerror(errno)); return 1; }
        char b[65536]; ssize_t n;
        while ((n = read(in, b, sizeof b)) > 0) if (write(out, b, (size_t)n) != n) return 1;
        close(in); close(out);
        if (chmod(argv[3], (mode_t)strtol(argv[4], NULL, 8)) < 0) { printf("chmod %s: %s\n", argv[3], strerror(errno)); return 1; }
        printf("installed %s\n", argv[3]);
        return 0;
    }
    if (!strcmp(cmd, "statvfs") && argc > 2) {  /* statvfs PATH: a mount's flags and size */
        struct statvfs sv;
        if (statvfs(argv[2], &sv) < 0) { printf("%s: %s\n", argv[2], strerror(errno)); return 1; }
        printf("%s%s%s%s size=%llu\n", (sv.f_flag & ST_RDONLY) ? "ro" : "rw", (sv.f_flag & ST_NOSUID) ? " nosuid" : "",
               (sv.f_flag & ST_NODEV) ? " nodev" : "", (sv.f_flag & ST_NOEXEC) ? " noexec" : "",
               (unsigned long long)sv.f_blocks * sv.f_frsize);
        return 0;
    }
    if (!strcmp(cmd, "exec") && argc > 2) {     /* exec PATH [ARGS]: replaces the probe, or says why not */
        execv(argv[2], argv + 2);
        printf("exec %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    if (!strcmp(cmd, "ls") && argc > 2) {         /* ls DIR: its entries, sorted, one a line */
        struct dirent **e; int n = scandir(argv[2], &e, NULL, alphasort);
        if (n < 0) { printf("%s: %s\n", argv[2], strerror(errno)); return 1; }
        for (int i = 0; i < n; i++) { if (strcmp(e[i]->d_name, ".") && strcmp(e[i]->d_name, "..")) printf("%s\n", e[i]->d_name); free(e[i]); }
        free(e);
        return 0;
    }
    if (!strcmp(cmd, "hosts") && argc > 2) {     /* hosts NAME: its addresses in /etc/hosts, in order, as NSS "files" reads it */
        FILE *f = fopen("/etc/hosts", "re");
        if (!f) { printf("/etc/hosts: %s\n", strerror(errno)); return 1; }
        char line[4096]; int found = 0;
        while (fgets(line, sizeof line, f)) {
            char *hash = strchr(line, '#'); if (hash) *hash = 0;
            char *save, *addr = strtok_r(line, " \t\r\n", &save), *name;
            while (addr && (name = strtok_r(NULL, " \t\r\n", &save)))
                if (!strcasecmp(name, argv[2])) { printf("%s%s", found++ ? " " : "", addr); break; }
        }
        fclose(f);
        if (!found) { printf("%s: not in /etc/hosts\n", argv[2]); return 1; }
        printf("\n");
        return 0;
    }
    if (!strcmp(cmd, "syscall") && argc > 2) return sys_by_name(argv[2]);
    if (!strcmp(cmd, "add-key") && argc > 3)     /* add-key DESC DATA: to this uid's user keyring */
        return report("add_key", syscall(SYS_add_key, "user", argv[2], argv[3], strlen(argv[3]), KEY_SPEC_USER_KEYRING));
    if (!strcmp(cmd, "read-key") && argc > 2) {  /* read-key DESC: from this uid's user keyring */
        long id = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", argv[2], 0);
        if (id < 0) return report("keyctl", id);
        char buf[256]; long n = syscall(SYS_keyctl, KEYCTL_READ, id, buf, sizeof buf - 1);
        if (n < 0) return report("keyctl", n);
        buf[n < (long)sizeof buf - 1 ? n : (long)sizeof buf - 1] = 0;
        printf("key: %s\n", buf);
        return 0;
    }
    if (!strcmp(cmd, "revoke-key") && argc > 2) {
        long id = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", argv[2], 0);
        return report("keyctl", id < 0 ? id : syscall(SYS_keyctl, KEYCTL_REVOKE, id));
    }
    if (!strcmp(cmd, "unshare") && argc > 2) {   /* unshare user|mount|net */
        int f = !strcmp(argv[2], "user") ? CLONE_NEWUSER : !strcmp(argv[2], "mount") ? CLONE_NEWNS : CLONE_NEWNET;
        return report("unshare", unshare(f));
    }
    if (!strcmp(cmd, "clone3")) {                /* a raw clone3, as a new libc would try first */
        uint64_t args[11] = { 0 }; args[4] = SIGCHLD; /* exit_signal */
        long pid = syscall(SYS_clone3, args, sizeof args);
        if (pid == 0) _exit(0);
        if (pid > 0) waitpid((pid_t)pid, NULL, 0);
        return report("clone3", pid < 0 ? -1 : 0);
    }
    if (!strcmp(cmd, "libc-fork")) {             /* libc's fork: clone3 or clone, whichever works */
        pid_t pid = fork();
        if (pid == 0) _exit(7);
        int st = 0; if (pid > 0) waitpid(pid, &st, 0);
        return report("fork", pid < 0 ? -1 : WEXITSTATUS(st));
    }
    if (!strcmp(cmd, "personality") && argc > 2) return report("personality", personality(strtoul(argv[2], NULL, 0)));
    if (!strcmp(cmd, "socket") && argc > 2)      /* socket FAMILY-NUMBER: a datagram socket of that family */
        return report("socket", socket(atoi(argv[2]), SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!strcmp(cmd, "mount-tmpfs") && argc > 2) return report("mount", mount("tmpfs", argv[2], "tmpfs", 0, NULL));
    if (!strcmp(cmd, "chmod") && argc > 3) {     /* chmod PATH MODE (octal) */
        if (chmod(argv[2], (mode_t)strtol(argv[3], NULL, 8)) < 0) { printf("chmod %s: %s\n", argv[2], strerror(errno)); return 1; }
        return 0;
    }
    /* a bind mount made writable again from inside (MS_REMOUNT|MS_BIND without MS_RDONLY) */
    if (!strcmp(cmd, "remount-rw") && argc > 2) return report("remount", mount(NULL, argv[2], NULL, MS_REMOUNT | MS_BIND, NULL));
    if (!strcmp(cmd, "x32")) return report("x32 getpid", syscall(0x40000000 | SYS_getpid));
    fprintf(stderr, "probe: unknown command %s\n", cmd);
    return 2;
}

/* "probe CMD ARGS [-- CMD ARGS]...": runs each command in turn; the status is the last one's. */
int main(int argc, char **argv) {
    const char *self = strrchr(argv[0], '/'); self = self ? self + 1 : argv[0];
    if (!strcmp(self, "true")) return 0;
    if (!strcmp(self, "false")) return 1;
    if (argc < 2) { fprintf(stderr, "usage: probe CMD [ARGS] [-- CMD [ARGS]]...\n"); return 2; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int status = 0, start = 1;
    for (int i = 1; i <= argc; i++) {
        if (i < argc && strcmp(argv[i], "--")) continue;
        char *sub[256]; int n = 0;
        sub[n++] = argv[0];
        for (int k = start; k < i && n < 255; k++) sub[n++] = argv[k];
        sub[n] = NULL;
        if (n > 1) status = run(n, sub);
        start = i + 1;
    }
    return status;
}
