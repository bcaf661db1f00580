/*
 * berth-init: the native stage of Berth. It executes a plan and decides nothing.
 *
 * The JVM spawns this binary (from a sealed memfd) as the "monitor" with:
 *   fd 0,1,2   the container's stdio
 *   fd 3       a SOCK_SEQPACKET control socket to the JVM
 *   fd 4..N    further fds the plan refers to (cgroup.procs files, ...)
 *   argv[1]    N, the highest fd to keep; everything above is closed first
 *
 * Protocol (one packet per message; see docs/architecture.md for the diagram):
 *   JVM -> monitor  u32 length, then the plan "BRT1" u32 version u32 nops, ops...,
 *                   split over packets of at most PLAN_CHUNK bytes (a plan may exceed
 *                   what one socket packet holds: large argv and environments)
 *   monitor -> JVM  'C' u32 pid u32 monitor   container init cloned (host pid), and the monitor's own
 *                                   pid (not the spawned one's when it detached: see MONITOR)
 *   JVM -> monitor  'G'             host-side setup done, go
 *   monitor -> JVM  'S' u32 op      the init reached a SYNC op and waits (e.g. new volumes are
 *   JVM -> monitor  'G'             filled from the image), then go again; any number of times
 *   monitor -> JVM  'T' + fd        with a TTY_OPEN op, before 'X': the pty master the init opened in the
 *                                   container's devpts, passed on as SCM_RIGHTS (init -> monitor -> JVM)
 *   monitor -> JVM  'N' + fd        with a SECCOMP op whose flags ask for a listener, before 'X': the filter's
 *                                   listener fd (target -> monitor -> JVM, SCM_RIGHTS), for user notifications
 *   monitor -> JVM  'X'             target exec'd: it announced the exec and the CLOEXEC
 *                                   error pipe closed without an error after it
 *              or   'E' u32 op i32 errno operand    first failing op
 *              or   'K' i32 status  the container ended during setup, before the exec
 *                                   (killed: by the OOM killer, a signal, ...)
 *   monitor -> JVM  'W' i32 status  target's wait status (after it ended); with a state dir (MONITOR)
 *                                   also written to its file "exit" first, for a JVM that is gone; then,
 *                                   with EXIT_COMMAND, that command is started (see run_exit_command)
 *
 * Op 0 (CLONE) runs in the monitor; every later op runs in the container init. An exec plan (a
 * process run in a running container) starts with ENTER, which the monitor runs before CLONE:
 * it enters the container's namespaces, and the process it clones runs the rest.
 * FORK splits: the child continues with the next op (towards EXEC), the parent
 * jumps to the op index given by its argument (init's own tail, ending in REAP).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth-log.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
/* <linux/mount.h>'s, spelled here: with glibc 2.36 it conflicts with <sys/mount.h> */
struct berth_mount_attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x04
#define MOVE_MOUNT_T_EMPTY_PATH 0x40
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x1000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#define PR_CAP_AMBIENT_RAISE 2
#endif

/* Op codes: keep in sync with dev.berth.core.internal.plan.OpCode. */
enum {
    OP_CLONE = 1,        /* u64 flags, i64 cgroup fd (-1: none)[, i64 user namespace fd to clone in (-1: none)] */
    OP_WAIT_GO = 2,      /* - */
    OP_WRITE_FD = 3,     /* i64 fd, bytes data; closes fd afterwards */
    OP_UNSHARE = 4,      /* u64 flags */
    OP_MOUNT = 5,        /* str source, str target, str fstype, u64 flags, str data, u64 resolve */
    OP_OPEN_ROOT = 6,    /* str path: the directory later in-root ops resolve against */
    OP_MKDIR = 7,        /* str path (in root), u64 mode: creates missing components */
    OP_MKNOD = 8,        /* str path (in root), u64 mode, u64 major, u64 minor */
    OP_SYMLINK = 9,      /* str target, str linkpath (in root) */
    OP_PIVOT_ROOT = 10,  /* str new root */
    OP_MASK = 11,        /* str path: /dev/null over a file, read-only tmpfs over a directory */
    OP_SETHOSTNAME = 12, /* str name */
    OP_LOOPBACK_UP = 13, /* - */
    OP_SETRLIMIT = 14,   /* u64 resource, u64 soft, u64 hard */
    OP_CAP_BOUNDING = 15,/* u64 keep mask: drops every other capability from the bounding set */
    OP_KEEPCAPS = 16,    /* u64 0/1 */
    OP_SETGROUPS = 17,   /* u64 gid... */
    OP_SETGID = 18,      /* u64 gid */
    OP_SETUID = 19,      /* u64 uid */
    OP_CAPSET = 20,      /* u64 effective, u64 permitted, u64 inheritable */
    OP_AMBIENT = 21,     /* u64 mask: clears the ambient set, then raises these */
    OP_NO_NEW_PRIVS = 22,/* - */
    OP_CHDIR = 23,       /* str path */
    OP_FORK = 24,        /* u64 index the parent continues at */
    OP_EXEC = 25,        /* u64 argc, str argv..., str env... */
    OP_REAP = 26,        /* - : PID 1 duty: reap, forward signals, exit with the target's status */
    OP_DUMPABLE = 27,    /* u64 0/1 */
    OP_SETSID = 28,      /* - */
    OP_UMASK = 29,       /* u64 mask */
    OP_PDEATHSIG = 30,   /* u64 signal sent to init when the monitor dies */
    OP_CHOWN = 31,       /* str path (in root), u64 uid, u64 gid: the node itself, never a symlink's target */
    OP_MKFILE = 32,      /* str path (in root), u64 mode: a mount point for a file; parents made, an existing entry kept */
    OP_MOVE_MOUNT = 33,  /* i64 fd of a detached tree (open_tree by the JVM), str target (in root); closes fd */
    OP_SYNC = 34,        /* - : reports the index to the JVM (through the monitor) and waits for its go */
    OP_EXIT_COMMAND = 35,/* u64 argc, str argv..., str env...: right after MONITOR (which has a state dir), before
                            CLONE: run by the monitor, detached, once the container ended and "exit" was written */
    OP_LAYER_OWNERS = 36,/* str layer dir, then per entry: str path (beneath it), u64 uid, u64 gid, u64 mode */
    OP_REMOVE_TREE = 37, /* str dir: removes it and everything below, never following a symlink */
    OP_MOUNT_SETATTR = 38, /* str target, u64 attr_set (MOUNT_ATTR_*), u64 resolve: the mount there and every
                            * mount below it (mount_setattr AT_RECURSIVE) */
    OP_OPEN_FILES = 39,  /* i64 socket fd, u64 open flags allowed, u64 resolve flags required, u64 resolve flags of
                            which one is required: answers open requests until the JVM closes its end (open_files) */
    OP_RECV_MOUNT = 40,  /* i64 socket fd, str target, u64 resolve, u64 last: receives one detached mount tree (SCM_RIGHTS,
                            made by the JVM after the clone: an idmapped root, a file) and moves it onto target; closes
                            the tree, and the socket after the last */
    OP_TTY_OPEN = 45,    /* u64 rows, u64 cols, str console: a pty from /dev/pts/ptmx; its slave bound on console
                            (unless empty) and kept for the target, its master sent to the monitor */
    OP_TTY_ATTACH = 46,  /* u64 uid: the slave becomes the owner's, stdio 0-2 and the controlling terminal */
    OP_ENTER = 47,       /* i64 pidfd, u64 CLONE_NEW* flags, i64 root fd, str operand: in the monitor, before CLONE
                            (exec into a running container): non-dumpable, setns(pidfd, flags), then the init's
                            root (an fd of its /proc/PID/root) as root and cwd; closes the root fd */
    OP_SETNS = 48,       /* i64 pidfd, u64 CLONE_NEW* flags (0: none), str operand: setns, then closes the fd */
    OP_MONITOR = 49,     /* u64 flags (MON_*), i64 state dir fd, i64 log dir fd, u64 log max bytes, u64 log max files:
                            in the monitor, before CLONE: how the monitor itself runs (a container's start only) */
    OP_SECCOMP = 53,     /* str name, u64 flags, then one 8-byte struct sock_filter per arg: the program, loaded as is */
};
enum { F_OPTIONAL = 1,   /* op flag: ENOENT is not an error */
       F_KEEP_FLAGS = 2, /* MOUNT: add the target mount's current flags (a remount must not clear nosuid, noexec, ...) */
       F_NOT_PROCFS = 4  /* MOUNT (in root), MOVE_MOUNT: a target on procfs is refused with EPERM */ };
enum { MON_DETACH = 1,    /* MONITOR: outlive the JVM (leave its process tree and session; its end kills nothing) */
       MON_LOG = 2 };      /* MONITOR: the container's stdout and stderr are captured to the log dir (berth-log.c) */
enum { EXEC_NEXT = 0xffffffffu,   /* error-pipe record index: the target is about to exec */
       SYNC_AT = 0xfffffffeu };    /* error-pipe record index: the init waits at op <errno field> */
enum { PLAN_CHUNK = 65536, PLAN_MAX = 64 << 20 };
enum { READ_MAX = 65536,   /* MONITOR with MON_LOG: one read of a container's stdout or stderr pipe */
       LOG_IDLE_MS = 1000 };  /* MONITOR with MON_LOG: quiet pipes for this long give the buffers' pages back */
enum { RESOLVE_PLAIN = 0, RESOLVE_ROOT = 1, RESOLVE_ROOT_NOSYMLINKS = 2 };

struct arg { uint32_t len; const char *p; };
struct op { uint32_t code, flags, nargs; struct arg *args; };

static struct op *ops;
static uint32_t nops;
static int errfd = -1;      /* write end of the CLOEXEC error pipe */
static int gofd = -1;       /* read end of the go pipe (init) */
static int statusfd = -1;   /* write end of the status pipe (init) */
static int rootfd = -1;
static pid_t target = -1;
static int ttyfd = -1;      /* the pty slave: init from TTY_OPEN to FORK, target until TTY_ATTACH */
static int ttysock = -1;    /* socket of the pty master: the init's end sends, the monitor's receives */
static int notifsock = -1;  /* socket of the seccomp listener fd: the target's end sends, the monitor's receives */

/* ---- reporting -------------------------------------------------------- */

static void put32(char *b, uint32_t v) { memcpy(b, &v, 4); }

/* Sends (index, errno, operand) down the error pipe and ends this process. */
_Noreturn static void fail(uint32_t index, int err, const char *operand) {
    char rec[3072];
    size_t n = operand ? strlen(operand) : 0;
    if (n > sizeof rec - 12) n = sizeof rec - 12;
    put32(rec, index); put32(rec + 4, (uint32_t)err); put32(rec + 8, (uint32_t)n);
    memcpy(rec + 12, operand, n);
    if (write(errfd, rec, 12 + n) < 0) { /* nothing more to do */ }
    _exit(127);
}

/* ---- plan parsing ------------------------------------------------------- */

static uint32_t rd32(const char **p, const char *end, int *ok) {
    uint32_t v = 0;
    if (end - *p < 4) { *ok = 0; return 0; }
    memcpy(&v, *p, 4); *p += 4; return v;
}

/* Parses the plan in place: each argument points into buf (len + 1 bytes: the NUL terminators are
 * written once every length has been read, over the first byte of the field after each). */
static int parse_plan(char *buf, size_t len) {
    const char *p = buf, *end = buf + len; int ok = 1;
    if (len < 12 || memcmp(p, "BRT1", 4) != 0) return -1;
    p += 4;
    if (rd32(&p, end, &ok) != 1) return -1;
    nops = rd32(&p, end, &ok);
    if (!ok || nops == 0 || nops > 100000) return -1;
    ops = calloc(nops, sizeof *ops);
    if (!ops) return -1;
    for (uint32_t i = 0; i < nops; i++) {
        ops[i].code = rd32(&p, end, &ok);
        ops[i].flags = rd32(&p, end, &ok);
        ops[i].nargs = rd32(&p, end, &ok);
        if (!ok || ops[i].nargs > 1000000) return -1;
        ops[i].args = calloc(ops[i].nargs + 1, sizeof(struct arg));
        if (!ops[i].args) return -1;
        for (uint32_t a = 0; a < ops[i].nargs; a++) {
            uint32_t n = rd32(&p, end, &ok);
            if (!ok || (size_t)(end - p) < n) return -1;
            ops[i].args[a].len = n; ops[i].args[a].p = p; p += n;
        }
    }
    if (p != end) return -1;
    for (uint32_t i = 0; i < nops; i++)        /* NUL-terminated for C string use */
        for (uint32_t a = 0; a < ops[i].nargs; a++) buf[ops[i].args[a].p - buf + ops[i].args[a].len] = 0;
    return 0;
}

static char *plan_map;      /* the received plan's mapping (receive_plan), which the arguments point into */
static size_t plan_map_len;

/* The plan is done with (the monitor supervising, the init reaping): its memory goes back to the
 * kernel, so that neither keeps pages of a plan it no longer reads for the container's life. */
static void drop_plan(void) {
    for (uint32_t i = 0; ops && i < nops; i++) free(ops[i].args);
    free(ops);
    ops = NULL; nops = 0;
    if (plan_map) munmap(plan_map, plan_map_len);
    plan_map = NULL;
    malloc_trim(0);
}

static const char *S(const struct op *o, uint32_t i) { return i < o->nargs ? o->args[i].p : ""; }
static uint64_t U(const struct op *o, uint32_t i) {
    uint64_t v = 0;
    if (i < o->nargs && o->args[i].len == 8) memcpy(&v, o->args[i].p, 8);
    return v;
}

/* ---- in-root path resolution -------------------------------------------- */

struct open_how_ { uint64_t flags, mode, resolve; };
#define RESOLVE_NO_MAGICLINKS_ 0x02
#define RESOLVE_NO_SYMLINKS_ 0x04
#define RESOLVE_IN_ROOT_ 0x10

/* Opens path below rootfd as if rootfd were "/": symlinks cannot leave it. */
static int open_in_root(const char *path, int oflags, int nosymlinks) {
    struct open_how_ how = { .flags = (uint64_t)(oflags | O_CLOEXEC), .mode = 0,
        .resolve = RESOLVE_IN_ROOT_ | RESOLVE_NO_MAGICLINKS_ | (nosymlinks ? RESOLVE_NO_SYMLINKS_ : 0) };
    while (*path == '/') path++;
    if (!*path) path = ".";
    return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/* Splits "a/b/c" into a directory fd for "a/b" (in root) and the leaf name. */
static int open_parent(const char *path, char *leaf, size_t leafsz) {
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) : 0;
    if (dl >= sizeof dir || strlen(slash ? slash + 1 : path) >= leafsz) { errno = ENAMETOOLONG; return -1; }
    memcpy(dir, path, dl); dir[dl] = 0;
    snprintf(leaf, leafsz, "%s", slash ? slash + 1 : path);
    return open_in_root(dir, O_PATH | O_DIRECTORY, 0);
}

static int mkdirs_in_root(const char *path, mode_t mode) {
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
    strcpy(buf, path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p; *p = 0;
            char leaf[NAME_MAX + 1];
            int dfd = open_parent(buf, leaf, sizeof leaf);
            if (dfd < 0) return -1;
            int r = mkdirat(dfd, leaf, mode);
            int e = errno;
            close(dfd);
            if (r < 0 && e != EEXIST) { errno = e; return -1; }
            *p = c;
            if (!c) break;
        }
    }
    return 0;
}

static void fd_path(int fd, char *buf, size_t n) { snprintf(buf, n, "/proc/self/fd/%d", fd); }

/* Opens a mount target below the root; the root itself (a symlink to "/" or "../..") is refused:
 * mounted over, it would become the container's root at pivot_root. With notproc, so is a target
 * on procfs (the flag says which mounts may not land there). */
static int open_target(const char *path, int nosymlinks, int notproc) {
    int fd = open_in_root(path, O_PATH, nosymlinks);
    struct stat a, b;
    if (fd >= 0 && fstat(fd, &a) == 0 && fstat(rootfd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        close(fd); errno = EBUSY; return -1;
    }
    struct statfs sf;
    if (fd >= 0 && notproc && (fstatfs(fd, &sf) < 0 || sf.f_type == PROC_SUPER_MAGIC)) {
        close(fd); errno = EPERM; return -1;
    }
    return fd;
}

/* ---- ops ---------------------------------------------------------------- */

#define RESOLVE_BENEATH_ 0x08

/* REMOVE_TREE: depth first below dfd, by fd, no symlink followed, no mount crossed (a mount point's rmdir fails
 * EBUSY); *operand names what failed. */
static int remove_at(int dfd, const char *name, const char **operand, int depth) {
    struct stat st;
    if (depth > 4096) { errno = ELOOP; return -1; }
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return errno == ENOENT ? 0 : -1;
    if (S_ISDIR(st.st_mode)) {
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) { *operand = name; return -1; }
        DIR *d = fdopendir(fd);
        if (!d) { int e = errno; close(fd); errno = e; return -1; }
        struct dirent *e;
        int r = 0;
        while (!r && (errno = 0, e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) r = remove_at(fd, e->d_name, operand, depth + 1);
        if (!r && errno) r = -1;
        int keep = errno; closedir(d); errno = keep;
        if (r) return -1;
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0) { *operand = name; return -1; }
        return 0;
    }
    if (unlinkat(dfd, name, 0) < 0) { *operand = name; return -1; }
    return 0;
}

/* LAYER_OWNERS: each entry opened beneath the layer without following any symlink (a symlink entry is itself
 * opened, O_PATH|O_NOFOLLOW), given its owner by fd, and its mode back unless it is a symlink (a chown clears
 * setuid/setgid). On failure *operand names the entry. */
static int layer_owners(const struct op *o, const char **operand) {
    if (o->nargs < 1 || (o->nargs - 1) % 4 != 0) { errno = EINVAL; return -1; }
    int dir = open(S(o, 0), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0) return -1;
    int r = 0;
    for (uint32_t i = 1; i + 3 < o->nargs + 0u && !r; i += 4) {
        struct open_how_ how = { .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC, .mode = 0,
            .resolve = RESOLVE_BENEATH_ | RESOLVE_NO_SYMLINKS_ | RESOLVE_NO_MAGICLINKS_ };
        *operand = S(o, i);
        int fd = (int)syscall(SYS_openat2, dir, S(o, i), &how, sizeof how);
        if (fd < 0) { r = -1; break; }
        struct stat st;
        r = fchownat(fd, "", (uid_t)U(o, i + 1), (gid_t)U(o, i + 2), AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
        if (!r) r = fstat(fd, &st);
        if (!r && !S_ISLNK(st.st_mode)) {
            char p[64]; fd_path(fd, p, sizeof p);
            r = chmod(p, (mode_t)(U(o, i + 3) & 07777));
        }
        int e = errno; close(fd); errno = e;
    }
    int e = errno; close(dir); errno = e;
    return r;
}

static int do_mount(const struct op *o) {
    const char *src = S(o, 0), *dst = S(o, 1), *fs = S(o, 2), *data = S(o, 4);
    unsigned long flags = (unsigned long)U(o, 3);
    uint64_t resolve = U(o, 5);
    int fd = -1;
    char p[64];
    if (resolve != RESOLVE_PLAIN) {
        const char *rel = dst;
        while (*rel == '/') rel++;
        /* the root itself only for a remount of it (in a user namespace its host path may be closed to the init);
         * as a mount target it stays refused (open_target) */
        fd = !*rel && (flags & MS_REMOUNT) ? fcntl(rootfd, F_DUPFD_CLOEXEC, 0)
                                           : open_target(dst, resolve == RESOLVE_ROOT_NOSYMLINKS, o->flags & F_NOT_PROCFS);
        if (fd < 0) return -1;
        fd_path(fd, p, sizeof p);
        dst = p;
    }
    int r = 0;
    if (o->flags & F_KEEP_FLAGS) {
        struct statvfs sv;
        r = statvfs(dst, &sv);
        /* glibc's ST_* equal the MS_* values for these */
        if (!r) flags |= sv.f_flag & (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_SYNCHRONOUS | ST_MANDLOCK
                                      | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
    }
    if (!r) r = mount(*src ? src : NULL, dst, *fs ? fs : NULL, flags, *data ? data : NULL);
    int e = errno; if (fd >= 0) close(fd); errno = e;
    return r;
}

/* Sets attributes on the mount at the target and on every mount below it: a rootless recursive bind's "ro"
 * must hold for its submounts too, which a remount (top mount only) does not do. Locked flags stay set: the
 * call only adds attributes. */
static int do_mount_setattr(const struct op *o) {
    int fd = open_target(S(o, 0), U(o, 2) == RESOLVE_ROOT_NOSYMLINKS, o->flags & F_NOT_PROCFS);
    if (fd < 0) return -1;
    struct berth_mount_attr a = { .attr_set = U(o, 1) };
    int r = (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a);
    int e = errno; close(fd); errno = e;
    return r;
}

static int do_mask(const char *path) {
    struct stat st;
    if (lstat(path, &st) < 0) return -1;
    if (S_ISDIR(st.st_mode))
        return mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=555");
    return mount("/dev/null", path, NULL, MS_BIND, NULL);
}

static int loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    struct ifreq ifr; memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    int r = ioctl(s, SIOCGIFFLAGS, &ifr);
    if (r == 0) { ifr.ifr_flags |= IFF_UP | IFF_RUNNING; r = ioctl(s, SIOCSIFFLAGS, &ifr); }
    int e = errno; close(s); errno = e;
    return r;
}

static int cap_bounding(uint64_t keep) {
    for (int c = 0; c <= 63; c++) {
        if (keep & (1ULL << c)) continue;
        if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) <= 0) continue; /* unknown to this kernel or gone */
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) return -1;
    }
    return 0;
}

static int cap_set(uint64_t eff, uint64_t prm, uint64_t inh) {
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2] = {
        { (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
        { (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) } };
    return (int)syscall(SYS_capset, &h, d);
}

static int ambient(uint64_t mask) {
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return -1;
    for (int c = 0; c <= 63; c++)
        if ((mask & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) return -1;
    return 0;
}

/* One packet: a tag byte and an fd as SCM_RIGHTS. */
static int send_fd(int sock, char tag, int fd) {
    char c[CMSG_SPACE(sizeof(int))];
    memset(c, 0, sizeof c);
    struct iovec iov = { &tag, 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c, .msg_controllen = sizeof c };
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET; h->cmsg_type = SCM_RIGHTS; h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &fd, sizeof fd);
    return sendmsg(sock, &m, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* The fd of a packet send_fd queued, without waiting: -1 when there is none. */
static int recv_fd(int sock) {
    char tag, c[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { &tag, 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c, .msg_controllen = sizeof c };
    if (recvmsg(sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1) return -1;
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS || h->cmsg_len != CMSG_LEN(sizeof(int))) {
        errno = EPROTO; return -1;
    }
    int fd; memcpy(&fd, CMSG_DATA(h), sizeof fd);
    return fd;
}

/* RECV_MOUNT: the next tree the JVM sent (blocking: it sends them all before its go), moved onto the target,
 * a host path (the root's mount point) or one resolved in the root. */
static int recv_mount(const struct op *o) {
    int sock = (int)U(o, 0), fd = -1, t = -1, r = -1;
    char tag, c[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { &tag, 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c, .msg_controllen = sizeof c };
    ssize_t n;
    while ((n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
    struct cmsghdr *h = n == 1 ? CMSG_FIRSTHDR(&m) : NULL;
    if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS || h->cmsg_len != CMSG_LEN(sizeof(int))) {
        if (n >= 0) errno = EPROTO;
    } else {
        memcpy(&fd, CMSG_DATA(h), sizeof fd);
        uint64_t resolve = U(o, 2);
        t = resolve == RESOLVE_PLAIN ? open(S(o, 1), O_PATH | O_CLOEXEC)
                                     : open_target(S(o, 1), resolve == RESOLVE_ROOT_NOSYMLINKS, o->flags & F_NOT_PROCFS);
        if (t >= 0)
            r = (int)syscall(SYS_move_mount, fd, "", t, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    }
    int e = errno;
    if (t >= 0) close(t);
    if (fd >= 0) close(fd);
    if (U(o, 3)) close(sock);
    errno = e;
    return r;
}

/* OPEN_FILES: opens files for the JVM as this process (the root of a user namespace: it may read what the
 * namespace's ids own), one request at a time, until the JVM closes its end of the socket. A request is one
 * packet: u32 open flags, u64 resolve flags, the path (no NUL), and a directory fd (SCM_RIGHTS) it is resolved
 * below with openat2; the answer 'F' + the opened fd (SCM_RIGHTS, closed here once sent), or 'E' + i32 errno.
 * A request asking for an open flag the plan does not allow, or without the resolve flags it requires, is
 * answered EPERM without opening anything. */
static int open_files(const struct op *o) {
    int sock = (int)U(o, 0);
    uint64_t allowed = U(o, 1), required = U(o, 2), oneof = U(o, 3);
    for (;;) {
        char buf[12 + PATH_MAX + 1], c[CMSG_SPACE(sizeof(int))];
        struct iovec iov = { buf, sizeof buf - 1 };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c, .msg_controllen = sizeof c };
        ssize_t n;
        while ((n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
        if (n <= 0) { int e = errno; close(sock); errno = e; return n == 0 ? 0 : -1; }
        struct cmsghdr *h = CMSG_FIRSTHDR(&m);
        int dir = -1, fd = -1, err = 0;
        if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS && h->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(&dir, CMSG_DATA(h), sizeof dir);
        if (dir < 0 || n < 13 || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
            if (dir >= 0) close(dir);
            close(sock); errno = EPROTO; return -1;
        }
        buf[n] = 0;
        uint32_t flags; uint64_t resolve;
        memcpy(&flags, buf, 4); memcpy(&resolve, buf + 4, 8);
        if ((flags & ~allowed) || (resolve & required) != required || (oneof && !(resolve & oneof))
                || strlen(buf + 12) != (size_t)n - 12) {
            err = EPERM;
        } else {
            struct open_how_ how = { .flags = (uint64_t)flags | O_CLOEXEC, .mode = 0, .resolve = resolve };
            fd = (int)syscall(SYS_openat2, dir, buf + 12, &how, sizeof how);
            err = fd < 0 ? errno : 0;
        }
        close(dir);
        int r;
        if (fd >= 0) {
            r = send_fd(sock, 'F', fd);
            close(fd);
        } else {
            char e[5] = { 'E' };
            memcpy(e + 1, &err, 4);
            r = send(sock, e, sizeof e, MSG_NOSIGNAL) == (ssize_t)sizeof e ? 0 : -1;
        }
        if (r < 0) {
            int e = errno; close(sock); errno = e == EPIPE ? 0 : e;
            return e == EPIPE ? 0 : -1;   /* the JVM went away mid-answer: nothing left to serve */
        }
    }
}

/* A pty of the container's own devpts (the root is pivoted: /dev/pts is the plan's instance), sized,
 * unlocked; the slave is bound on the console path and kept for TTY_ATTACH, the master goes to the
 * monitor. The init keeps no end of the master. */
static int tty_open(const struct op *o, const char **operand) {
    int m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC), unlock = 0, r = -1;
    struct winsize ws = { .ws_row = (unsigned short)U(o, 0), .ws_col = (unsigned short)U(o, 1) };
    *operand = "/dev/pts/ptmx";
    if (m < 0) return -1;
    if (ioctl(m, TIOCSPTLCK, &unlock) == 0 && ioctl(m, TIOCSWINSZ, &ws) == 0
            && (ttyfd = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) >= 0) {
        char p[64]; fd_path(ttyfd, p, sizeof p);
        *operand = S(o, 2);
        r = *S(o, 2) ? mount(p, S(o, 2), NULL, MS_BIND, NULL) : 0;
        if (r == 0) { *operand = "pty master"; r = send_fd(ttysock, 'T', m); }
    }
    int e = errno; close(m); close(ttysock); ttysock = -1; errno = e;
    return r;
}

/* The target's side, after setsid: its pty, owned by its user, as stdio and controlling terminal. */
static int tty_attach(uint64_t uid) {
    if (fchown(ttyfd, (uid_t)uid, (gid_t)-1) < 0) return -1;
    for (int fd = 0; fd <= 2; fd++) if (dup2(ttyfd, fd) < 0) return -1;  /* ttyfd > 2: 0-2 were open */
    if (ioctl(0, TIOCSCTTY, 0) < 0) return -1;
    close(ttyfd); ttyfd = -1;
    return 0;
}

static void handler(int sig) { (void)sig; }

/* Blocks every signal and installs a handler for each catchable one: a PID 1
 * with SIG_DFL would never see signals sent from outside its namespace. */
static void trap_signals(sigset_t *all) {
    sigfillset(all);
    sigprocmask(SIG_BLOCK, all, NULL);
    struct sigaction sa; memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    for (int s = 1; s < NSIG; s++) if (s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, NULL);
}

static void untrap_signals(void) {
    struct sigaction sa; memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) if (s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, NULL);
    /* glibc keeps 32 and 33 for itself and refuses to reset them; the spawn left them ignored. */
    struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } k = { SIG_DFL, 0, NULL, 0 };
    for (int s = 32; s <= 33; s++) syscall(SYS_rt_sigaction, s, &k, NULL, 8);
    sigset_t none; sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* PID 1: reaps every child, forwards catchable signals to the target and
 * exits once the target is gone, reporting its wait status first. */
_Noreturn static void reap(void) {
    sigset_t all; sigfillset(&all);
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&all, &si);
        if (sig < 0) continue;
        if (sig != SIGCHLD) { kill(target, sig); continue; }
        int st; pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
            if (p != target) continue;
            if (write(statusfd, &st, sizeof st) < 0) { /* monitor falls back to our exit code */ }
            _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        }
    }
}

/* Loads the seccomp program the JVM compiled, as handed: each argument is one struct sock_filter
 * (8 bytes, in the host's byte order). The init is single-threaded, so TSYNC has nothing to do. */
static int load_seccomp(const struct op *o) {
    if (o->nargs < 3 || o->nargs - 2 > BPF_MAXINSNS) { errno = EINVAL; return -1; }
    unsigned short n = (unsigned short)(o->nargs - 2);
    struct sock_filter *f = calloc(n, sizeof *f);
    if (!f) return -1;
    for (uint32_t i = 0; i < n; i++) {
        if (o->args[2 + i].len != sizeof *f) { free(f); errno = EINVAL; return -1; }
        memcpy(&f[i], o->args[2 + i].p, sizeof *f);
    }
    struct sock_fprog prog = { .len = n, .filter = f };
    unsigned int flags = (unsigned int)U(o, 1);
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    int e = errno; free(f); errno = e;
    if (r < 0) return -1;
    if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
        /* queued for the monitor now, before the exec: the syscalls made here are not notified */
        int s = send_fd(notifsock, 'N', (int)r);
        e = errno; close((int)r); close(notifsock); notifsock = -1; errno = e;
        if (s < 0) return -1;
    }
    return 0;
}

static int do_exec(const struct op *o) {
    uint64_t argc = U(o, 0);
    if (argc == 0 || argc + 1 > o->nargs) { errno = EINVAL; return -1; }
    char **argv = calloc(argc + 1, sizeof(char *));
    char **envp = calloc(o->nargs - argc, sizeof(char *));
    if (!argv || !envp) return -1;
    for (uint64_t i = 0; i < argc; i++) argv[i] = (char *)S(o, (uint32_t)(1 + i));
    for (uint32_t i = (uint32_t)(1 + argc), j = 0; i < o->nargs; i++, j++) envp[j] = (char *)S(o, i);
    environ = envp;                        /* execvp searches the container's PATH */
    char rec[12];                          /* "exec next": EOF after this, with no error, means exec'd */
    put32(rec, EXEC_NEXT); put32(rec + 4, 0); put32(rec + 8, 0);
    if (write(errfd, rec, sizeof rec) != (ssize_t)sizeof rec) return -1;
    untrap_signals();                      /* default dispositions, whoever forked us (an exec'd process: the monitor) */
    execvp(argv[0], argv);
    return -1;
}

/* Runs ops from index i in the container init (and, after FORK, the target). */
_Noreturn static void run(uint32_t i) {
    sigset_t all;
    for (; i < nops; i++) {
        const struct op *o = &ops[i];
        const char *operand = o->nargs ? S(o, 0) : "";
        int r = 0;
        switch (o->code) {
        case OP_WAIT_GO: { char c; r = read(gofd, &c, 1) == 1 ? 0 : -1; if (r) errno = EPIPE; break; }
        case OP_SYNC: {                        /* gofd stays open for these; CLOEXEC keeps it from the target */
            char rec[12], c;
            put32(rec, SYNC_AT); put32(rec + 4, i); put32(rec + 8, 0);
            r = write(errfd, rec, sizeof rec) == (ssize_t)sizeof rec && read(gofd, &c, 1) == 1 ? 0 : -1;
            if (r) errno = EPIPE;
            operand = "go";
            break; }
        case OP_MOVE_MOUNT: {
            int fd = (int)U(o, 0);
            operand = S(o, 1);
            int t = open_target(S(o, 1), 0, o->flags & F_NOT_PROCFS);
            r = t < 0 ? -1 : (int)syscall(SYS_move_mount, fd, "", t, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
            int e = errno; if (t >= 0) close(t); close(fd); errno = e;
            break; }
        case OP_RECV_MOUNT: operand = S(o, 1); r = recv_mount(o); break;
        case OP_OPEN_FILES: operand = "open request"; r = open_files(o); break;
        case OP_LAYER_OWNERS: r = layer_owners(o, &operand); break;
        case OP_REMOVE_TREE: r = remove_at(AT_FDCWD, S(o, 0), &operand, 0); break;
        case OP_MOUNT_SETATTR: r = do_mount_setattr(o); break;
        case OP_WRITE_FD: {
            int fd = (int)U(o, 0);
            r = write(fd, o->args[1].p, o->args[1].len) == (ssize_t)o->args[1].len ? 0 : -1;
            operand = S(o, 2);                 /* the file the fd stands for */
            int e = errno; close(fd); errno = e;
            break; }
        case OP_UNSHARE: r = unshare((int)U(o, 0)); break;
        case OP_MOUNT: operand = S(o, 1); r = do_mount(o); break;
        case OP_OPEN_ROOT: rootfd = open(S(o, 0), O_PATH | O_DIRECTORY | O_CLOEXEC); r = rootfd < 0 ? -1 : 0; break;
        case OP_MKDIR: r = mkdirs_in_root(S(o, 0), (mode_t)U(o, 1)); break;
        case OP_MKNOD: {
            char leaf[NAME_MAX + 1];
            int dfd = open_parent(S(o, 0), leaf, sizeof leaf);
            r = dfd < 0 ? -1 : mknodat(dfd, leaf, (mode_t)U(o, 1), makedev(U(o, 2), U(o, 3)));
            if (dfd >= 0) { int e = errno; close(dfd); errno = e; }
            break; }
        case OP_MKFILE: {
            const char *path = S(o, 0);
            char leaf[NAME_MAX + 1], parent[PATH_MAX];
            const char *slash = strrchr(path, '/');
            size_t pl = slash ? (size_t)(slash - path) : 0;
            if (pl >= sizeof parent) { errno = ENAMETOOLONG; r = -1; break; }
            memcpy(parent, path, pl); parent[pl] = 0;
            r = pl ? mkdirs_in_root(parent, 0755) : 0;
            int dfd = r < 0 ? -1 : open_parent(path, leaf, sizeof leaf);
            if (dfd < 0) { r = -1; break; }
            int fd = openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)U(o, 1));
            r = fd < 0 && errno != EEXIST ? -1 : 0;
            int e = errno; if (fd >= 0) close(fd); close(dfd); errno = e;
            break; }
        case OP_CHOWN: {
            char leaf[NAME_MAX + 1];
            int dfd = open_parent(S(o, 0), leaf, sizeof leaf);
            r = dfd < 0 ? -1 : fchownat(dfd, leaf, (uid_t)U(o, 1), (gid_t)U(o, 2), AT_SYMLINK_NOFOLLOW);
            if (dfd >= 0) { int e = errno; close(dfd); errno = e; }
            break; }
        case OP_SYMLINK: {
            char leaf[NAME_MAX + 1];
            operand = S(o, 1);
            int dfd = open_parent(S(o, 1), leaf, sizeof leaf);
            r = dfd < 0 ? -1 : symlinkat(S(o, 0), dfd, leaf);
            if (dfd >= 0) { int e = errno; close(dfd); errno = e; }
            break; }
        case OP_PIVOT_ROOT:
            /* pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only the new root. */
            /* the root's fd when open: in a user namespace the host path's parents may be closed to the init */
            r = rootfd >= 0 ? fchdir(rootfd) : chdir(S(o, 0));
            if (!r) r = (int)syscall(SYS_pivot_root, ".", ".");
            if (!r) r = umount2(".", MNT_DETACH);
            if (!r) r = chdir("/");
            if (rootfd >= 0) { close(rootfd); rootfd = -1; }
            break;
        case OP_MASK: r = do_mask(S(o, 0)); break;
        case OP_SETHOSTNAME: r = sethostname(S(o, 0), o->args[0].len); break;
        case OP_LOOPBACK_UP: operand = "lo"; r = loopback_up(); break;
        case OP_SETRLIMIT: {
            struct rlimit rl = { (rlim_t)U(o, 1), (rlim_t)U(o, 2) };
            r = setrlimit((int)U(o, 0), &rl); operand = S(o, 3); break; }
        case OP_CAP_BOUNDING: operand = "bounding set"; r = cap_bounding(U(o, 0)); break;
        case OP_KEEPCAPS: r = prctl(PR_SET_KEEPCAPS, U(o, 0), 0, 0, 0); operand = "PR_SET_KEEPCAPS"; break;
        case OP_SETGROUPS: {
            gid_t g[NGROUPS_MAX]; size_t n = o->nargs > NGROUPS_MAX ? NGROUPS_MAX : o->nargs;
            for (size_t k = 0; k < n; k++) g[k] = (gid_t)U(o, (uint32_t)k);
            r = setgroups(n, g); operand = "groups"; break; }
        case OP_SETGID: r = setresgid((gid_t)U(o, 0), (gid_t)U(o, 0), (gid_t)U(o, 0)); operand = "gid"; break;
        case OP_SETUID: r = setresuid((uid_t)U(o, 0), (uid_t)U(o, 0), (uid_t)U(o, 0)); operand = "uid"; break;
        case OP_CAPSET: r = cap_set(U(o, 0), U(o, 1), U(o, 2)); operand = "capabilities"; break;
        case OP_AMBIENT: r = ambient(U(o, 0)); operand = "ambient capabilities"; break;
        case OP_NO_NEW_PRIVS: r = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); operand = "no_new_privs"; break;
        case OP_DUMPABLE: r = prctl(PR_SET_DUMPABLE, U(o, 0), 0, 0, 0); operand = "dumpable"; break;
        case OP_SETSID: r = setsid() < 0 ? -1 : 0; operand = "session"; break;
        case OP_CHDIR: r = chdir(S(o, 0)); break;
        case OP_UMASK: umask((mode_t)U(o, 0)); operand = "umask"; break;
        case OP_PDEATHSIG: r = prctl(PR_SET_PDEATHSIG, U(o, 0), 0, 0, 0); operand = "pdeathsig"; break;
        case OP_FORK: {
            trap_signals(&all);
            pid_t p = fork();
            if (p < 0) { r = -1; operand = "target"; break; }
            if (p == 0) { untrap_signals(); close(statusfd); break; }
            target = p;
            if (ttyfd >= 0) { close(ttyfd); ttyfd = -1; }  /* the target's now */
            if (notifsock >= 0) { close(notifsock); notifsock = -1; }
            i = (uint32_t)U(o, 0) - 1;         /* the parent continues at its own tail */
            break; }
        case OP_EXEC: operand = S(o, 1); r = do_exec(o); break;
        case OP_TTY_OPEN: r = tty_open(o, &operand); break;
        case OP_TTY_ATTACH: operand = "terminal"; r = tty_attach(U(o, 0)); break;
        case OP_SECCOMP: r = load_seccomp(o); break;
        case OP_SETNS: {
            int fd = (int)U(o, 0);
            operand = S(o, 2);
            r = U(o, 1) ? setns(fd, (int)U(o, 1)) : 0;
            int e = errno; close(fd); errno = e;
            break; }
        case OP_REAP:
            close(errfd);                      /* init's part succeeded; EOF now waits only for the exec */
            drop_plan();
            reap();
        default: errno = EINVAL; r = -1; operand = "unknown op"; break;
        }
        if (r < 0 && !((o->flags & F_OPTIONAL) && errno == ENOENT)) fail(i, errno, operand);
    }
    _exit(0);
}

/* ---- monitor ------------------------------------------------------------ */

static int send_msg(const void *buf, size_t n) { return send(3, buf, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1; }

static int send_error(uint32_t index, int err, const char *operand, size_t n) {
    char m[4096];
    if (n > sizeof m - 9) n = sizeof m - 9;
    m[0] = 'E'; put32(m + 1, index); put32(m + 5, (uint32_t)err); memcpy(m + 9, operand, n);
    return send_msg(m, 9 + n);
}

struct clone_args_ { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup; };

/* The clone of an init whose namespaces belong to an existing user namespace (a rootless runtime's, whose maps
 * were written once for all its containers). setns(CLONE_NEWUSER) moves the caller for good, and the monitor
 * must stay in the host's (its exit command runs a host tool as the user), so a short-lived child joins it and
 * clones the init with CLONE_PARENT: the init is the monitor's child as with clone3 here, and the namespaces it
 * is cloned with are owned by the joined one. The child reports the init's pid, or -errno and which call
 * failed, on a pipe and exits; the monitor reaps it and opens the init's pidfd (its child, not yet reaped: the
 * pid cannot have been reused). Returns as clone3 does: 0 in the init, its pid in the monitor, -1 with errno
 * and *what naming the call on failure. */
static long clone_in_userns(const struct clone_args_ *ca, int usernsfd, int *pidfd, const char **what) {
    int p[2];
    if (pipe2(p, O_CLOEXEC)) { *what = "pipe2"; return -1; }
    pid_t mid = fork();
    if (mid < 0) { int e = errno; close(p[0]); close(p[1]); errno = e; *what = "fork"; return -1; }
    if (mid == 0) {
        int32_t rep[2] = { 0, 0 };
        struct clone_args_ c = *ca;
        c.flags = (c.flags & ~(uint64_t)CLONE_PIDFD) | CLONE_PARENT;
        c.pidfd = 0;
        c.exit_signal = 0;                     /* CLONE_PARENT: the init's exit signal is this child's (SIGCHLD) */
        if (setns(usernsfd, CLONE_NEWUSER) < 0) {
            rep[0] = -errno; rep[1] = 1;
        } else {
            long pid = syscall(SYS_clone3, &c, sizeof c);
            if (pid == 0) { close(p[0]); close(p[1]); return 0; }
            rep[0] = pid < 0 ? -errno : (int32_t)pid; rep[1] = 2;
        }
        if (write(p[1], rep, sizeof rep) != sizeof rep) { /* the monitor reads EOF: reported as EPIPE */ }
        _exit(0);
    }
    close(p[1]);
    int32_t rep[2] = { -EPIPE, 2 };
    ssize_t n;
    while ((n = read(p[0], rep, sizeof rep)) < 0 && errno == EINTR) {}
    close(p[0]);
    while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {}
    if (n != (ssize_t)sizeof rep) { rep[0] = -EPIPE; rep[1] = 2; }
    if (rep[0] <= 0) {
        errno = rep[0] < 0 ? -rep[0] : EPIPE;
        *what = rep[1] == 1 ? "setns(CLONE_NEWUSER)" : "clone3";
        return -1;
    }
    *pidfd = (int)syscall(SYS_pidfd_open, (pid_t)rep[0], 0);
    if (*pidfd < 0) {
        int e = errno;
        kill((pid_t)rep[0], SIGKILL);          /* its child: unreaped, so still the init */
        while (waitpid((pid_t)rep[0], NULL, 0) < 0 && errno == EINTR) {}
        errno = e; *what = "pidfd_open";
        return -1;
    }
    return rep[0];
}

/* Closes every fd above keep: fds the JVM holds without CLOEXEC must never reach the container.
 * close_range (5.9) does it in one call; older kernels list /proc/self/fd, which names every open
 * fd however high, and only without /proc is every number below the fd limit tried. */
static void close_fds_above(int keep) {
#ifndef BERTH_INIT_NO_CLOSE_RANGE            /* test build: exercises the fallback on any kernel */
    if (syscall(SYS_close_range, keep + 1, ~0U, 0) == 0) return;
#endif
    for (;;) {
        int d = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d < 0) break;
        int closed = 0;
        char buf[4096]; long n;
        while ((n = syscall(SYS_getdents64, d, buf, sizeof buf)) > 0) {
            for (long off = 0; off < n;) {
                struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *e =
                    (void *)(buf + off);
                off += e->reclen;
                int fd = atoi(e->name);            /* "." and ".." give 0 */
                if (fd > keep && fd != d) { close(fd); closed++; }
            }
        }
        close(d);
        if (!closed) return;                   /* a second pass confirms nothing is left */
    }
    struct rlimit rl;
    rlim_t limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (rl.rlim_max > rl.rlim_cur ? rl.rlim_max : rl.rlim_cur) : 65536;
    if (limit > (1 << 20)) limit = 1 << 20;    /* the kernel's default nr_open */
    for (rlim_t fd = (rlim_t)keep + 1; fd < limit; fd++) close((int)fd);
}

/* Receives the plan: a u32 length, then the bytes, over as many packets as it takes; into a mapping
 * of its own (with a byte for parse_plan's last NUL), given back by drop_plan(). */
static char *receive_plan(size_t *len) {
    uint32_t total;
    ssize_t n = recv(3, &total, 4, MSG_PEEK | MSG_TRUNC);   /* the first packet's size, and the total */
    if (n < 4 || n > PLAN_CHUNK || total > PLAN_MAX || (size_t)n - 4 > total) return NULL;
    plan_map_len = (size_t)total + 5;
    plan_map = mmap(NULL, plan_map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (plan_map == MAP_FAILED) { plan_map = NULL; return NULL; }
    if (recv(3, plan_map, (size_t)n, 0) != n) return NULL;
    char *plan = plan_map + 4;
    size_t got = (size_t)n - 4;
    while (got < total) {
        n = recv(3, plan + got, total - got < PLAN_CHUNK ? total - got : PLAN_CHUNK, MSG_TRUNC);
        if (n <= 0 || (size_t)n > total - got) return NULL;
        got += (size_t)n;
    }
    *len = total;
    return plan;
}

/* EXIT_COMMAND: the argv and environment the JVM handed, started once the container ended and its
 * "exit" record is in place, as conmon's exit command is. The command outlives the monitor and is
 * nobody's child but init's (double fork), in a session of its own, with stdin on /dev/null, stdout
 * and stderr appended to the state dir's "exit-command.log" (the command bounds it), every other fd closed
 * and only the environment the plan gives. The monitor does not wait for it. */
static char **exit_argv, **exit_envp;          /* keep_exit_command(): outlives drop_plan() */

/* The EXIT_COMMAND's argv and environment copied out of the plan into one allocation: the plan is
 * dropped (drop_plan) once the monitor supervises, long before the command runs. */
static int keep_exit_command(const struct op *o) {
    uint64_t argc = U(o, 0);
    size_t n = o->nargs - 1, bytes = 0;         /* argc strings, then the environment's */
    for (uint32_t i = 1; i < o->nargs; i++) bytes += o->args[i].len + 1;
    char **v = malloc((n + 2) * sizeof(char *) + bytes);
    if (!v) return -1;
    char *p = (char *)(v + n + 2);
    uint32_t j = 0;
    for (uint32_t i = 1; i < o->nargs; i++) {
        if (i == 1 + argc) v[j++] = NULL;       /* argv's end, then the environment */
        memcpy(p, o->args[i].p, o->args[i].len);
        p[o->args[i].len] = 0;
        v[j++] = p;
        p += o->args[i].len + 1;
    }
    if (1 + argc == o->nargs) v[j++] = NULL;    /* an empty environment */
    v[j] = NULL;
    exit_argv = v;
    exit_envp = v + argc + 1;
    return 0;
}

static void run_exit_command(int statedir) {
    pid_t p = fork();
    if (p < 0) return;
    if (p > 0) { while (waitpid(p, NULL, 0) < 0 && errno == EINTR) {} return; }
    if (fork() != 0) _exit(0);
    setsid();
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int log = openat(statedir, "exit-command.log", O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (null < 0 || dup2(null, 0) < 0 || dup2(log >= 0 ? log : null, 1) < 0 || dup2(log >= 0 ? log : null, 2) < 0)
        _exit(127);
    close_fds_above(2);
    untrap_signals();
    execve(exit_argv[0], exit_argv, exit_envp);
    dprintf(2, "berth-init: exit command: execve(%s): %s\n", exit_argv[0], strerror(errno));
    _exit(127);
}

int main(int argc, char **argv) {
    int keep = argc > 1 ? atoi(argv[1]) : 3;
    if (keep < 3) keep = 3;
    close_fds_above(keep);
    /* A write to a pipe whose reader is gone (an init killed before go) must fail with EPIPE,
     * not kill the monitor. Ignored dispositions survive exec: the target resets every signal. */
    signal(SIGPIPE, SIG_IGN);

    size_t planlen = 0;
    char *buf = receive_plan(&planlen);
    uint32_t at = 0;                           /* the CLONE op: 0, 1 after ENTER or MONITOR, 2 after EXIT_COMMAND */
    if (!buf || parse_plan(buf, planlen) < 0
            || ((ops[0].code == OP_ENTER || ops[0].code == OP_MONITOR) && (at = 1) >= nops)
            || (ops[0].code == OP_MONITOR && ops[1].code == OP_EXIT_COMMAND && (at = 2) >= nops)
            || ops[at].code != OP_CLONE) {
        send_error(0, EINVAL, "plan", 4);
        return 1;
    }
    const struct op *mon = ops[0].code == OP_MONITOR ? &ops[0] : NULL;
    uint64_t mflags = mon ? U(mon, 0) : 0;
    int statedir = mon ? (int)U(mon, 1) : -1, logdir = mon ? (int)U(mon, 2) : -1;
    const struct op *exitcmd = at == 2 ? &ops[1] : NULL;
    if (exitcmd && (U(exitcmd, 0) == 0 || U(exitcmd, 0) + 1 > exitcmd->nargs || statedir < 0)) {
        send_error(1, EINVAL, "exit command", 12);
        return 1;
    }
    if (exitcmd && keep_exit_command(exitcmd) < 0) { send_error(1, ENOMEM, "exit command", 12); return 1; }
    if (mflags & MON_DETACH) {
        /* The container is to outlive the JVM: the monitor leaves the JVM's process tree (the process
         * the JVM spawned exits now, and the JVM reaps it) and its session, so that neither the JVM's
         * end nor a hangup of its terminal reaches the monitor; it reports its own pid with 'C'. */
        pid_t p = fork();
        if (p < 0) { send_error(0, errno, "fork", 4); return 1; }
        if (p > 0) _exit(0);
        setsid();
    }
    int logp[2][2] = { { -1, -1 }, { -1, -1 } };   /* the container's stdout and stderr, read by the monitor */
    char *readbuf = NULL;                      /* READ_MAX, mapped with the log's own buffers */
    if (mflags & MON_LOG) {
        int lo = log_open(logdir, U(mon, 3), U(mon, 4));
        if (lo == -2) { send_error(0, errno, "mmap of the log buffers", 23); return 1; }
        if (lo < 0) { send_error(0, errno, "container.log", 13); return 1; }
        readbuf = mmap(NULL, READ_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (readbuf == MAP_FAILED) { send_error(0, errno, "mmap of the log buffers", 23); return 1; }
        for (int s = 0; s < 2; s++) {
            if (pipe2(logp[s], O_CLOEXEC) || dup2(logp[s][1], s + 1) < 0) {   /* dup2: not CLOEXEC */
                send_error(0, errno, "pipe2", 5); return 1;
            }
            close(logp[s][1]);
        }
    }
    int nsfd = -1;
    if (ops[0].code == OP_ENTER) {
        /* Exec into a running container: this process enters its namespaces (the PID one only for
         * its children) and clones the process that runs the rest of the plan. Non-dumpable first, so
         * that nothing of the container can ptrace it or read its /proc entries (CVE-2016-9962); the
         * root and cwd are the container's after setns(CLONE_NEWNS), and chdir("/") makes sure. */
        nsfd = (int)U(&ops[0], 0);
        int rootfd = (int)U(&ops[0], 2);
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || setns(nsfd, (int)U(&ops[0], 1)) < 0) {
            send_error(0, errno, "", 0);
            return 1;
        }
        /* The root of the namespace is not always the init's (a runtime in a chroot): the init's own. */
        if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
            send_error(0, errno, "chroot to the init's root", 25);
            return 1;
        }
        close(rootfd);
    }
    int errp[2], gop[2], stp[2], tsp[2] = { -1, -1 };
    if (pipe2(errp, O_CLOEXEC) || pipe2(gop, O_CLOEXEC) || pipe2(stp, O_CLOEXEC)) {
        send_error(0, errno, "pipe2", 5); return 1;
    }
    uint32_t ttyop = 0;                        /* the TTY_OPEN op, if any: its master comes back on tsp */
    for (uint32_t i = 1; i < nops && !ttyop; i++) if (ops[i].code == OP_TTY_OPEN) ttyop = i;
    if (ttyop && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tsp)) {
        send_error(0, errno, "socketpair", 10); return 1;
    }
    uint32_t notifop = 0;                      /* a SECCOMP op with a listener: its fd comes back on nsp */
    int nsp[2] = { -1, -1 };
    for (uint32_t i = 1; i < nops && !notifop; i++)
        if (ops[i].code == OP_SECCOMP && (U(&ops[i], 1) & SECCOMP_FILTER_FLAG_NEW_LISTENER)) notifop = i;
    if (notifop && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, nsp)) {
        send_error(0, errno, "socketpair", 10); return 1;
    }
    int pidfd = -1;
    uint64_t flags = U(&ops[at], 0);
    int64_t cgfd = (int64_t)U(&ops[at], 1);
    struct clone_args_ ca = { .flags = flags | CLONE_PIDFD, .pidfd = (uint64_t)(uintptr_t)&pidfd, .exit_signal = SIGCHLD };
    if (cgfd >= 0) { ca.flags |= CLONE_INTO_CGROUP; ca.cgroup = (uint64_t)cgfd; }
    int usernsfd = ops[at].nargs > 2 ? (int)(int64_t)U(&ops[at], 2) : -1;
    const char *what = cgfd >= 0 ? "clone3(CLONE_INTO_CGROUP)" : "clone3";
    long pid = usernsfd >= 0 ? clone_in_userns(&ca, usernsfd, &pidfd, &what) : syscall(SYS_clone3, &ca, sizeof ca);
    if (pid < 0) {
        send_error(at, errno, what, strlen(what)); return 1;
    }
    if (usernsfd >= 0) close(usernsfd);        /* both sides: the namespace is joined, or entered by the init */
    if (pid == 0) {
        close(3); close(errp[0]); close(gop[1]); close(stp[0]);
        if (cgfd >= 0) close((int)cgfd);
        if (ttyop) close(tsp[0]);
        if (notifop) close(nsp[0]);
        if (mon) {                             /* host directories: never inside the container */
            if (statedir >= 0) close(statedir);
            if (logdir >= 0) close(logdir);
            if (logp[0][0] >= 0) { close(logp[0][0]); close(logp[1][0]); }
            if (mflags & MON_LOG) { log_leave(); munmap(readbuf, READ_MAX); }   /* the log file is a host file */
        }
        errfd = errp[1]; gofd = gop[0]; statusfd = stp[1]; ttysock = tsp[1]; notifsock = nsp[1];
        run(at + 1);                           /* an entered process: its SETNS op closes nsfd */
    }
    close(errp[1]); close(gop[0]); close(stp[1]);
    if (nsfd >= 0) close(nsfd);
    if (ttyop) { close(tsp[1]); ttysock = tsp[0]; }
    if (notifop) { close(nsp[1]); notifsock = nsp[0]; }
    if (cgfd >= 0) close((int)cgfd);
    /* The fds the plan hands to the init's ops (a cgroup.procs, a detached mount tree, a pidfd), which
     * each op closes in the init: the monitor's copies are of no use to it, and a detached container's
     * monitor would otherwise hold them (a tree keeps its host mount busy) for the container's life. */
    for (uint32_t i = at + 1; i < nops; i++) {
        uint32_t c = ops[i].code;
        int fd = (int)U(&ops[i], 0);
        if ((c == OP_WRITE_FD || c == OP_MOVE_MOUNT || c == OP_SETNS || c == OP_RECV_MOUNT) && fd > 3 && fd != statedir && fd != logdir)
            close(fd);
    }

    if (mflags & MON_LOG) {                    /* the pipes' write ends are the container's only */
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) { dup2(null, 1); dup2(null, 2); close(null); }
    }
    char m[16];
    m[0] = 'C'; put32(m + 1, (uint32_t)pid); put32(m + 5, (uint32_t)getpid());
    int ok = send_msg(m, 9) == 0 && recv(3, m, sizeof m, 0) == 1 && m[0] == 'G';
    if (!ok) {                                 /* the JVM went away or refused: nothing may run */
        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        waitpid((pid_t)pid, NULL, 0);
        return 1;
    }
    /* EPIPE (SIGPIPE is ignored) when the init died before go: its error record, if it failed an
     * op, or else its end, is then reported from the error pipe below like any other. */
    if (write(gop[1], "G", 1) != 1) { /* reported below */ }

    /* The error pipe reaches EOF when the target exec'd and init entered REAP, or when both died.
     * Records: sync points (relayed to the JVM as they come), the target's "exec next"
     * announcement, or an error (first one wins). */
    char rec[12 + 3072]; size_t got = 0; ssize_t r;   /* the announcement, then at most one error record */
    while ((r = read(errp[0], rec + got, sizeof rec - got)) > 0) {
        got += (size_t)r;
        uint32_t idx, at;
        while (got >= 12 && (memcpy(&idx, rec, 4), idx == SYNC_AT)) {
            memcpy(&at, rec + 4, 4);
            m[0] = 'S'; put32(m + 1, at);
            if (send_msg(m, 5) != 0 || recv(3, m, sizeof m, 0) != 1 || m[0] != 'G' || write(gop[1], "G", 1) != 1) {
                syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);   /* the JVM refused or went away */
                waitpid((pid_t)pid, NULL, 0);
                return 1;
            }
            got -= 12; memmove(rec, rec + 12, got);
        }
    }
    close(errp[0]);
    close(gop[1]);
    int announced = 0;
    for (size_t at = 0; at + 12 <= got;) {
        uint32_t idx, err, len;
        memcpy(&idx, rec + at, 4); memcpy(&err, rec + at + 4, 4); memcpy(&len, rec + at + 8, 4);
        if (len > got - at - 12) len = (uint32_t)(got - at - 12);
        if (idx == EXEC_NEXT) { announced = 1; at += 12; continue; }
        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        waitpid((pid_t)pid, NULL, 0);
        send_error(idx, (int)err, rec + at + 12, len);
        return 1;
    }
    if (!announced) {                          /* killed before it could exec: no error, no exec */
        /* The init reaps a dead target and exits with its status; give it the time to, so
         * that the report names what killed the container rather than this cleanup. */
        int st = 0, tst;
        struct pollfd done = { pidfd, POLLIN, 0 };
        if (poll(&done, 1, 5000) != 1) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        waitpid((pid_t)pid, &st, 0);
        if (read(stp[0], &tst, sizeof tst) == sizeof tst) st = tst; /* the target died first */
        m[0] = 'K'; put32(m + 1, (uint32_t)st);
        send_msg(m, 5);
        return 1;
    }
    if (ttysock >= 0) {                        /* queued before the fork, so before the exec */
        int master = recv_fd(ttysock);
        if (master < 0 || send_fd(3, 'T', master) < 0) {
            int e = master < 0 && errno == EAGAIN ? EPROTO : errno;
            syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
            waitpid((pid_t)pid, NULL, 0);
            send_error(ttyop, e, "pty master", 10);
            return 1;
        }
        close(master);
    }
    if (notifsock >= 0) {                      /* queued before the exec, as the pty master is */
        int listener = recv_fd(notifsock);
        if (listener < 0 || send_fd(3, 'N', listener) < 0) {
            int e = listener < 0 && errno == EAGAIN ? EPROTO : errno;
            syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
            waitpid((pid_t)pid, NULL, 0);
            send_error(notifop, e, "seccomp listener", 16);
            return 1;
        }
        close(listener);
        close(notifsock);
    }
    m[0] = 'X';
    send_msg(m, 1);
    drop_plan();                               /* nothing below reads it */

    /* Supervise: the container ends, or the JVM goes away (then the container goes too, unless it is
     * detached); meanwhile its output is captured. */
    struct pollfd pf[4] = { { pidfd, POLLIN, 0 }, { 3, POLLIN, 0 }, { logp[0][0], POLLIN, 0 }, { logp[1][0], POLLIN, 0 } };
    int touched = 0;                           /* the buffers hold pages: given back after LOG_IDLE_MS of quiet */
    for (;;) {
        int ready = poll(pf, 4, touched ? LOG_IDLE_MS : -1);
        if (ready < 0) { if (errno == EINTR) continue; break; }
        if (ready == 0) { log_idle(); log_release(readbuf, READ_MAX); touched = 0; continue; }
        for (int s = 0; s < 2; s++) {
            if (!pf[2 + s].revents) continue;
            ssize_t n = read(pf[2 + s].fd, readbuf, READ_MAX);
            if (n > 0) { log_data(s + 1, readbuf, (size_t)n); touched = 1; continue; }
            if (n < 0 && errno == EINTR) continue;
            log_flush(s + 1);                  /* every writer is gone */
            close(pf[2 + s].fd); pf[2 + s].fd = -1;
        }
        if (pf[0].revents) break;
        if (pf[1].revents) {
            char c;
            if (recv(3, &c, 1, MSG_DONTWAIT) <= 0) {
                if (!(mflags & MON_DETACH)) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                pf[1].fd = -1;
            }
        }
    }
    for (int s = 0; s < 2; s++) {              /* what is still in the pipes; a process left outside (no PID
                                                  namespace of its own) keeps a write end, so never block */
        if (pf[2 + s].fd < 0) continue;
        fcntl(pf[2 + s].fd, F_SETFL, O_NONBLOCK);
        ssize_t n;
        while ((n = read(pf[2 + s].fd, readbuf, READ_MAX)) > 0) log_data(s + 1, readbuf, (size_t)n);
        log_flush(s + 1);
    }
    int st = 0, tst;
    waitpid((pid_t)pid, &st, 0);
    if (read(stp[0], &tst, sizeof tst) == sizeof tst) st = tst; /* the target's own status */
    if (statedir >= 0) {                       /* for a JVM that is gone: written, then renamed into place */
        int fd = openat(statedir, "exit.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0) {
            dprintf(fd, "%d\n", st);
            close(fd);
            renameat(statedir, "exit.tmp", statedir, "exit");
        }
        if (exit_argv) run_exit_command(statedir);
    }
    m[0] = 'W'; put32(m + 1, (uint32_t)st);
    send_msg(m, 5);
    return 0;
}
