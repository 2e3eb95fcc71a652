/*
 * cli/teamfile.h: the team of `whaco simulate --team FILE`, read from a
 * CSV file or, when the name ends in ".json", a JSON file:
 *
 *   CSV   a header row naming the columns id, name, skillLevel and
 *         naturalFrequency (in any order; other columns are ignored), then
 *         one salesperson a row;
 *   JSON  an array of {"id", "name", "skillLevel", "naturalFrequency"}
 *         objects (http/teamjson.h).
 *
 * Both check every salesperson with the one rule of the service
 * (whaco_member_spec_check: id, name, skill level and natural frequency in
 * range), refuse a duplicate id and an empty team, and give member i
 * (from 0) the starting phase whaco_team_spread_phase(i).
 */
#ifndef WHACO_CLI_TEAMFILE_H
#define WHACO_CLI_TEAMFILE_H

#include <stddef.h>
#include <stdio.h>

#include "whaco/sim.h"

#define TEAM_FILE_MAX 1000 /* salespeople in a team file */

/*
 * Read file into out[TEAM_FILE_MAX]: 0 with *n salespeople (at least one),
 * or -1 after reporting on err, naming the file and, for a salesperson at
 * fault, its line (CSV) or its position from 1 (JSON) and the field.
 * *n and out are unspecified after an error.
 */
int team_file_read(const char *file, struct whaco_sim_member *out, size_t *n, FILE *err);

#endif /* WHACO_CLI_TEAMFILE_H */
