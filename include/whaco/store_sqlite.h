/*
 * whaco/store_sqlite.h: what the SQLite backend of whaco/store.h puts on
 * disk, for the tools and tests that look at the file itself (docs/store.md
 * has the schema). Code that only uses a store -- the engine, the HTTP
 * layer, the CLI -- does not include this header: the file is the
 * backend's business, and another backend has none.
 *
 * A spec of kind WHACO_STORE_SQLITE names a directory DIR; the store is one
 * database file, DIR/WHACO_STORE_FILENAME, in WAL mode, with its -wal and
 * -shm files beside it.
 */
#ifndef WHACO_STORE_SQLITE_H
#define WHACO_STORE_SQLITE_H

#define WHACO_STORE_FILENAME "whaco.db"
#define WHACO_STORE_SCHEMA   1          /* PRAGMA user_version of this build's files */
#define WHACO_STORE_APP_ID   0x5748434f /* PRAGMA application_id: "WHCO" in ASCII */

struct sqlite3;
struct whaco_store;

/*
 * For the unit tests only: the read-write connection of s, an SQLite store
 * (to read its pragmas). Borrowed; valid until s is closed or repaired.
 */
struct sqlite3 *whaco__store_db(struct whaco_store *s);

#endif /* WHACO_STORE_SQLITE_H */
