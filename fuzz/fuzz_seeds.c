/*
 * fuzz_seeds.c: writes the binary seeds of fuzz_state (event records and
 * saved states made by the real encoders) into DIR (fuzz/corpus/fuzz_state).
 * Run by fuzz/make-seeds; its output is committed, so this only needs to
 * run again when an encoding changes.
 *
 * File names: seed-event-<name> (mode byte 0), seed-state-<name> (mode 1,
 * with its CRC) and seed-nocrc-<name> (mode 2, the CRC left for the
 * harness to append). Deterministic: fixed times, fixed customers. The
 * old-* files beside them are seeds that earlier formats wrote (event
 * format 1; states before the floor, with SEGM layout 1, before unknown
 * fields), kept as they were so that fuzz_state goes on reading them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whaco/err.h"
#include "whaco/event.h"
#include "whaco/intel.h"

static void write_seed(const char *dir, const char *name, uint8_t mode, const uint8_t *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(&mode, 1, 1, f) != 1 || (n && fwrite(p, 1, n, f) != n) || fclose(f)) {
        fprintf(stderr, "fuzz_seeds: cannot write %s\n", path);
        exit(1);
    }
}

/* An event's seed, named after its type unless stem is given. */
static void write_event(const char *dir, const struct whaco_event *ev, const char *stem)
{
    char name[64];
    struct whaco_buf b = WHACO_BUF_INIT;
    whaco_event_encode(ev, &b);
    snprintf(name, sizeof name, "seed-event-%s", stem ? stem : whaco_event_name(ev->type));
    write_seed(dir, name, 0, b.data, b.len);
    whaco_buf_release(&b);
}

static void write_state(const char *dir, const char *name, const struct whaco_intel *in)
{
    char file[64];
    struct whaco_buf b = WHACO_BUF_INIT;
    whaco_intel_save(in, &b);
    snprintf(file, sizeof file, "seed-state-%s", name);
    write_seed(dir, file, 1, b.data, b.len);
    snprintf(file, sizeof file, "seed-nocrc-%s", name);
    write_seed(dir, file, 2, b.data, b.len - 4);
    whaco_buf_release(&b);
}

/* Complete customers, then some with unknown fields (the desk at arrival,
 * a web lead, an extreme one known by its income and price only). */
static const struct whaco_customer customers[] = {
    {"c-prime", 780, 120000, 45000, 15000, 5000, 2, 60, 0.9, 0},
    {"c-first", 640, 42000, 22000, 1500, 0, 1, 25, 0.4, 0},
    {"c-odd", 300, 2000000, 900000, 0, 0, 40, 600, 0.01, 0},
    {"", 700, 70000, 30000, 6000, 2000, 3, 45, 0.6, 0},
    {"c-desk", 0, 0, 30000, 6000, 2000, 3, 0, 0,
     WHACO_FIELD_CREDIT_SCORE | WHACO_FIELD_ANNUAL_INCOME | WHACO_FIELD_TIME_ON_LOT |
         WHACO_FIELD_ENGAGEMENT},
    {"c-lead", 0, 0, 0, 0, 0, 1, 0, 0, WHACO_FIELDS_ALL & ~WHACO_FIELD_VISIT_COUNT},
    {"c-odd-part", 0, 5000000, 400000, 0, 0, 0, 0, 0,
     WHACO_FIELDS_ALL & ~(WHACO_FIELD_ANNUAL_INCOME | WHACO_FIELD_VEHICLE_PRICE)},
};

int main(int argc, char **argv)
{
    const char *field = NULL;
    struct whaco_event ev;
    struct whaco_analysis an;
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seeds DIR\n");
        return 2;
    }
    const char *dir = argv[1];

    /* One record of each event type (analyze twice: complete, and with unknown fields). */
    whaco_event_init(&ev, WHACO_EV_ANALYZE);
    ev.time_ms = 1764288000000;
    ev.customer = customers[0];
    write_event(dir, &ev, "analyze");
    ev.customer = customers[4];
    write_event(dir, &ev, "analyze-partial");
    whaco_event_init(&ev, WHACO_EV_DEAL_CLOSED);
    ev.time_ms = 1764288001000;
    snprintf(ev.id, sizeof ev.id, "sp-1");
    snprintf(ev.deal_id, sizeof ev.deal_id, "deal-42");
    write_event(dir, &ev, NULL);
    whaco_event_init(&ev, WHACO_EV_ADD_SALESPERSON);
    ev.time_ms = 1764288002000;
    snprintf(ev.id, sizeof ev.id, "sp-2");
    snprintf(ev.name, sizeof ev.name, "Ana Souza");
    ev.skill_level = 0.8;
    ev.natural_frequency = 0.9;
    ev.phase = 1.5;
    ev.active_deals = 2;
    write_event(dir, &ev, NULL);
    whaco_event_init(&ev, WHACO_EV_REMOVE_SALESPERSON);
    ev.time_ms = 1764288003000;
    snprintf(ev.id, sizeof ev.id, "sp-2");
    write_event(dir, &ev, NULL);
    whaco_event_init(&ev, WHACO_EV_OUTCOME);
    ev.time_ms = 1764288003500;
    snprintf(ev.customer_id, sizeof ev.customer_id, "c-prime");
    ev.outcome = WHACO_OUTCOME_SOLD;
    snprintf(ev.id, sizeof ev.id, "sp-1");
    snprintf(ev.deal_id, sizeof ev.deal_id, "deal-43");
    ev.outcome_ms = 1764288003000;
    ev.via = WHACO_VIA_API;
    ev.row = 2;
    write_event(dir, &ev, NULL);
    for (uint32_t t = WHACO_EV_TICK; t <= WHACO_EV_RESET; t++) {
        whaco_event_init(&ev, (enum whaco_event_type)t);
        ev.time_ms = 1764288004000;
        write_event(dir, &ev, NULL);
    }

    /* States: fresh, with a team, and after learning (anomalies, history). */
    struct whaco_intel *in = calloc(1, sizeof *in);
    if (!in || whaco_intel_init(in, NULL, NULL, &field) != WHACO_OK)
        return 1;
    write_state(dir, "empty", in);
    int64_t t = 1764288000000;
    const struct whaco_member_spec team[] = {
        {"sp-1", "Ana", 0.9, 0.9, 0.0, 0},
        {"sp-2", "Bo", 0.4, 1.1, 2.0, 3},
        {"sp-3", "Chen Li", 0.6, 0.7, 4.0, 1},
    };
    for (size_t i = 0; i < sizeof team / sizeof team[0]; i++)
        whaco_intel_add_salesperson(in, &team[i], t += 1000, &field);
    whaco_intel_tick(in, t += 300000);
    write_state(dir, "team", in);
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof customers / sizeof customers[0]; i++)
            whaco_intel_analyze(in, &customers[i], t += 60000, &an, &field);
        whaco_intel_deal_closed(in, "sp-1", NULL, t += 1000, NULL);
        whaco_intel_tick(in, t += 300000);
    }
    write_state(dir, "learned", in);
    whaco_intel_release(in);
    free(in);
    return 0;
}
