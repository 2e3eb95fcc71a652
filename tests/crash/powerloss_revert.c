/*
 * powerloss_revert.c: simulate the power loss the shim (powerloss.c) has been
 * recording for -- roll every watched file back to its content at its last
 * fsync/fdatasync. Run after the process was killed with SIGKILL, before
 * anything opens the files again. Test code only.
 *
 *   powerloss_revert UNDO_LOG     prints "reverted N writes in M files ..."
 *
 * For each file, the records after its last sync marker are applied in
 * reverse order: a write's old bytes go back and the size it had before is
 * restored; a truncation's cut bytes come back. A record cut short at the
 * end of the log (the kill landed while it was written) never had its data
 * write and is ignored. Exit 0 on success, 1 on an I/O error, 2 on a log
 * that is not an undo log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "powerloss.h"

struct rec {
    struct powerloss_rec h;
    const char *path; /* into the log buffer, not NUL-terminated */
    const char *old;  /* old content, h.old_len bytes */
};

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Parse the log into recs; returns the count, or -1 if it is not an undo log. */
static long parse(const char *buf, size_t len, struct rec **out)
{
    size_t cap = 1024, n = 0, pos = 0;
    struct rec *r = malloc(cap * sizeof *r);
    while (pos + sizeof(struct powerloss_rec) <= len) {
        struct powerloss_rec h;
        memcpy(&h, buf + pos, sizeof h);
        if (h.magic != POWERLOSS_MAGIC || h.kind < POWERLOSS_WRITE || h.kind > POWERLOSS_SYNC) {
            free(r);
            return -1;
        }
        size_t need = sizeof h + h.path_len + h.old_len;
        if (pos + need > len)
            break; /* cut short by the kill: its data write never happened */
        if (n == cap)
            r = realloc(r, (cap *= 2) * sizeof *r);
        r[n].h = h;
        r[n].path = buf + pos + sizeof h;
        r[n].old = r[n].path + h.path_len;
        n++;
        pos += need;
    }
    *out = r;
    return (long)n;
}

static int same_path(const struct rec *a, const struct rec *b)
{
    return a->h.path_len == b->h.path_len && memcmp(a->path, b->path, a->h.path_len) == 0;
}

/* Undo one record on fd. Returns 0 or -1. */
static int undo(int fd, const struct rec *r)
{
    /* Both kinds keep the old bytes of [off, off + old_len). */
    if (r->h.old_len && pwrite(fd, r->old, r->h.old_len, (off_t)r->h.off) != (ssize_t)r->h.old_len)
        return -1;
    return ftruncate(fd, (off_t)r->h.old_size);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: powerloss_revert UNDO_LOG\n");
        return 2;
    }
    size_t len = 0;
    char *buf = slurp(argv[1], &len);
    if (!buf) {
        fprintf(stderr, "powerloss_revert: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    struct rec *r = NULL;
    long n = parse(buf, len, &r);
    if (n < 0) {
        fprintf(stderr, "powerloss_revert: %s is not an undo log\n", argv[1]);
        return 2;
    }
    char *done = calloc((size_t)n + 1, 1); /* records whose file has been handled */
    long files = 0, undone = 0, bytes = 0;
    for (long i = n - 1; i >= 0; i--) {
        if (done[i])
            continue;
        /* The newest record of a file not handled yet: walk back to its last sync. */
        char path[4096];
        snprintf(path, sizeof path, "%.*s", (int)r[i].h.path_len, r[i].path);
        int fd = -1;
        for (long j = i; j >= 0; j--) {
            if (done[j] || !same_path(&r[i], &r[j]))
                continue;
            done[j] = 1;
            if (r[j].h.kind == POWERLOSS_SYNC) {
                for (long k = j - 1; k >= 0; k--) /* everything before is durable */
                    if (same_path(&r[i], &r[k]))
                        done[k] = 1;
                break;
            }
            if (fd < 0) {
                fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0) {
                    if (errno == ENOENT)
                        break; /* deleted since: nothing to roll back */
                    fprintf(stderr, "powerloss_revert: %s: %s\n", path, strerror(errno));
                    return 1;
                }
                files++;
            }
            if (undo(fd, &r[j]) != 0) {
                fprintf(stderr, "powerloss_revert: %s: %s\n", path, strerror(errno));
                return 1;
            }
            undone++;
            bytes += (long)r[j].h.len;
        }
        if (fd >= 0 && (fsync(fd) != 0 || close(fd) != 0)) {
            fprintf(stderr, "powerloss_revert: %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    printf("reverted %ld writes (%ld bytes) in %ld files to their last sync\n", undone, bytes,
           files);
    free(done);
    free(r);
    free(buf);
    return 0;
}
