/* The monitor's log capture (berth-log.c): records of the container's stdout and stderr. */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H
#include <stddef.h>
#include <stdint.h>

/* Starts writing dirfd/container.log (created 0600); returns -1 with errno when it cannot be opened,
 * -2 when its buffers cannot be mapped. */
int log_open(int dirfd, uint64_t max_bytes, uint64_t max_files);
/* n bytes stream s (1 stdout, 2 stderr) wrote. */
void log_data(int s, const char *data, size_t n);
/* Stream s ended: its unfinished last line is written as a partial record. */
void log_flush(int s);
/* The pipes went quiet: the buffers' pages are given back (all but those of unfinished lines). */
void log_idle(void);
/* Gives back the whole pages within [p, p + n) of an anonymous mapping (madvise MADV_DONTNEED). */
void log_release(char *p, size_t n);
/* The clone that becomes the container's init: closes the log file and unmaps the buffers. */
void log_leave(void);
#endif
