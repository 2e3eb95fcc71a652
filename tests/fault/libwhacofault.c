/*
 * libwhacofault.c: test-only fault injection for file I/O. Loaded with
 * LD_PRELOAD into `whaco serve` (API tests), or linked into a unit test, it
 * makes the libc calls SQLite's unix VFS uses fail with a chosen errno -- a
 * full disk (ENOSPC), a read-only file system (EROFS), a failing device
 * (EIO) -- for files opened under one directory. Never linked into whaco.
 *
 * Which files: only descriptors opened (open/open64/openat/openat64) with a
 * path under WHACO_FAULT_DIR are watched; every other call passes straight
 * to libc. Relative paths are resolved against the working directory.
 *
 * When a watched call fails (either trigger, or both):
 *   - control file: while the file named by WHACO_FAULT_CTL exists, every
 *     watched call of the chosen kinds fails. Its content is an errno name
 *     (ENOSPC, EROFS, EIO, EACCES, EDQUOT; default ENOSPC), optionally
 *     followed by the kinds to fail: any of "open" (opens that may write),
 *     "write" (write, pwrite, pwrite64), "sync" (fsync, fdatasync),
 *     "truncate" (ftruncate, fallocate, posix_fallocate); default all.
 *     Tests create the file to start the fault and delete it to end it.
 *   - Nth call: with WHACO_FAULT_NTH=N (and WHACO_FAULT_ERRNO, default EIO)
 *     the Nth watched call of any of those kinds fails, once.
 * A unit test linking this file sets the same through whacofault_set() and
 * whacofault_arm() (libwhacofault.h).
 *
 * Invariants: a call on a descriptor that is not watched, or while no
 * trigger applies, behaves exactly as libc's; a failing call does nothing
 * and returns -1 with errno set, as the real call would on that fault.
 * Thread-safe: the descriptor table and counters are atomics.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "libwhacofault.h"

#define MAX_FDS 65536

enum kind { K_OPEN = 1, K_WRITE = 2, K_SYNC = 4, K_TRUNCATE = 8, K_ALL = 15 };

static char watch_dir[4096]; /* absolute, no trailing slash; "" = off */
static char ctl_path[4096];  /* control file; "" = none */
static atomic_long nth_left; /* calls until the Nth fails; 0 = off */
static atomic_int nth_errno;
static atomic_int nth_kinds;
static atomic_long watched_calls; /* watched calls of the armed kinds seen */
static atomic_long failed_calls;  /* calls this library made fail */
static atomic_bool watched[MAX_FDS];
static atomic_bool configured;

static int errno_by_name(const char *name, int def)
{
    static const struct {
        const char *name;
        int value;
    } names[] = {{"ENOSPC", ENOSPC}, {"EROFS", EROFS},   {"EIO", EIO},
                 {"EACCES", EACCES}, {"EDQUOT", EDQUOT}, {"EPERM", EPERM}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (name && strcmp(name, names[i].name) == 0)
            return names[i].value;
    return def;
}

/* Kinds from words such as "write,sync" or "write sync"; all if none given. */
static int kinds_by_names(const char *text)
{
    int k = 0;
    if (!text)
        return K_ALL;
    if (strstr(text, "open"))
        k |= K_OPEN;
    if (strstr(text, "write"))
        k |= K_WRITE;
    if (strstr(text, "sync"))
        k |= K_SYNC;
    if (strstr(text, "truncate"))
        k |= K_TRUNCATE;
    return k ? k : K_ALL;
}

void whacofault_set(const char *dir, const char *ctl)
{
    snprintf(watch_dir, sizeof watch_dir, "%s", dir ? dir : "");
    size_t n = strlen(watch_dir);
    while (n > 1 && watch_dir[n - 1] == '/')
        watch_dir[--n] = '\0';
    snprintf(ctl_path, sizeof ctl_path, "%s", ctl ? ctl : "");
    atomic_store(&configured, true);
}

void whacofault_arm(long nth, int err, const char *kinds)
{
    atomic_store(&nth_left, 0);
    atomic_store(&nth_errno, err ? err : EIO);
    atomic_store(&nth_kinds, kinds_by_names(kinds));
    atomic_store(&watched_calls, 0);
    atomic_store(&failed_calls, 0);
    atomic_store(&nth_left, nth > 0 ? nth : 0);
}

long whacofault_calls(void)
{
    return atomic_load(&watched_calls);
}

long whacofault_failures(void)
{
    return atomic_load(&failed_calls);
}

/* First use under LD_PRELOAD: read the environment (a unit test calls set). */
static void configure(void)
{
    if (atomic_load(&configured))
        return;
    const char *nth = getenv("WHACO_FAULT_NTH");
    whacofault_arm(nth ? strtol(nth, NULL, 10) : 0, errno_by_name(getenv("WHACO_FAULT_ERRNO"), EIO),
                   getenv("WHACO_FAULT_KINDS"));
    whacofault_set(getenv("WHACO_FAULT_DIR"), getenv("WHACO_FAULT_CTL"));
}

static void *real(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        static const char msg[] = "libwhacofault: a libc function is missing\n";
        ssize_t ignored = write(2, msg, sizeof msg - 1);
        (void)ignored;
        abort();
    }
    return f;
}

/* libc's function name, looked up once per call site. */
static void *cached(_Atomic(void *) *slot, const char *name)
{
    void *f = atomic_load(slot);
    if (!f) {
        f = real(name);
        atomic_store(slot, f);
    }
    return f;
}

static _Atomic(void *) slot_open, slot_open64, slot_openat, slot_openat64, slot_close, slot_write,
    slot_pwrite, slot_pwrite64, slot_fsync, slot_fdatasync, slot_ftruncate, slot_ftruncate64,
    slot_fallocate, slot_posix_fallocate;

#define REAL(type, name) ((type)cached(&slot_##name, #name))

static bool under_watch_dir(int dirfd, const char *path)
{
    char abs[8192];
    size_t n = strlen(watch_dir);
    if (!n || !path)
        return false;
    if (path[0] != '/') {
        char base[4096];
        if (dirfd != AT_FDCWD || !getcwd(base, sizeof base))
            return false; /* SQLite opens by full or cwd-relative path only */
        snprintf(abs, sizeof abs, "%s/%s", base, path);
        path = abs;
    }
    return strncmp(path, watch_dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/*
 * Whether a call of kind k on a watched file must fail now, and with which
 * errno; counts it for the Nth trigger.
 */
static int fault_for(int kind)
{
    configure();
    int err = 0;
    if (ctl_path[0]) {
        int saved = errno;
        FILE *f = fopen(ctl_path, "re");
        if (f) {
            char text[128] = "", word[32] = "";
            size_t got = fread(text, 1, sizeof text - 1, f);
            text[got] = '\0';
            fclose(f);
            sscanf(text, "%31s", word);
            const char *rest = text + strspn(text, " \t\n");
            rest += strcspn(rest, " \t\n");
            if (kinds_by_names(*rest ? rest : NULL) & kind)
                err = errno_by_name(word, ENOSPC);
        }
        errno = saved;
    }
    if (atomic_load(&nth_kinds) & kind) {
        atomic_fetch_add(&watched_calls, 1);
        long left = atomic_load(&nth_left);
        while (left > 0 && !atomic_compare_exchange_weak(&nth_left, &left, left - 1))
            ;
        if (left == 1 && !err)
            err = atomic_load(&nth_errno);
    }
    if (err)
        atomic_fetch_add(&failed_calls, 1);
    return err;
}

static bool is_watched(int fd)
{
    return fd >= 0 && fd < MAX_FDS && atomic_load(&watched[fd]);
}

/* The fault for a call of kind k on fd, or 0 (fd not watched: none). */
static int fault_on(int fd, int kind)
{
    return is_watched(fd) ? fault_for(kind) : 0;
}

/*==== Opening and closing =================================================*/

static int open_common(int dirfd, const char *path, int flags, mode_t mode, int at, int large)
{
    configure();
    bool watch = under_watch_dir(dirfd, path);
    bool writes = (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0;
    if (watch && writes) {
        int err = fault_for(K_OPEN);
        if (err) {
            errno = err;
            return -1;
        }
    }
    int fd;
    if (at)
        fd = large ? REAL(int (*)(int, const char *, int, ...), openat64)(dirfd, path, flags, mode)
                   : REAL(int (*)(int, const char *, int, ...), openat)(dirfd, path, flags, mode);
    else
        fd = large ? REAL(int (*)(const char *, int, ...), open64)(path, flags, mode)
                   : REAL(int (*)(const char *, int, ...), open)(path, flags, mode);
    if (fd >= 0 && fd < MAX_FDS)
        atomic_store(&watched[fd], watch);
    return fd;
}

static mode_t mode_arg(int flags, va_list ap)
{
#ifdef O_TMPFILE
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
#else
    if (flags & O_CREAT)
#endif
        return (mode_t)va_arg(ap, int);
    return 0;
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return open_common(AT_FDCWD, path, flags, mode, 0, 0);
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return open_common(AT_FDCWD, path, flags, mode, 0, 1);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return open_common(dirfd, path, flags, mode, 1, 0);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return open_common(dirfd, path, flags, mode, 1, 1);
}

int close(int fd)
{
    if (fd >= 0 && fd < MAX_FDS)
        atomic_store(&watched[fd], false);
    return REAL(int (*)(int), close)(fd);
}

/*==== Writing, syncing, resizing ==========================================*/

#define FAIL_IF(fd, kind)                                                                          \
    do {                                                                                           \
        int fault_ = fault_on((fd), (kind));                                                       \
        if (fault_) {                                                                              \
            errno = fault_;                                                                        \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

ssize_t write(int fd, const void *buf, size_t n)
{
    FAIL_IF(fd, K_WRITE);
    return REAL(ssize_t(*)(int, const void *, size_t), write)(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    FAIL_IF(fd, K_WRITE);
    return REAL(ssize_t(*)(int, const void *, size_t, off_t), pwrite)(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    FAIL_IF(fd, K_WRITE);
    return REAL(ssize_t(*)(int, const void *, size_t, off_t), pwrite64)(fd, buf, n, off);
}

int fsync(int fd)
{
    FAIL_IF(fd, K_SYNC);
    return REAL(int (*)(int), fsync)(fd);
}

int fdatasync(int fd)
{
    FAIL_IF(fd, K_SYNC);
    return REAL(int (*)(int), fdatasync)(fd);
}

int ftruncate(int fd, off_t len)
{
    FAIL_IF(fd, K_TRUNCATE);
    return REAL(int (*)(int, off_t), ftruncate)(fd, len);
}

int ftruncate64(int fd, off_t len)
{
    FAIL_IF(fd, K_TRUNCATE);
    return REAL(int (*)(int, off_t), ftruncate64)(fd, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    FAIL_IF(fd, K_TRUNCATE);
    return REAL(int (*)(int, int, off_t, off_t), fallocate)(fd, mode, off, len);
}

int posix_fallocate(int fd, off_t off, off_t len)
{
    int err = fault_on(fd, K_TRUNCATE);
    if (err)
        return err; /* posix_fallocate returns the error instead of setting errno */
    return REAL(int (*)(int, off_t, off_t), posix_fallocate)(fd, off, len);
}
