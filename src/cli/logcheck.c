/*
 * logcheck.c: `whaco log` and `whaco state verify` -- look at a data
 * directory's event log and check that its state is what the log says.
 *
 *   whaco log [--data DIR] [--after SEQ]    the log as JSON lines
 *   whaco state verify [--data DIR]         start-up state == full replay?
 *
 * Both go through the store (whaco/store.h) and the engine's loader only;
 * neither creates a store (WHACO_STORE_MUST_EXIST: a missing DIR/whaco.db
 * is an error) and neither writes an event, so they are safe while a server
 * runs and right after a crash (opening recovers the WAL exactly as the
 * server would).
 *
 * Invariants: every string printed as JSON is escaped by the CLI's one rule
 * (cli_json_escape in cli/common.h: quotes, backslashes, control
 * characters; bytes >= 0x80 pass through: ids are UTF-8 checked by the
 * API). `state verify` never reports "yes" for a comparison it could not
 * make: when the log no longer starts at event 1 (compacted) the full replay
 * is reported as not possible, and the exit status is 0 only if every
 * comparison made was equal.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "whaco/alloc.h"
#include "whaco/engine.h"
#include "whaco/err.h"
#include "whaco/event.h"
#include "whaco/floor.h"
#include "whaco/store.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "banned.h"

/*==== whaco log ===========================================================*/

struct log_ctx {
    FILE *out, *err;
    uint64_t bad; /* events that did not decode */
};

/* ,"name":"value" */
static void print_field(FILE *out, const char *name, const char *value)
{
    fprintf(out, ",\"%s\":", name);
    cli_json_string(out, value);
}

/* ,"name":"text", or ,"name":value when the value has no name (never from a valid event). */
static void print_name(FILE *out, const char *name, const char *text, long value)
{
    if (text)
        print_field(out, name, text);
    else
        fprintf(out, ",\"%s\":%ld", name, value);
}

/* ,"missingFields":["creditScore",...]: a customer's unknown fields; nothing when all are known. */
static void print_missing(FILE *out, uint32_t missing)
{
    if (!missing)
        return;
    const char *sep = "";
    fputs(",\"missingFields\":[", out);
    for (int i = 0; i < WHACO_FIELDS; i++) {
        if (!(missing & (1u << i)))
            continue;
        fputs(sep, out);
        cli_json_string(out, whaco_field_name(i));
        sep = ",";
    }
    fputc(']', out);
}

static int print_event(void *arg, uint64_t seq, int64_t time_ms, uint32_t type, const void *body,
                       size_t len)
{
    struct log_ctx *c = arg;
    struct whaco_event ev;
    fprintf(c->out, "{\"seq\":%" PRIu64 ",\"timeMs\":%" PRId64 ",\"type\":", seq, time_ms);
    cli_json_string(c->out, whaco_event_name(type));
    int rc = whaco_event_decode(&ev, body, len);
    if (rc != WHACO_OK || ev.type != type) {
        c->bad++;
        fputs(",\"error\":", c->out);
        cli_json_string(c->out, rc != WHACO_OK ? whaco_strerror(rc) : "body of another type");
        fputs("}\n", c->out);
        fprintf(c->err, "whaco log: event %" PRIu64 " does not decode\n", seq);
        return 0;
    }
    switch (ev.type) {
    case WHACO_EV_ANALYZE:
        fputs(",\"customerId\":", c->out);
        cli_json_string(c->out, ev.customer.id);
        print_missing(c->out, ev.customer.missing); /* a complete one prints as it always did */
        break;
    case WHACO_EV_DEAL_CLOSED:
        fputs(",\"salespersonId\":", c->out);
        cli_json_string(c->out, ev.id);
        fputs(",\"dealId\":", c->out);
        cli_json_string(c->out, ev.deal_id);
        if (ev.customer_id[0]) /* the floor's link: a deal without one prints as it always did */
            print_field(c->out, "customerId", ev.customer_id);
        break;
    case WHACO_EV_ADD_SALESPERSON:
    case WHACO_EV_REMOVE_SALESPERSON:
        fputs(",\"id\":", c->out);
        cli_json_string(c->out, ev.id);
        break;
    case WHACO_EV_CLOCK_IN:
    case WHACO_EV_CLOCK_OUT:
        print_field(c->out, "salespersonId", ev.id);
        break;
    case WHACO_EV_STATUS:
        print_field(c->out, "salespersonId", ev.id);
        print_name(c->out, "status", whaco_seat_status_name(ev.status), ev.status);
        break;
    case WHACO_EV_CUSTOMER_LEFT:
        print_field(c->out, "customerId", ev.customer_id);
        print_name(c->out, "outcome", whaco_outcome_name(ev.outcome), ev.outcome);
        print_field(c->out, "salespersonId", ev.id); /* "" when the request named nobody */
        break;
    case WHACO_EV_OVERRIDE:
        print_field(c->out, "customerId", ev.customer_id);
        print_field(c->out, "salespersonId", ev.id);
        break;
    case WHACO_EV_FLOOR_SETTINGS:
        print_name(c->out, "floorTracking", whaco_floor_tracking_name((int)ev.floor.tracking),
                   (long)ev.floor.tracking);
        print_name(c->out, "assignment", whaco_floor_rule_name((int)ev.floor.rule),
                   (long)ev.floor.rule);
        fprintf(c->out, ",\"maxCustomers\":%" PRIu32 ",\"beBackToOriginal\":%s",
                ev.floor.max_customers, ev.floor.be_back_to_original ? "true" : "false");
        break;
    case WHACO_EV_OUTCOME:
        print_field(c->out, "customerId", ev.customer_id);
        print_name(c->out, "outcome", whaco_outcome_name(ev.outcome), ev.outcome);
        print_field(c->out, "salespersonId", ev.id); /* "" when the row named nobody */
        print_field(c->out, "dealId", ev.deal_id);
        fprintf(c->out, ",\"outcomeTimeMs\":%" PRId64, ev.outcome_ms);
        print_name(c->out, "via", ev.via == WHACO_VIA_API ? "api" : "cli", ev.via);
        fprintf(c->out, ",\"row\":%" PRIu32, ev.row);
        break;
    case WHACO_EV_EXPERIMENT_SETTINGS:
        fprintf(c->out, ",\"enabled\":%s", ev.experiment.enabled ? "true" : "false");
        if (ev.experiment.enabled) {
            print_name(c->out, "assignmentA", whaco_floor_rule_name(ev.experiment.rule[0]),
                       (long)ev.experiment.rule[0]);
            print_name(c->out, "assignmentB", whaco_floor_rule_name(ev.experiment.rule[1]),
                       (long)ev.experiment.rule[1]);
            fprintf(c->out, ",\"seed\":%" PRIu64, ev.experiment.seed);
        }
        break;
    case WHACO_EV_TICK:
    case WHACO_EV_DAILY_RESET:
    case WHACO_EV_RESET:
        break; /* the type and the time are the whole event */
    default:
        break; /* not reached: whaco_event_decode refuses types outside the table */
    }
    fputs("}\n", c->out);
    return 0;
}

static int log_usage(FILE *err)
{
    fputs("usage: whaco log [--data DIR] [--after SEQ]\n"
          "  prints the event log as JSON lines: seq, timeMs, type and the event's ids\n"
          "  (and a floor event's status, outcome or settings; an imported outcome's\n"
          "  dealId, time as the CRM gave it, and where it came from; an experiment's\n"
          "  rules and seed)\n",
          err);
    return 2;
}

int whaco_cmd_log(int argc, char **argv, FILE *out, FILE *err)
{
    const char *data = cli_default_data();
    uint64_t after = 0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            return log_usage(err);
        if (!strcmp(argv[i], "--data")) {
            data = argv[++i];
        } else if (!strcmp(argv[i], "--after")) {
            const char *v = argv[++i];
            char *end;
            errno = 0;
            unsigned long long n = strtoull(v, &end, 10);
            if (end == v || *end || errno || v[0] == '-') {
                fprintf(err, "whaco log: --after: expected a sequence number, got '%s'\n", v);
                return 2;
            }
            after = n;
        } else {
            return log_usage(err);
        }
    }
    struct whaco_store *s = NULL;
    int status = cli_open_existing_store(data, &s, "whaco log", err);
    if (status)
        return status;
    struct log_ctx c = {out, err, 0};
    int rc = whaco_store_replay(s, after, print_event, &c);
    if (rc != WHACO_OK) {
        fprintf(err, "whaco log: %s\n", whaco_store_errmsg(s));
        status = 2;
    } else if (c.bad) {
        status = 1;
    }
    whaco_store_close(s);
    if (fflush(out) != 0) {
        fprintf(err, "whaco log: cannot write the output: %s\n", strerror(errno));
        status = 2;
    }
    return status;
}

/*==== whaco state verify ==================================================*/

struct full_replay {
    struct whaco_intel in;
    uint64_t snapshot_seq; /* save and compare when this event is applied */
    const void *snapshot;  /* the latest snapshot, NULL if none */
    size_t snapshot_len;
    int snapshot_equal;  /* -1 not compared, 0 differs, 1 equal */
    uint64_t failed_seq; /* an event that would not apply; 0 if none */
    int failed_rc;
};

static int bytes_equal(const struct whaco_intel *in, const void *p, size_t len)
{
    struct whaco_buf b = WHACO_BUF_INIT;
    whaco_intel_save(in, &b);
    int eq = b.len == len && memcmp(b.data, p, len) == 0;
    whaco_buf_release(&b);
    return eq;
}

static int apply_logged(void *arg, uint64_t seq, int64_t time_ms, uint32_t type, const void *body,
                        size_t len)
{
    struct full_replay *f = arg;
    struct whaco_event ev;
    (void)time_ms;
    (void)type;
    int rc = whaco_event_decode(&ev, body, len);
    if (rc == WHACO_OK)
        rc = whaco_event_apply(&f->in, &ev, NULL, NULL);
    if (rc != WHACO_OK) {
        f->failed_seq = seq;
        f->failed_rc = rc;
        return 1;
    }
    if (f->snapshot && seq == f->snapshot_seq)
        f->snapshot_equal = bytes_equal(&f->in, f->snapshot, f->snapshot_len);
    return 0;
}

static const char *yes_no(int v)
{
    return v ? "yes" : "NO";
}

/*
 * The oldest snapshot, if it is at seq 0 (an imported state: the state
 * before event 1): *state a copy the caller frees with whaco_free (or
 * NULL), *len its size. WHACO_OK or the store's error.
 */
static int import_snapshot(struct whaco_store *s, void **state, size_t *len)
{
    uint64_t before = UINT64_MAX, seq = 0;
    *state = NULL;
    *len = 0;
    for (;;) {
        void *p = NULL;
        size_t n = 0;
        int rc = whaco_store_snapshot_before(s, before, &seq, NULL, &p, &n);
        if (rc != WHACO_OK || !p)
            return rc;
        if (seq == 0) {
            *state = p;
            *len = n;
            return WHACO_OK;
        }
        whaco_free(p);
        before = seq;
    }
}

/*
 * Replay the whole log onto the state before event 1 -- an empty model
 * configured like *loaded (a state keeps its settings for life: reset
 * reuses them), or a snapshot at seq 0 (an imported state) -- checking the
 * latest snapshot on the way, and compare the result with *loaded.
 * Returns 0 if all equal, 1 if not, 2 on a store error (reported).
 */
static int compare_full_replay(struct whaco_store *s, const struct whaco_intel *loaded, FILE *out,
                               FILE *err)
{
    struct full_replay f;
    memset(&f, 0, sizeof f);
    f.snapshot_equal = -1;
    void *snap = NULL;
    size_t snap_len = 0;
    uint64_t snap_seq = 0;
    void *base = NULL;
    size_t base_len = 0;
    if (whaco_store_latest_snapshot(s, &snap_seq, NULL, &snap, &snap_len) != WHACO_OK ||
        import_snapshot(s, &base, &base_len) != WHACO_OK) {
        fprintf(err, "whaco state verify: %s\n", whaco_store_errmsg(s));
        whaco_free(snap);
        return 2;
    }
    int rc = whaco_intel_init(&f.in, &loaded->seg.cfg, &loaded->team.cfg, NULL);
    bool imported = base != NULL;
    if (rc == WHACO_OK && imported)
        rc = whaco_intel_load(&f.in, base, base_len);
    whaco_free(base);
    if (rc != WHACO_OK) {
        fprintf(err, "whaco state verify: cannot build the state before event 1: %s\n",
                whaco_strerror(rc));
        whaco_intel_release(&f.in);
        whaco_free(snap);
        return 2;
    }
    f.snapshot = snap && snap_seq > 0 ? snap : NULL;
    f.snapshot_len = snap_len;
    f.snapshot_seq = snap_seq;
    rc = whaco_store_replay(s, 0, apply_logged, &f);
    int status = 0;
    if (rc < 0) {
        fprintf(err, "whaco state verify: %s\n", whaco_store_errmsg(s));
        status = 2;
    } else if (f.failed_seq) {
        fprintf(out, "event %" PRIu64 " does not apply in a full replay: %s\n", f.failed_seq,
                whaco_strerror(f.failed_rc));
        fprintf(out, "state equals a full replay of the log: NO\n");
        status = 1;
    } else {
        if (f.snapshot) {
            fprintf(out, "snapshot at seq %" PRIu64 " equals a replay of the log up to it: %s\n",
                    snap_seq, yes_no(f.snapshot_equal == 1));
            if (f.snapshot_equal != 1)
                status = 1;
        }
        struct whaco_buf b = WHACO_BUF_INIT;
        whaco_intel_save(loaded, &b);
        int same = bytes_equal(&f.in, b.data, b.len);
        whaco_buf_release(&b);
        fprintf(out, "state equals a full replay of the log: %s\n", yes_no(same));
        if (!same)
            status = 1;
    }
    if (status == 1 && !imported)
        fprintf(out, "(a state imported with `whaco state import` or `whaco analyze --save` whose"
                     " import snapshot was compacted away does not start from an empty model:"
                     " there a difference is expected)\n");
    whaco_intel_release(&f.in);
    whaco_free(snap);
    return status;
}

static int verify_usage(FILE *err)
{
    fputs("usage: whaco state verify [--data DIR]\n"
          "  loads the state as the server does (latest snapshot + the log after it) and,\n"
          "  while the log still starts at event 1, compares it with a replay of the whole\n"
          "  log from an empty model; exit 0 equal, 1 different, 2 error\n",
          err);
    return 2;
}

int whaco_state_verify(int argc, char **argv, FILE *out, FILE *err)
{
    const char *data = cli_default_data();
    char msg[1024];
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--data"))
            data = argv[++i];
        else
            return verify_usage(err);
    }
    struct whaco_store *s = NULL;
    struct whaco_store_spec spec = {0};
    int status = cli_store_spec(data, &spec, "whaco state verify", err);
    if (!status)
        status = cli_open_existing_store(data, &s, "whaco state verify", err);
    if (status)
        return status;
    spec.flags = WHACO_STORE_MUST_EXIST;
    struct whaco_store_stats st;
    if (whaco_store_stats(s, &st) != WHACO_OK) {
        fprintf(err, "whaco state verify: %s\n", whaco_store_errmsg(s));
        whaco_store_close(s);
        return 2;
    }

    /* The state exactly as the server builds it at start. */
    struct whaco_intel loaded;
    if (whaco_intel_init(&loaded, NULL, NULL, NULL) != WHACO_OK ||
        whaco_engine_load(&spec, &loaded, msg, sizeof msg) != WHACO_OK) {
        fprintf(err, "whaco state verify: the server could not start from it: %s\n", msg);
        whaco_intel_release(&loaded);
        whaco_store_close(s);
        return 1;
    }
    fprintf(out, "data: %s\n", whaco_store_where(s));
    if (st.events)
        fprintf(out, "events: %" PRIu64 " (seq %" PRIu64 " to %" PRIu64 ")\n", st.events,
                st.first_seq, st.last_seq);
    else
        fprintf(out, "events: 0\n");
    fprintf(out, "last seq: %" PRIu64 "\n", st.last_seq);
    if (st.has_snapshot)
        fprintf(out, "snapshots: %" PRIu64 " (latest at seq %" PRIu64 ")\n", st.snapshots,
                st.snapshot_seq);
    else
        fprintf(out, "snapshots: 0\n");
    fprintf(out, "start-up state: loads (%zu salespeople, %" PRIu64 " customers learned)\n",
            loaded.team.n, (uint64_t)loaded.seg.processed);

    int complete = st.events == st.last_seq && (st.events == 0 || st.first_seq == 1);
    if (complete) {
        status = compare_full_replay(s, &loaded, out, err);
    } else {
        fprintf(out,
                "state equals a full replay of the log: not checked (the log starts at seq %" PRIu64
                ": events before it were compacted away)\n",
                st.first_seq);
    }
    whaco_intel_release(&loaded);
    whaco_store_close(s);
    return status;
}
