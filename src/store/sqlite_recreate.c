/*
 * sqlite_recreate.c: WHACO_STORE_REPAIR for the SQLite backend -- putting
 * back a database whose file was removed from the data directory while
 * whaco had it open (the directory deleted by a clean-up script, say).
 *
 * SQLite keeps working on an unlinked file: every committed batch,
 * snapshot and token is still in the open connection, and only there. So
 * the repair re-creates DIR (mode 0700) if needed, copies the open
 * database with VACUUM INTO to DIR/whaco.db.rescue, fsyncs that, link()s
 * it to DIR/whaco.db, fsyncs DIR, then re-opens the new file through the
 * normal open path (so it is checked like any file) and swaps the
 * connections: the handle goes on with the new file, the old one closes.
 *
 * Invariants:
 *
 *  - A half-written copy is never seen at DIR/whaco.db: it is written
 *    under the temporary name and linked into place only once durable.
 *  - A file that has appeared at DIR/whaco.db meanwhile (a backup put
 *    back?) is never overwritten: link() fails on it, and the repair
 *    refuses before copying when one is there already.
 *  - On any failure the handle keeps its old connection, still usable for
 *    reads and for another attempt.
 *  - A batch committed into the unlinked file (sqlite.c's commit took it
 *    out again, or failed to) is taken out before the copy, so the copy
 *    holds exactly the batches that were reported committed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <sqlite3.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/store.h"
#include "store/sqlite.h"

#include "banned.h"

/* fsync path (a file or a directory); WHACO_OK or the failure recorded on s. */
static int sync_path(struct sqlite_store *s, const char *path, int flags)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
    if (fd < 0)
        return whaco__sqlite_fail(s, WHACO_E_IO, "re-creating the database: cannot open %s: %s",
                                  path, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0)
        return whaco__sqlite_fail(s, WHACO_E_IO, "re-creating the database: cannot sync %s: %s",
                                  path, strerror(e));
    return WHACO_OK;
}

/*
 * Copy the open (moved) database to a new file beside s->path under a
 * temporary name, make it durable, and give it the name s->path -- never
 * replacing a file that appeared there meanwhile.
 */
static int copy_to_path(struct sqlite_store *s)
{
    size_t n = strlen(s->path);
    char *tmp = whaco_xmalloc(n + sizeof ".rescue");
    memcpy(tmp, s->path, n);
    memcpy(tmp + n, ".rescue", sizeof ".rescue");
    unlink(tmp); /* a copy left by an earlier attempt that failed */
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "VACUUM INTO ?1", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, tmp, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    int err = rc == SQLITE_DONE ? WHACO_OK
                                : whaco__sqlite_fail_sql(s, s->db, rc, "re-creating the database");
    sqlite3_finalize(st);
    if (err == WHACO_OK)
        err = sync_path(s, tmp, 0);
    if (err == WHACO_OK && link(tmp, s->path) != 0)
        err = whaco__sqlite_fail(s, WHACO_E_IO,
                                 "re-creating the database: cannot name the copy %s: %s", s->path,
                                 strerror(errno));
    unlink(tmp);
    free(tmp);
    if (err == WHACO_OK)
        err = sync_path(s, s->dir, O_DIRECTORY);
    return err;
}

int whaco__sqlite_recreate(struct sqlite_store *s, unsigned *done)
{
    if (s->undo_from) {
        int err = whaco__sqlite_undo_moved_batch(s);
        if (err < 0)
            return err;
    }
    if (!whaco__sqlite_has_moved(s))
        return WHACO_OK;

    int err = whaco__sqlite_ensure_dir(s, s->dir);
    if (err == WHACO_OK && whaco__sqlite_file_exists(s->path))
        err = whaco__sqlite_fail(
            s, WHACO_E_IO,
            "another file is now at this path (a backup put back?), and whaco's open"
            " database is not: move that file away and whaco re-creates its own there"
            " within seconds, or restart whaco to use that file instead");
    if (err == WHACO_OK)
        err = copy_to_path(s);
    struct whaco_store *fresh = NULL;
    char msg[sizeof s->base.errmsg];
    struct whaco_store_spec spec = {WHACO_STORE_SQLITE, s->dir, s->sync, 0};
    if (err == WHACO_OK && whaco_store_open(&spec, &fresh, msg, sizeof msg) != WHACO_OK)
        err = whaco__sqlite_fail(s, WHACO_E_IO, "re-opening the re-created database: %s", msg);
    if (err < 0)
        return err;
    /* Swap the connections: s goes on with the new file, the old one closes. */
    struct sqlite_store old = *s;
    *s = *SQ(fresh);
    *SQ(fresh) = old;
    whaco_store_close(fresh);
    s->base.errmsg[0] = '\0';
    *done |= WHACO_STORE_RECREATED;
    return WHACO_OK;
}
