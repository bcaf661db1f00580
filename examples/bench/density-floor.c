/* The floor under Berth's stop-all (driven by DensityBenchmark, which runs it beside Berth): N idle
 * "containers" of the same process tree, namespaces, mounts, cgroups and files a Berth container has
 * (copied from a running one's /proc/PID/mountinfo, /proc/PID/cgroup and its state and container
 * directories), then SIGKILL of every init at once, timed until every process is reaped, every
 * cgroup directory removed and every file and directory gone. No Java, no protocol, no state
 * writes: what is left is the kernel's work and the removals themselves.
 *
 *   density-floor ROOTFS WORK N PROCS CGPARENT...
 *
 *   ROOTFS    the root (bind-mounted, as Berth mounts a spec's rootfs): /bin/busybox, /etc/hosts,
 *             /etc/hostname, /etc/resolv.conf, /proc, /sys, /dev must exist in it
 *   WORK      an empty directory: state/<id>/ (hosts, hostname, resolv.conf, state.json, exec.json),
 *             state/.<id>.lock, containers/<id>/container.log, as Berth's state and storage roots hold
 *   PROCS     3: a monitor (a fork of this static program) whose child, the init, is PID 1 in new
 *             mount, PID, IPC, UTS, network and cgroup namespaces, reaps, and forks the workload
 *             (Berth's shape); 2: the init execs the workload itself (runc's container under conmon)
 *   CGPARENT  NAME=PATH: a cgroup directory per hierarchy (made if missing; removed at the end):
 *             each container gets PATH/<id> in every one, its init enters them, and the container
 *             sees it read-only at /sys/fs/cgroup/NAME
 *
 * The workload is Berth's benchmark's: busybox sh -c 'echo ready; exec busybox sleep 3600', its
 * stdout a pipe that says when it runs. Before the stop every file is synced (sync(2); not with
 * FLOOR_NOSYNC set), as DensityBenchmark does before Berth's stop. The stop: SIGKILL to every init,
 * then FLOOR_THREADS threads (default 4, Berth's closing pool) each take the next container, reap its
 * monitor, remove its cgroups and its files. Prints one line:
 *   n=N procs=P threads=T start_ms=.. kill_ms=.. reaped_ms=.. total_ms=..
 * kill_ms: the N kill(2)s; reaped_ms: the last monitor reaped; total_ms: everything gone; all from
 * the first kill. Exit status 0 only if nothing is left; otherwise a line on stderr names it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CG 8
static const char *rootfs, *work;
static int nprocs, ncg;
static const char *cgparent[MAX_CG], *cgname[MAX_CG];

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void die(const char *what, const char *operand) {
    fprintf(stderr, "density-floor: %s %s: %s\n", what, operand ? operand : "", strerror(errno));
    _exit(2);
}

static void write_file(const char *path, const char *text, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) die("open", path);
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len) die("write", path);
    close(fd);
}

static void mnt(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
    if (mount(src, dst, type, flags, data) < 0) die("mount", dst);
}

/* a read-only bind (two steps, as the kernel wants) */
static void ro_bind(const char *src, const char *dst, unsigned long extra) {
    mnt(src, dst, NULL, MS_BIND | MS_REC, NULL);
    mnt(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | extra, NULL);
}

/* The container's init: PID 1 of its namespaces. Mounts as Berth's plan does, then runs the workload. */
static int init_main(int id, int *cgfd, int out) {
    char r[1024], p[4096], q[4096];
    for (int i = 0; i < ncg; i++) {
        if (write(cgfd[i], "0", 1) != 1) die("write cgroup.procs of", cgparent[i]);
        close(cgfd[i]);
    }
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die("prctl", "PR_SET_PDEATHSIG");
    if (unshare(CLONE_NEWCGROUP) < 0) die("unshare", "CLONE_NEWCGROUP");
    mnt(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    snprintf(r, sizeof r, "%s", rootfs);
    mnt(r, r, NULL, MS_BIND | MS_REC, NULL);
    mnt(NULL, r, NULL, MS_BIND | MS_REMOUNT | MS_NODEV, NULL);
#define AT(s) (snprintf(p, sizeof p, "%s%s", r, s), p)
    mnt("proc", AT("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mnt("sysfs", AT("/sys"), "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL);
    mnt("tmpfs", AT("/dev"), "tmpfs", MS_NOSUID, "size=65536k,mode=755");
    static const struct { const char *name; int major, minor; } dev[] = {
        {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) {
        snprintf(p, sizeof p, "%s/dev/%s", r, dev[i].name);
        if (mknod(p, S_IFCHR | 0666, makedev(dev[i].major, dev[i].minor)) < 0) die("mknod", p);
    }
    static const char *links[][2] = {{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
        {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        snprintf(p, sizeof p, "%s/dev/%s", r, links[i][1]);
        if (symlink(links[i][0], p) < 0) die("symlink", p);
    }
    static const char *devdirs[] = {"/dev/pts", "/dev/shm", "/dev/mqueue"};
    for (size_t i = 0; i < 3; i++) {
        if (mkdir(AT(devdirs[i]), 0755) < 0) die("mkdir", p);
    }
    mnt("devpts", AT("/dev/pts"), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    mnt("shm", AT("/dev/shm"), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=65536k");
    mnt("mqueue", AT("/dev/mqueue"), "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    /* /sys/fs/cgroup: a tmpfs with the container's own cgroup of each hierarchy, read-only */
    mnt("tmpfs", AT("/sys/fs/cgroup"), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=755");
    for (int i = 0; i < ncg; i++) {
        snprintf(p, sizeof p, "%s/sys/fs/cgroup/%s", r, cgname[i]);
        if (mkdir(p, 0755) < 0) die("mkdir", p);
        snprintf(q, sizeof q, "%s/c%d", cgparent[i], id);
        ro_bind(q, p, MS_NOSUID | MS_NODEV | MS_NOEXEC);
    }
    mnt(NULL, AT("/sys/fs/cgroup"), NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=755");
    static const char *etc[] = {"hosts", "hostname", "resolv.conf"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(q, sizeof q, "%s/state/c%d/%s", work, id, etc[i]);
        snprintf(p, sizeof p, "%s/etc/%s", r, etc[i]);
        mnt(q, p, NULL, MS_BIND, NULL);
    }
    /* masked and read-only paths */
    mnt("tmpfs", AT("/proc/acpi"), "tmpfs", MS_RDONLY, "size=0k,mode=555");
    static const char *masked[] = {"/proc/interrupts", "/proc/keys", "/proc/timer_list"};
    snprintf(q, sizeof q, "%s/dev/null", r);
    for (size_t i = 0; i < 3; i++) {
        mnt(q, AT(masked[i]), NULL, MS_BIND, NULL);
    }
    mnt("tmpfs", AT("/sys/firmware"), "tmpfs", MS_RDONLY, "size=0k,mode=555");
    static const char *ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys"};
    for (size_t i = 0; i < 4; i++) {
        ro_bind(AT(ro[i]), p, MS_NOSUID | MS_NODEV | MS_NOEXEC);
    }
    if (chdir(r) < 0) die("chdir", r);
    if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root", r);
    if (umount2(".", MNT_DETACH) < 0) die("umount2", "old root");
    if (chdir("/") < 0) die("chdir", "/");
    char host[32];
    snprintf(host, sizeof host, "c%d", id);
    if (sethostname(host, strlen(host)) < 0) die("sethostname", host);
    if (dup2(out, 1) < 0) die("dup2", "stdout");
    close(out);
    char *argv[] = {"/bin/busybox", "sh", "-c", "echo ready; exec /bin/busybox sleep 3600", NULL};
    if (nprocs == 2) {
        execv(argv[0], argv);
        die("execv", argv[0]);
    }
    pid_t w = fork();
    if (w < 0) die("fork", "workload");
    if (w == 0) {
        execv(argv[0], argv);
        die("execv", argv[0]);
    }
    close(1); /* only the workload holds the pipe */
    int st = 0;
    for (;;) { /* PID 1: reap every orphan, end with the workload */
        pid_t d = wait(&st);
        if (d == w) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (d < 0 && errno != EINTR) return 1;
    }
}

static int child_id, *child_cgfd, child_out;
static int init_trampoline(void *unused) {
    (void)unused;
    _exit(init_main(child_id, child_cgfd, child_out));
}

/* The monitor: clones the init into new namespaces, tells the harness its pid, reaps it, exits. */
static void monitor_main(int id, int out, int pidout) {
    int cgfd[MAX_CG];
    char p[4096];
    for (int i = 0; i < ncg; i++) {
        snprintf(p, sizeof p, "%s/c%d/cgroup.procs", cgparent[i], id);
        cgfd[i] = open(p, O_WRONLY | O_CLOEXEC);
        if (cgfd[i] < 0) die("open", p);
    }
    size_t stack_size = 64 * 1024;
    char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) die("mmap", "stack");
    child_id = id;
    child_cgfd = cgfd;
    child_out = out;
    pid_t init = clone(init_trampoline, stack + stack_size,
            CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | SIGCHLD, NULL);
    if (init < 0) die("clone", "init");
    for (int i = 0; i < ncg; i++) close(cgfd[i]);
    close(out);
    if (write(pidout, &init, sizeof init) != sizeof init) die("write", "init pid");
    close(pidout);
    int st;
    while (waitpid(init, &st, 0) < 0 && errno == EINTR) {
    }
    _exit(0);
}

static int read_full(int fd, void *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        ssize_t k = read(fd, (char *)buf + got, len - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        got += (size_t)k;
    }
    return 0;
}

static int stop_n, threads = 4;
static pid_t *stop_monitor;
static int next_container;
static double last_reaped;
static pthread_mutex_t reaped_lock = PTHREAD_MUTEX_INITIALIZER;

static void remove_files(int id);

static void *stopper(void *unused) {
    (void)unused;
    char p[4096];
    for (;;) {
        int i = __atomic_fetch_add(&next_container, 1, __ATOMIC_RELAXED);
        if (i >= stop_n) return NULL;
        int st;
        while (waitpid(stop_monitor[i], &st, 0) < 0) {
            if (errno != EINTR) die("waitpid", "monitor");
        }
        double t = now_ms();
        pthread_mutex_lock(&reaped_lock);
        if (t > last_reaped) last_reaped = t;
        pthread_mutex_unlock(&reaped_lock);
        for (int c = 0; c < ncg; c++) {
            snprintf(p, sizeof p, "%s/c%d", cgparent[c], i);
            while (rmdir(p) < 0) {
                if (errno != EBUSY) die("rmdir", p); /* EBUSY: the last exit is still being accounted */
                sched_yield();
            }
        }
        remove_files(i);
    }
}

static void remove_files(int id) {
    char p[4096];
    static const char *state_files[] = {"hosts", "hostname", "resolv.conf", "state.json", "exec.json"};
    snprintf(p, sizeof p, "%s/state/c%d", work, id);
    int d = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0) die("open", p);
    for (size_t i = 0; i < 5; i++) {
        if (unlinkat(d, state_files[i], 0) < 0) die("unlink", state_files[i]);
    }
    close(d);
    if (rmdir(p) < 0) die("rmdir", p);
    snprintf(p, sizeof p, "%s/state/.c%d.lock", work, id);
    if (unlink(p) < 0) die("unlink", p);
    snprintf(p, sizeof p, "%s/containers/c%d/container.log", work, id);
    if (unlink(p) < 0) die("unlink", p);
    snprintf(p, sizeof p, "%s/containers/c%d", work, id);
    if (rmdir(p) < 0) die("rmdir", p);
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: density-floor ROOTFS WORK N PROCS NAME=CGPARENT...\n");
        return 2;
    }
    rootfs = argv[1];
    work = argv[2];
    if (strlen(rootfs) > 1000 || strlen(work) > 1000) {
        fprintf(stderr, "density-floor: ROOTFS and WORK must be under 1,000 characters\n");
        return 2;
    }
    int n = atoi(argv[3]);
    nprocs = atoi(argv[4]);
    if (getenv("FLOOR_THREADS") != NULL) threads = atoi(getenv("FLOOR_THREADS"));
    if (n <= 0 || (nprocs != 2 && nprocs != 3) || threads < 1 || threads > 64) {
        fprintf(stderr, "density-floor: N must be positive, PROCS 2 or 3 and FLOOR_THREADS 1 to 64 (got %s, %s, %d)\n",
                argv[3], argv[4], threads);
        return 2;
    }
    ncg = argc - 5;
    if (ncg > MAX_CG) {
        fprintf(stderr, "density-floor: at most %d cgroup parents\n", MAX_CG);
        return 2;
    }
    for (int i = 0; i < ncg; i++) {
        char *eq = strchr(argv[5 + i], '=');
        if (!eq || eq == argv[5 + i] || eq[1] != '/') {
            fprintf(stderr, "density-floor: CGPARENT %s: not NAME=/PATH\n", argv[5 + i]);
            return 2;
        }
        *eq = 0;
        cgname[i] = argv[5 + i];
        cgparent[i] = eq + 1;
        if (mkdir(cgparent[i], 0755) < 0 && errno != EEXIST) die("mkdir", cgparent[i]);
    }
    char p[4096];
    snprintf(p, sizeof p, "%s/state", work);
    if (mkdir(p, 0700) < 0 && errno != EEXIST) die("mkdir", p);
    snprintf(p, sizeof p, "%s/containers", work);
    if (mkdir(p, 0700) < 0 && errno != EEXIST) die("mkdir", p);
    pid_t *monitor = calloc((size_t)n, sizeof *monitor), *init = calloc((size_t)n, sizeof *init);
    if (!monitor || !init) die("calloc", "");
    int failed = 0;
    double t0 = now_ms();
    for (int i = 0; i < n; i++) {
        /* the files a Berth container has, about the same sizes */
        snprintf(p, sizeof p, "%s/state/c%d", work, i);
        if (mkdir(p, 0700) < 0) die("mkdir", p);
        static const char *files[][2] = {
            {"hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"},
            {"hostname", "c\n"}, {"resolv.conf", "nameserver 10.0.2.3\n"}, {"state.json", NULL}, {"exec.json", NULL}};
        char big[4096];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = 0;
        for (size_t f = 0; f < 5; f++) {
            snprintf(p, sizeof p, "%s/state/c%d/%s", work, i, files[f][0]);
            write_file(p, files[f][1] ? files[f][1] : big + (f == 3 ? 2356 : 185), f < 3 ? 0644 : 0600);
        }
        snprintf(p, sizeof p, "%s/state/.c%d.lock", work, i);
        write_file(p, "", 0600);
        snprintf(p, sizeof p, "%s/containers/c%d", work, i);
        if (mkdir(p, 0700) < 0) die("mkdir", p);
        snprintf(p, sizeof p, "%s/containers/c%d/container.log", work, i);
        write_file(p, "{\"time\":\"2026-12-02T00:00:00Z\",\"stream\":\"stdout\",\"log\":\"ready\\n\"}\n", 0600);
        for (int c = 0; c < ncg; c++) {
            snprintf(p, sizeof p, "%s/c%d", cgparent[c], i);
            if (mkdir(p, 0755) < 0) die("mkdir", p);
        }
        int fds[2], pids[2];
        if (pipe2(fds, O_CLOEXEC) < 0 || pipe2(pids, O_CLOEXEC) < 0) die("pipe", "");
        pid_t m = fork();
        if (m < 0) die("fork", "monitor");
        if (m == 0) {
            if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) die("prctl", "PR_SET_PDEATHSIG");
            close(fds[0]);
            close(pids[0]);
            int out = fcntl(fds[1], F_DUPFD, 3); /* without CLOEXEC: the workload's stdout */
            close(fds[1]);
            monitor_main(i, out, pids[1]);
        }
        close(fds[1]);
        close(pids[1]);
        monitor[i] = m;
        char buf[6];
        if (read_full(pids[0], &init[i], sizeof init[i]) != 0 || read_full(fds[0], buf, sizeof buf) != 0
                || memcmp(buf, "ready\n", 6) != 0) {
            fprintf(stderr, "density-floor: container %d did not start (see its error above)\n", i);
            close(fds[0]);
            close(pids[0]);
            if (init[i] == 0) {
                kill(m, SIGKILL); /* its init, if any, dies with it (PDEATHSIG) */
            }
            failed = 1;
            n = i + 1; /* stop and remove what did start */
            break;
        }
        close(fds[0]);
        close(pids[0]);
    }
    double start = now_ms() - t0;
    if (getenv("FLOOR_NOSYNC") == NULL) sync();
    t0 = now_ms();
    for (int i = 0; i < n; i++) {
        if (init[i] != 0 && kill(init[i], SIGKILL) < 0 && errno != ESRCH) die("kill", "init");
    }
    double killed = now_ms() - t0;
    /* as Berth's closing threads do it: each takes the next container, reaps it, removes its cgroups
     * and its files; the removals overlap the other containers' teardown */
    stop_n = n;
    stop_monitor = monitor;
    pthread_t th[64];
    for (int t = 0; t < threads; t++) {
        if (pthread_create(&th[t], NULL, stopper, NULL) != 0) die("pthread_create", "");
    }
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
    }
    double total = now_ms() - t0;
    double reaped = last_reaped - t0;
    printf("n=%d procs=%d threads=%d start_ms=%.1f kill_ms=%.1f reaped_ms=%.1f total_ms=%.1f\n",
            n, nprocs, threads, start, killed, reaped, total);
    int left = 0;
    for (int c = 0; c < ncg; c++) {
        if (rmdir(cgparent[c]) < 0) {
            fprintf(stderr, "density-floor: left: %s (%s)\n", cgparent[c], strerror(errno));
            left = 1;
        }
    }
    snprintf(p, sizeof p, "%s/state", work);
    if (rmdir(p) < 0) { fprintf(stderr, "density-floor: left: %s\n", p); left = 1; }
    snprintf(p, sizeof p, "%s/containers", work);
    if (rmdir(p) < 0) { fprintf(stderr, "density-floor: left: %s\n", p); left = 1; }
    return left | failed;
}
