/*
 * powerloss.h: the undo log shared by the power-loss shim (powerloss.c,
 * LD_PRELOADed into `whaco serve`) and its revert tool (powerloss_revert.c).
 * Test code only; never linked into whaco.
 *
 * A kill -9 loses nothing the process wrote: the page cache keeps it. A
 * power loss (or an OS crash) loses every write the disk was not told to
 * make durable. The shim simulates the worst such loss: before each write
 * (or truncation) of a watched file it appends the bytes the write will
 * overwrite, and the file's size, to the undo log; on fsync/fdatasync of a
 * file it appends a sync marker for it. After the kill -9, the revert tool
 * rolls every file back to exactly its content at its last sync, by applying
 * that file's undo records after its last marker in reverse order.
 *
 * Record layout (native endianness: the log is read back on the same
 * machine): struct powerloss_rec, then path_len bytes of path (no NUL), then
 * old_len bytes of old content. A record is written with one write() before
 * the data write it describes, so a record cut short by the kill is followed
 * by no data write and is ignored.
 */
#ifndef WHACO_POWERLOSS_H
#define WHACO_POWERLOSS_H

#include <stdint.h>

#define POWERLOSS_MAGIC 0x4c52574fu /* "OWRL" */

enum powerloss_kind {
    POWERLOSS_WRITE = 1,    /* off, len: the range written; old bytes of [off, off+old_len) */
    POWERLOSS_TRUNCATE = 2, /* off: the new size; old bytes of [off, off+old_len) */
    POWERLOSS_SYNC = 3,     /* everything before is durable for this file */
};

struct powerloss_rec {
    uint32_t magic;
    uint32_t kind;     /* enum powerloss_kind */
    uint64_t off;      /* see enum powerloss_kind */
    uint64_t len;      /* bytes written (WRITE) */
    uint64_t old_size; /* the file's size before the operation */
    uint64_t old_len;  /* old content bytes that follow the path */
    uint32_t path_len; /* bytes of path that follow this header */
    uint32_t pad;
};

/* Environment: the directory whose files are watched, and the undo log. */
#define POWERLOSS_ENV_DIR "WHACO_POWERLOSS_DIR"
#define POWERLOSS_ENV_LOG "WHACO_POWERLOSS_LOG"

#endif /* WHACO_POWERLOSS_H */
