/*
 * state.c: `whaco state export` and `whaco state import` -- the core state
 * to and from the seed's two files, whaco_state.json and
 * oscillator_state.json (format: docs/state-files.md).
 *
 *   whaco state export [--data DIR] [--out DIR]     writes DIR/whaco_state.json, ...
 *   whaco state import [--data DIR] --from DIR [--force]
 *   whaco state verify [--data DIR]        (logcheck.c)
 *
 * Export reads the store without writing (a server may be running). Import
 * replaces the state of a store that has no events yet, or, with --force,
 * of one whose server is stopped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whaco/alloc.h"
#include "whaco/engine.h"
#include "whaco/err.h"
#include "cli/cli.h"
#include "http/stateio.h"
#include "banned.h"

#define FILE_LIMIT (16u << 20) /* refuse state files over 16 MiB */

static int usage(FILE *err)
{
    fputs("usage: whaco state export [--data DIR] [--out DIR]\n"
          "       whaco state import [--data DIR] --from DIR [--force]\n"
          "       whaco state verify [--data DIR]\n",
          err);
    return 2;
}

static int write_file(const char *dir, const char *name, const char *text, FILE *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fputc('\n', f) == EOF || fclose(f) != 0) {
        fprintf(err, "whaco state: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Read dir/name into a malloc'd buffer; NULL after reporting. */
static char *read_file(const char *dir, const char *name, size_t *len, FILE *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(err, "whaco state: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = whaco_xmalloc(FILE_LIMIT + 1);
    *len = fread(buf, 1, FILE_LIMIT + 1, f);
    int bad = ferror(f) || *len > FILE_LIMIT;
    fclose(f);
    if (bad) {
        fprintf(err, "whaco state: cannot read %s (error, or larger than 16 MiB)\n", path);
        whaco_free(buf);
        return NULL;
    }
    return buf;
}

int whaco_cmd_state(int argc, char **argv, FILE *out, FILE *err)
{
    const char *data = getenv("WHACO_DATA"), *dir = ".", *from = NULL;
    bool force = false;
    char msg[1024];
    struct whaco_intel in;
    (void)out;
    if (!data)
        data = "data";
    if (argc >= 2 && !strcmp(argv[1], "verify"))
        return whaco_state_verify(argc - 1, argv + 1, out, err);
    if (argc < 2 || (strcmp(argv[1], "export") && strcmp(argv[1], "import")))
        return usage(err);
    bool export = !strcmp(argv[1], "export");
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) {
            force = true;
            continue;
        }
        if (i + 1 >= argc)
            return usage(err);
        if (!strcmp(argv[i], "--data"))
            data = argv[++i];
        else if (!strcmp(argv[i], "--out") && export)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--from") && !export)
            from = argv[++i];
        else
            return usage(err);
    }
    if (!export && !from)
        return usage(err);
    int init_rc = whaco_intel_init(&in, NULL, NULL, NULL);
    if (init_rc != WHACO_OK) {
        fprintf(err, "whaco state: %s\n", whaco_strerror(init_rc));
        return 1;
    }

    int rc = 1;
    struct whaco_store_spec spec = {0};
    if (whaco_store_spec_parse(&spec, data, msg, sizeof msg) != WHACO_OK) {
        fprintf(err, "whaco state: %s\n", msg);
    } else if (export) {
        if (whaco_engine_load(&spec, &in, msg, sizeof msg) != WHACO_OK) {
            fprintf(err, "whaco state: %s\n", msg);
        } else {
            char *w = stateio_export_whaco(&in), *o = stateio_export_oscillator(&in);
            if (!w || !o)
                fprintf(err, "whaco state: %s\n", whaco_strerror(WHACO_E_NOMEM));
            else if (write_file(dir, "whaco_state.json", w, err) == 0 &&
                     write_file(dir, "oscillator_state.json", o, err) == 0) {
                fprintf(err, "whaco state: exported %zu salespeople and the model to %s\n",
                        in.team.n, dir);
                rc = 0;
            }
            whaco_free(w);
            whaco_free(o);
        }
    } else {
        size_t wl = 0, ol = 0;
        char *w = read_file(from, "whaco_state.json", &wl, err);
        char *o = w ? read_file(from, "oscillator_state.json", &ol, err) : NULL;
        if (w && o && stateio_import(&in, w, wl, o, ol, msg, sizeof msg) != WHACO_OK)
            fprintf(err, "whaco state: %s/%s\n", from, msg);
        else if (w && o &&
                 whaco_engine_import(&spec, &in, force, (int64_t)time(NULL) * 1000, msg,
                                     sizeof msg) != WHACO_OK)
            fprintf(err, "whaco state: %s\n", msg);
        else if (w && o) {
            fprintf(err, "whaco state: imported %zu salespeople and the model into %s\n", in.team.n,
                    data);
            rc = 0;
        }
        whaco_free(w);
        whaco_free(o);
    }
    whaco_intel_release(&in);
    return rc;
}
