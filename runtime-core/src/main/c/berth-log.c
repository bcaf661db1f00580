/*
 * berth-log: the monitor's log capture (part of the berth-init binary). Mechanism only: the JVM's
 * plan says where (a directory fd), how large a file may grow and how many files are kept.
 *
 * Each line a stream writes becomes one record, in the json-file format docker writes:
 *   {"log":"text\n","stream":"stdout","time":"2026-12-02T01:02:03.123456789Z"}
 * A line longer than LINE_MAX bytes is written as several records; all but the last have no
 * trailing "\n" in "log" (a partial line), which is how a reader joins them. Bytes that are not
 * UTF-8 become U+FFFD, as docker's; a chunk is never cut inside a UTF-8 sequence.
 * Rotation: before a record would take the file past max bytes, container.log becomes
 * container.log.1 (.1 becomes .2, ...; the oldest beyond max files is gone), and a new
 * container.log is started. Records are gathered and written whole (one write(2) to an O_APPEND file
 * for all the lines one read of the pipe gave), so a reader never sees half a record followed by
 * another, and a stream of short lines costs a write per pipe read, not per line.
 * Memory: the line and record buffers are anonymous mappings, touched only as far as output reaches;
 * log_idle() gives their pages back once the pipes went quiet (a container that once wrote a burst
 * does not keep 128 KiB resident for the rest of its life), keeping only the unfinished lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "berth-log.h"

enum { LINE_MAX_ = 16384 };

static int logdir = -1;
static int logfd = -1;
static uint64_t max_bytes, max_files, written;
enum { OUT_MAX = LINE_MAX_ * 6 + 128 };  /* whole records, built in place and written with one write(2) per
                                           read of the pipe; room for one record whose every byte is
                                           escaped as \u00XX */
static char *line[2];                   /* LINE_MAX_ each, then out: one mapping (log_open) */
static size_t pending[2];
static char *out;
static size_t outlen;

static const char *const NAMES[] = { "container.log", "stdout", "stderr" };

static void flush_out(void);

static int open_current(void) {
    logfd = openat(logdir, NAMES[0], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (logfd < 0) return -1;
    struct stat st;
    written = fstat(logfd, &st) == 0 ? (uint64_t)st.st_size : 0;
    return 0;
}

int log_open(int dirfd, uint64_t maxbytes, uint64_t maxfiles) {
    char *m = mmap(NULL, 2 * LINE_MAX_ + OUT_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return -2;
    line[0] = m; line[1] = m + LINE_MAX_; out = m + 2 * LINE_MAX_;
    logdir = dirfd;
    max_bytes = maxbytes;
    max_files = maxfiles ? maxfiles : 1;
    return open_current();
}

static void rotate(void) {
    char from[48], to[48];
    close(logfd);
    logfd = -1;
    if (max_files <= 1) {                      /* one file: it starts over */
        unlinkat(logdir, NAMES[0], 0);
    } else {
        for (uint64_t i = max_files - 1; i >= 1; i--) {
            snprintf(to, sizeof to, "%s.%llu", NAMES[0], (unsigned long long)i);
            if (i == 1) snprintf(from, sizeof from, "%s", NAMES[0]);
            else snprintf(from, sizeof from, "%s.%llu", NAMES[0], (unsigned long long)(i - 1));
            renameat(logdir, from, logdir, to);   /* a missing one (few rotations yet) is ENOENT */
        }
    }
    open_current();                            /* failing, later records are dropped: nothing to report them to */
}

/* Length of a valid UTF-8 sequence at p (at most n bytes), 0 when invalid, -1 when cut short. */
static int utf8_len(const unsigned char *p, size_t n) {
    unsigned char c = p[0];
    int len; unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) { len = 3; if (c == 0xe0) lo = 0xa0; if (c == 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; if (c == 0xf0) lo = 0x90; if (c == 0xf4) hi = 0x8f; }
    else return 0;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n) return -1;
        unsigned char b = p[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xbf)) return 0;
    }
    return len;
}

static size_t put(char *rec, size_t at, const char *s) {
    size_t n = strlen(s);
    memcpy(rec + at, s, n);
    return at + n;
}

/* The time of the records of one read of a pipe: they came at once (clock and formatting once a read). */
static char stamp[48];

static void take_time(void) {
    struct timespec ts; struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(stamp, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof stamp - n, ".%09ldZ", ts.tv_nsec);
}

/* Writes one record of n bytes of stream s. */
static void emit(int s, const char *data, size_t n) {
    static const char hex[] = "0123456789abcdef";
    if (outlen + n * 6 + 128 > OUT_MAX) flush_out();   /* room for the worst case: built in place */
    char *rec = out + outlen;
    size_t at = put(rec, 0, "{\"log\":\"");
    const unsigned char *p = (const unsigned char *)data;
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {   /* the common case: a run of plain ASCII */
            size_t j = i + 1;
            while (j < n && p[j] >= 0x20 && p[j] < 0x7f && p[j] != '"' && p[j] != '\\') j++;
            memcpy(rec + at, p + i, j - i); at += j - i; i = j;
            continue;
        }
        if (c == '"' || c == '\\') { rec[at++] = '\\'; rec[at++] = (char)c; i++; continue; }
        if (c == '\n') { at = put(rec, at, "\\n"); i++; continue; }
        if (c == '\r') { at = put(rec, at, "\\r"); i++; continue; }
        if (c == '\t') { at = put(rec, at, "\\t"); i++; continue; }
        if (c < 0x20 || c == 0x7f) {
            at = put(rec, at, "\\u00"); rec[at++] = hex[c >> 4]; rec[at++] = hex[c & 15]; i++; continue;
        }
        int len = utf8_len(p + i, n - i);
        if (len <= 0) { at = put(rec, at, "\\ufffd"); i++; continue; }
        memcpy(rec + at, p + i, (size_t)len); at += (size_t)len; i += (size_t)len;
    }
    at = put(rec, at, "\",\"stream\":\"");
    at = put(rec, at, NAMES[s]);
    at = put(rec, at, "\",\"time\":\"");
    at = put(rec, at, stamp);
    at = put(rec, at, "\"}\n");
    if (logfd >= 0 && written + outlen > 0 && written + outlen + at > max_bytes) {
        flush_out();                           /* the records before this one, to the old file */
        rotate();
        memmove(out, rec, at);                 /* this one starts the new file */
    }
    outlen += at;
}

/* Writes the records gathered so far: whole records only, so a reader never sees half of one. */
static void flush_out(void) {
    size_t done = 0;
    while (logfd >= 0 && done < outlen) {
        ssize_t w = write(logfd, out + done, outlen - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;                     /* a full disk: these records are lost, later ones tried */
        done += (size_t)w;
        written += (uint64_t)w;
    }
    outlen = 0;
}

/* Where a chunk of a line too long for the buffer may end: not inside a UTF-8 sequence. */
static size_t chunk_end(const char *buf, size_t n) {
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        int len = utf8_len((const unsigned char *)buf + n - back, back);
        if (len == -1) return n - back;         /* a sequence cut short at the end: next chunk */
        if (len != 0) break;
    }
    return n;
}

/* Appends what a stream produced; writes every complete line, and full buffers as partial lines. */
void log_data(int s, const char *data, size_t n) {
    s = s == 2 ? 2 : 1;
    take_time();
    char *buf = line[s - 1];
    while (n > 0) {
        size_t take = LINE_MAX_ - pending[s - 1];
        if (take > n) take = n;
        memcpy(buf + pending[s - 1], data, take);
        pending[s - 1] += take; data += take; n -= take;
        size_t start = 0;
        for (size_t i = 0; i < pending[s - 1]; i++) {
            if (buf[i] == '\n') { emit(s, buf + start, i + 1 - start); start = i + 1; }
        }
        size_t left = pending[s - 1] - start;
        if (start == 0 && left == LINE_MAX_) {  /* no newline in a full buffer: a partial record */
            size_t end = chunk_end(buf, left);
            emit(s, buf, end);
            start = end; left -= end;
        }
        memmove(buf, buf + start, left);
        pending[s - 1] = left;
    }
    flush_out();
}

/* The stream ended (or the container did): what is left of its last line is written as it is. */
void log_flush(int s) {
    s = s == 2 ? 2 : 1;
    take_time();
    if (pending[s - 1]) emit(s, line[s - 1], pending[s - 1]);
    pending[s - 1] = 0;
    flush_out();
}

/* Gives back the whole pages of [p, p + n) (they read as zeros again when next touched). */
void log_release(char *p, size_t n) {
    uintptr_t from = ((uintptr_t)p + 4095) & ~(uintptr_t)4095, to = ((uintptr_t)p + n) & ~(uintptr_t)4095;
    if (to > from) madvise((void *)from, to - from, MADV_DONTNEED);
}

/* The pipes went quiet: every page of the buffers is given back but those of unfinished lines. */
void log_idle(void) {
    if (!out) return;
    flush_out();
    for (int s = 0; s < 2; s++) log_release(line[s] + pending[s], LINE_MAX_ - pending[s]);
    log_release(out, OUT_MAX);
}

/* In the container's init, right after the clone: the log file and the buffers are the monitor's
 * alone; the init must hold no fd of a host file, and no pages it will never use. */
void log_leave(void) {
    if (logfd >= 0) close(logfd);
    logfd = -1;
    if (line[0]) munmap(line[0], 2 * LINE_MAX_ + OUT_MAX);
    line[0] = line[1] = out = NULL;
}
