/*
 * outcomes.c: `whaco outcomes import` -- outcomes from a CRM or DMS into a
 * data directory's state, offline (docs/outcomes.md).
 *
 *   whaco outcomes import FILE.csv [--data DIR]
 *
 * The file is read whole (whaco/outcomes.h) and its valid rows applied as
 * outcome events through the engine (whaco_engine_apply_offline: the
 * state loaded from the log, each row through whaco_intel_outcome, one
 * transaction), exactly as POST /api/intelligence/outcomes applies them.
 * stdout gets a summary line, then one line per unmatched row: "row N",
 * the customerId, the reason and the message, tab-separated.
 *
 * Exit status: 0 when the file was read and applied (unmatched rows
 * included), 1 when the file cannot be read or is not an outcomes file, 2
 * for usage and for a data directory that cannot be used. A server running
 * on the same data directory is not disturbed: the import is one
 * transaction of the log, and the server reloads its state from the log
 * when it sees events it did not append (whaco/engine.h). The store must
 * exist: a mistyped --data is an error, not a new empty state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whaco/alloc.h"
#include "whaco/engine.h"
#include "whaco/err.h"
#include "whaco/event.h"
#include "whaco/outcomes.h"
#include "whaco/store.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "banned.h"

#define FILE_LIMIT (16u << 20) /* bytes of a file read; its rows are capped anyway */
#define PREFIX     "whaco outcomes"

static int usage(FILE *err)
{
    fputs("usage: whaco outcomes import FILE.csv [--data DIR]\n"
          "  records a CRM's outcomes (columns customerId, outcome, time; salespersonId,\n"
          "  dealId) as events; rows already recorded change nothing (docs/outcomes.md)\n",
          err);
    return 2;
}

/* The whole file into a malloc'd buffer (*len bytes, NUL after); NULL after reporting. */
static char *read_all(const char *path, size_t *len, FILE *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(err, PREFIX ": cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = whaco_xmalloc(FILE_LIMIT + 1);
    *len = fread(buf, 1, FILE_LIMIT + 1, f);
    int bad = ferror(f), big = *len > FILE_LIMIT;
    fclose(f);
    if (bad || big) {
        fprintf(err, PREFIX ": cannot read %s: %s\n", path,
                big ? "larger than 16 MiB" : "read error");
        whaco_free(buf);
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

/* Print the summary and the unmatched rows; replies follow the valid lines in order. */
static void report(FILE *out, const struct whaco_outcome_file *f,
                   const struct whaco_engine_reply *replies)
{
    size_t counts[3] = {0, 0, 0}, j = 0;
    struct whaco_outcome_report *reps = whaco_xcalloc(f->n ? f->n : 1, sizeof *reps);
    for (size_t i = 0; i < f->n; i++) {
        const struct whaco_engine_reply *r = f->lines[i].valid ? &replies[j++] : NULL;
        whaco_outcome_explain(&f->lines[i], r ? r->rc : WHACO_OK, r ? &r->result.outcome : NULL,
                              &reps[i]);
        counts[reps[i].status]++;
    }
    fprintf(out, PREFIX ": %zu rows: %zu recorded, %zu already recorded, %zu unmatched\n", f->n,
            counts[WHACO_ROW_RECORDED], counts[WHACO_ROW_ALREADY], counts[WHACO_ROW_UNMATCHED]);
    if (f->n_ignored > 0) {
        fprintf(out, PREFIX ": ignored %u column%s:", (unsigned)f->n_ignored,
                f->n_ignored == 1 ? "" : "s");
        for (uint32_t k = 0; k < f->n_ignored && k < WHACO_OUTCOMES_IGNORED_MAX; k++)
            fprintf(out, " %s", f->ignored[k]);
        fputs(f->n_ignored > WHACO_OUTCOMES_IGNORED_MAX ? " ...\n" : "\n", out);
    }
    for (size_t i = 0; i < f->n; i++)
        if (reps[i].status == WHACO_ROW_UNMATCHED)
            fprintf(out, "row %u\t%s\t%s\t%s\n", (unsigned)f->lines[i].row, f->lines[i].customer_id,
                    reps[i].reason, reps[i].message);
    whaco_free(reps);
}

/* Apply the valid rows of f to the store at data; 0, or 2 after reporting. */
static int apply(const char *data, const struct whaco_outcome_file *f, FILE *out, FILE *err)
{
    struct whaco_store_spec spec = {0};
    char msg[1024];
    if (cli_store_spec(data, &spec, PREFIX, err))
        return 2;
    spec.flags = WHACO_STORE_MUST_EXIST;
    size_t n = 0, j = 0;
    for (size_t i = 0; i < f->n; i++)
        n += f->lines[i].valid;
    struct whaco_event *evs = whaco_xcalloc(n ? n : 1, sizeof *evs);
    struct whaco_engine_reply *replies = whaco_xcalloc(n ? n : 1, sizeof *replies);
    for (size_t i = 0; i < f->n; i++)
        if (f->lines[i].valid)
            whaco_event_outcome(&evs[j++], &f->lines[i].r, f->lines[i].row, WHACO_VIA_CLI);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    int status = 0;
    if (whaco_engine_apply_offline(&spec, evs, replies, n, now_ms, msg, sizeof msg) != WHACO_OK) {
        fprintf(err, PREFIX ": %s (nothing was recorded)\n", msg);
        status = 2;
    } else {
        report(out, f, replies);
    }
    whaco_free(evs);
    whaco_free(replies);
    return status;
}

int whaco_cmd_outcomes(int argc, char **argv, FILE *out, FILE *err)
{
    const char *data = cli_default_data(), *path = NULL;
    if (argc < 2 || strcmp(argv[1], "import") != 0)
        return usage(err);
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data = argv[++i];
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else
            return usage(err);
    }
    if (!path)
        return usage(err);
    size_t len = 0;
    char *text = read_all(path, &len, err);
    if (!text)
        return 1;
    struct whaco_outcome_file f;
    struct whaco_outcomes_error fe;
    int rc = whaco_outcomes_parse(text, len, &f, &fe), status = 1;
    whaco_free(text);
    if (rc == WHACO_E_PARSE)
        fprintf(err, PREFIX ": %s is not an outcomes file: %s (%s)\n", path, fe.message, fe.code);
    else if (rc != WHACO_OK)
        fprintf(err, PREFIX ": %s: %s\n", path, whaco_strerror(rc));
    else
        status = apply(data, &f, out, err);
    whaco_outcomes_release(&f);
    if (fflush(out) != 0) {
        fprintf(err, PREFIX ": cannot write the output: %s\n", strerror(errno));
        status = 2;
    }
    return status;
}
