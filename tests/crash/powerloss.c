/*
 * powerloss.c: an LD_PRELOAD shim that records, for every file under
 * $WHACO_POWERLOSS_DIR, what each write overwrites and when the file was
 * last synced, so that powerloss_revert can simulate a power loss after a
 * kill -9 (format and rationale: powerloss.h). Test code only.
 *
 * Watched: regular files whose path (from /proc/self/fd) starts with the
 * directory, except "-shm" files (SQLite's WAL index: shared memory,
 * rebuilt from the WAL after a crash, written through mmap anyway).
 * Intercepted: write, pwrite, pwrite64, ftruncate, ftruncate64, fsync,
 * fdatasync -- what SQLite's unix VFS uses. Not modelled: directory entries
 * (a file created or deleted since the directory's last fsync), torn
 * sectors, writes through mmap, and reordering of unsynced writes (all of
 * them are lost, the harshest ordered case).
 *
 * Invariant: the undo record of a write reaches the log (one write(2)) before
 * the write itself, under one mutex, so the log's order is the file's order.
 * If the environment is unset the shim only forwards.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "powerloss.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char watch_dir[4098]; /* with a trailing '/'; "" = off */
static int log_fd = -1;

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off64_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static void init(void)
{
    real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    real_pwrite = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = (ssize_t(*)(int, const void *, size_t, off64_t))dlsym(RTLD_NEXT, "pwrite64");
    real_ftruncate = (int (*)(int, off_t))dlsym(RTLD_NEXT, "ftruncate");
    real_ftruncate64 = (int (*)(int, off64_t))dlsym(RTLD_NEXT, "ftruncate64");
    real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    const char *dir = getenv(POWERLOSS_ENV_DIR), *log = getenv(POWERLOSS_ENV_LOG);
    char real[4096];
    if (!dir || !log || !realpath(dir, real))
        return;
    log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0)
        return;
    snprintf(watch_dir, sizeof watch_dir, "%s/", real);
}

/* The watched path of fd into path (cap bytes), or 0 if fd is not watched. */
static size_t watched(int fd, char *path, size_t cap)
{
    char link[64];
    pthread_once(&once, init);
    if (!watch_dir[0] || fd == log_fd)
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, cap - 1);
    if (n <= 0 || (size_t)n >= cap - 1)
        return 0;
    path[n] = '\0';
    size_t dl = strlen(watch_dir);
    if (strncmp(path, watch_dir, dl) != 0)
        return 0;
    if (n > 4 && strcmp(path + n - 4, "-shm") == 0)
        return 0;
    return (size_t)n;
}

/* Read [off, off+len) of fd's current content into buf; bytes read. */
static size_t read_old(int fd, const char *path, uint64_t off, uint64_t len, char *buf)
{
    ssize_t n = pread(fd, buf, len, (off_t)off);
    if (n < 0) { /* opened write-only: read through the path */
        int rfd = open(path, O_RDONLY | O_CLOEXEC);
        n = rfd >= 0 ? pread(rfd, buf, len, (off_t)off) : 0;
        if (rfd >= 0)
            close(rfd);
    }
    return n > 0 ? (size_t)n : 0;
}

/*
 * Append one record: kind, the range, the size before, and the old bytes of
 * [old_off, old_off + old_want) that exist. Aborts the process if the log
 * cannot be written: a silent gap would make the simulation lie.
 */
static void record(int fd, const char *path, size_t plen, uint32_t kind, uint64_t off, uint64_t len,
                   uint64_t old_off, uint64_t old_want)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        abort();
    uint64_t size = (uint64_t)st.st_size;
    uint64_t old_len = 0;
    if (kind != POWERLOSS_SYNC && old_off < size)
        old_len = old_want < size - old_off ? old_want : size - old_off;
    size_t total = sizeof(struct powerloss_rec) + plen + old_len;
    char *buf = malloc(total);
    if (!buf)
        abort();
    struct powerloss_rec r = {POWERLOSS_MAGIC, kind, off, len, size, 0, (uint32_t)plen, 0};
    memcpy(buf + sizeof r, path, plen);
    if (old_len)
        old_len = read_old(fd, path, old_off, old_len, buf + sizeof r + plen);
    r.old_len = old_len;
    memcpy(buf, &r, sizeof r);
    total = sizeof r + plen + old_len;
    if (real_write(log_fd, buf, total) != (ssize_t)total)
        abort();
    free(buf);
}

static uint64_t position(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    struct stat st;
    if (fl >= 0 && (fl & O_APPEND) && fstat(fd, &st) == 0)
        return (uint64_t)st.st_size;
    off_t p = lseek(fd, 0, SEEK_CUR);
    return p < 0 ? 0 : (uint64_t)p;
}

ssize_t write(int fd, const void *b, size_t n)
{
    char path[4096];
    size_t plen = watched(fd, path, sizeof path);
    if (!plen)
        return real_write(fd, b, n);
    pthread_mutex_lock(&mu);
    uint64_t off = position(fd);
    record(fd, path, plen, POWERLOSS_WRITE, off, n, off, n);
    ssize_t rc = real_write(fd, b, n);
    pthread_mutex_unlock(&mu);
    return rc;
}

/* A write at off through real, recorded first if the file is watched. */
static ssize_t pwrite_watched(int fd, const void *b, size_t n, off64_t off,
                              ssize_t (*real)(int, const void *, size_t, off64_t))
{
    char path[4096];
    size_t plen = watched(fd, path, sizeof path);
    if (!plen)
        return real(fd, b, n, off);
    pthread_mutex_lock(&mu);
    record(fd, path, plen, POWERLOSS_WRITE, (uint64_t)off, n, (uint64_t)off, n);
    ssize_t rc = real(fd, b, n, off);
    pthread_mutex_unlock(&mu);
    return rc;
}

static ssize_t pwrite_off(int fd, const void *b, size_t n, off64_t off)
{
    return real_pwrite(fd, b, n, (off_t)off);
}

ssize_t pwrite(int fd, const void *b, size_t n, off_t off)
{
    return pwrite_watched(fd, b, n, off, pwrite_off);
}

ssize_t pwrite64(int fd, const void *b, size_t n, off64_t off)
{
    return pwrite_watched(fd, b, n, off, real_pwrite64);
}

static int truncate_watched(int fd, uint64_t size, int (*real)(int, off64_t), off64_t arg)
{
    char path[4096];
    size_t plen = watched(fd, path, sizeof path);
    if (!plen)
        return real(fd, arg);
    pthread_mutex_lock(&mu);
    record(fd, path, plen, POWERLOSS_TRUNCATE, size, 0, size, UINT64_MAX);
    int rc = real(fd, arg);
    pthread_mutex_unlock(&mu);
    return rc;
}

static int ftruncate_off(int fd, off64_t size)
{
    return real_ftruncate(fd, (off_t)size);
}

int ftruncate(int fd, off_t size)
{
    pthread_once(&once, init);
    return truncate_watched(fd, (uint64_t)size, ftruncate_off, size);
}

int ftruncate64(int fd, off64_t size)
{
    pthread_once(&once, init);
    return truncate_watched(fd, (uint64_t)size, real_ftruncate64, size);
}

/* Sync first, then the marker: a marker always means "this much is on disk". */
static int sync_watched(int fd, int (*real)(int))
{
    char path[4096];
    size_t plen = watched(fd, path, sizeof path);
    if (!plen)
        return real(fd);
    pthread_mutex_lock(&mu);
    int rc = real(fd);
    if (rc == 0)
        record(fd, path, plen, POWERLOSS_SYNC, 0, 0, 0, 0);
    pthread_mutex_unlock(&mu);
    return rc;
}

int fsync(int fd)
{
    pthread_once(&once, init);
    return sync_watched(fd, real_fsync);
}

int fdatasync(int fd)
{
    pthread_once(&once, init);
    return sync_watched(fd, real_fdatasync);
}
