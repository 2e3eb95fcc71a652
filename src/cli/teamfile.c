/*
 * teamfile.c: reading the team of `whaco simulate --team FILE`
 * (cli/teamfile.h). The CSV rows are read here with csv.h; a JSON file's
 * shape is http/teamjson.c's (jansson). Every salesperson of either goes
 * through add_member, the one per-member rule, and the whole team through
 * the same end checks (not empty, no duplicate id).
 *
 * Messages: "whaco: FILE: ..." on err, with the CSV line or the JSON
 * position ("salesperson N") and the field at fault; the wording of the CSV
 * ones is the historical one, which scripts may match.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/team.h"
#include "cli/csv.h"
#include "cli/teamfile.h"
#include "http/teamjson.h"
#include "banned.h"

#define TEAM_JSON_LIMIT (1u << 20) /* bytes of a JSON team file: ~5000 salespeople */

_Static_assert(sizeof(((struct whaco_sim_member *)0)->id) == WHACO_TEAM_ID_MAX &&
                   sizeof(((struct whaco_sim_member *)0)->name) == WHACO_TEAM_NAME_MAX,
               "an id and a name that pass whaco_member_spec_check fit a whaco_sim_member");

/* The team being read. */
struct team_read {
    const char *file;             /* borrowed: the file's name, for messages */
    struct whaco_sim_member *out; /* borrowed: [TEAM_FILE_MAX] */
    size_t n;                     /* salespeople so far */
    FILE *err;                    /* borrowed */
};

/*
 * The per-member rule of both formats: check the salesperson found at
 * `where` in the file (CSV: its line; JSON: its position from 1) as the
 * service would (whaco_member_spec_check), then append it with the next
 * starting phase. Strings are borrowed and copied. 0, or -1 after
 * reporting.
 */
static int add_member(struct team_read *t, long where, const char *id, const char *name,
                      double skill_level, double natural_frequency)
{
    const char *field = NULL;
    if (t->n == TEAM_FILE_MAX) {
        fprintf(t->err, "whaco: %s: salesperson %ld: too many salespeople (at most %d)\n", t->file,
                where, TEAM_FILE_MAX);
        return -1;
    }
    struct whaco_member_spec spec = {id, name, skill_level, natural_frequency, 0.0, 0};
    int rc = whaco_member_spec_check(&spec, &field);
    if (rc != WHACO_OK) {
        fprintf(t->err, "whaco: %s: salesperson %ld: %s: %s\n", t->file, where, field ? field : "?",
                whaco_strerror(rc));
        return -1;
    }
    struct whaco_sim_member *m = &t->out[t->n];
    memset(m, 0, sizeof *m);
    memcpy(m->id, id, strlen(id) + 1);       /* checked: 1..63 bytes */
    memcpy(m->name, name, strlen(name) + 1); /* checked: 1..127 bytes */
    m->skill = skill_level;
    m->omega = natural_frequency;
    m->phase = whaco_team_spread_phase(t->n);
    t->n++;
    return 0;
}

/* ===== CSV ===== */

enum csv_column { COL_ID, COL_NAME, COL_SKILL_LEVEL, COL_NATURAL_FREQUENCY, COL_COUNT };

static const char *const column_names[COL_COUNT] = {"id", "name", "skillLevel", "naturalFrequency"};

/* Find the columns in the header row: 0, or -1 after reporting. */
static int read_csv_header(struct csv_reader *r, struct team_read *t, int col[COL_COUNT])
{
    if (csv_read(r) != 1) {
        fprintf(t->err, "whaco: %s: no header row\n", t->file);
        return -1;
    }
    for (int k = 0; k < COL_COUNT; k++)
        col[k] = -1;
    for (int f = 0; f < r->nfields; f++) {
        for (int k = 0; k < COL_COUNT; k++) {
            if (!strcmp(r->fields[f], column_names[k]))
                col[k] = f; /* a repeated column: the last one counts */
        }
    }
    for (int k = 0; k < COL_COUNT; k++) {
        if (col[k] < 0) {
            fprintf(t->err, "whaco: %s: the header has no column %s\n", t->file, column_names[k]);
            return -1;
        }
    }
    return 0;
}

/*
 * Whether the current row has every column, with fields a member can hold
 * (an id or name too long for one is reported as a malformed row, as it
 * always was) and numbers where numbers go; the numbers into *skill_level
 * and *natural_frequency.
 */
static bool csv_row_complete(const struct csv_reader *r, const int col[COL_COUNT],
                             double *skill_level, double *natural_frequency)
{
    for (int k = 0; k < COL_COUNT; k++) {
        if (r->nfields <= col[k])
            return false;
    }
    return strlen(r->fields[col[COL_ID]]) < WHACO_TEAM_ID_MAX &&
           strlen(r->fields[col[COL_NAME]]) < WHACO_TEAM_NAME_MAX &&
           csv_parse_double(r->fields[col[COL_SKILL_LEVEL]], skill_level) == 0 &&
           csv_parse_double(r->fields[col[COL_NATURAL_FREQUENCY]], natural_frequency) == 0;
}

static int read_csv(FILE *fp, struct team_read *t)
{
    struct csv_reader r;
    int col[COL_COUNT], rc = 0;
    csv_reader_init(&r, fp);
    if (read_csv_header(&r, t, col)) {
        csv_reader_release(&r);
        return -1;
    }
    for (;;) {
        double skill_level = 0.0, natural_frequency = 0.0;
        int got = csv_read(&r);
        if (got == 0)
            break;
        if (got < 0 || t->n == TEAM_FILE_MAX) {
            fprintf(t->err, "whaco: %s: line %ld: %s\n", t->file, r.lineno,
                    got < 0 ? (r.error ? r.error : "unreadable") : "too many salespeople");
            rc = -1;
            break;
        }
        if (!csv_row_complete(&r, col, &skill_level, &natural_frequency)) {
            fprintf(t->err, "whaco: %s: line %ld: expected id,name,skillLevel,naturalFrequency\n",
                    t->file, r.lineno);
            rc = -1;
            break;
        }
        rc = add_member(t, r.lineno, r.fields[col[COL_ID]], r.fields[col[COL_NAME]], skill_level,
                        natural_frequency);
        if (rc)
            break;
    }
    csv_reader_release(&r);
    return rc;
}

/* ===== JSON ===== */

static int add_json_member(void *ctx, size_t index, const char *id, const char *name,
                           double skill_level, double natural_frequency)
{
    return add_member(ctx, (long)index, id, name, skill_level, natural_frequency);
}

static int read_json(FILE *fp, struct team_read *t)
{
    char msg[512];
    char *text = whaco_xmalloc(TEAM_JSON_LIMIT + 1);
    size_t len = fread(text, 1, TEAM_JSON_LIMIT + 1, fp);
    int rc = -1;
    if (ferror(fp))
        fprintf(t->err, "whaco: %s: %s\n", t->file, strerror(errno));
    else if (len > TEAM_JSON_LIMIT)
        fprintf(t->err, "whaco: %s: larger than %u bytes\n", t->file, TEAM_JSON_LIMIT);
    else if (teamjson_parse(text, len, add_json_member, t, msg, sizeof msg) == 0)
        rc = 0;
    else if (msg[0])
        fprintf(t->err, "whaco: %s: %s\n", t->file, msg);
    whaco_free(text);
    return rc;
}

/* ===== The whole team ===== */

/* 0 if the team has a member and no id twice; else -1 after reporting. */
static int check_team(const struct team_read *t)
{
    if (t->n == 0) {
        fprintf(t->err, "whaco: %s: no salespeople\n", t->file);
        return -1;
    }
    for (size_t i = 0; i < t->n; i++) {
        for (size_t k = 0; k < i; k++) {
            if (!strcmp(t->out[i].id, t->out[k].id)) {
                fprintf(t->err, "whaco: %s: duplicate id %s\n", t->file, t->out[i].id);
                return -1;
            }
        }
    }
    return 0;
}

int team_file_read(const char *file, struct whaco_sim_member *out, size_t *n, FILE *err)
{
    struct team_read t = {file, out, 0, err};
    FILE *fp = fopen(file, "r");
    if (!fp) {
        fprintf(err, "whaco: %s: %s\n", file, strerror(errno));
        return -1;
    }
    size_t len = strlen(file);
    bool json = len > 5 && !strcmp(file + len - 5, ".json");
    int rc = json ? read_json(fp, &t) : read_csv(fp, &t);
    fclose(fp);
    if (rc == 0)
        rc = check_team(&t);
    *n = t.n;
    return rc;
}
