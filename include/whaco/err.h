/*
 * whaco/err.h: the error codes of every whaco library.
 *
 * 0 means success; every error is a distinct negative value, so a caller can
 * test `rc < 0` and a test can assert the exact code. One X-macro table
 * yields both the enum and the message returned by whaco_strerror(), so the
 * two can never drift apart (libuv's UV_ERRNO_MAP).
 *
 * Validation errors say *what* was wrong; the function that returns one also
 * names the offending field (an API field name such as "creditScore")
 * through an out-parameter, so the HTTP layer and the CLI can tell the user
 * exactly which input to fix.
 *
 * Codes are stable: new codes are appended, existing values never change
 * (they may be logged and compared across versions).
 */
#ifndef WHACO_ERR_H
#define WHACO_ERR_H

#define WHACO_ERR_MAP(X)                                                                           \
    X(INVAL, -1, "invalid argument")                                                               \
    X(NOT_FINITE, -2, "value must be a finite number")                                             \
    X(CREDIT_SCORE_RANGE, -3, "creditScore must be between 300 and 850")                           \
    X(NEGATIVE_MONEY, -4, "money amounts must not be negative")                                    \
    X(VEHICLE_PRICE, -5, "vehiclePrice must be greater than 0")                                    \
    X(DOWN_EXCEEDS_PRICE, -6, "downPayment must not exceed vehiclePrice")                          \
    X(ENGAGEMENT_RANGE, -7, "engagement must be between 0 and 1")                                  \
    X(NEGATIVE_COUNT, -8, "counts must not be negative")                                           \
    X(ID_LENGTH, -9, "identifier must be 1 to 63 bytes of printable text")                         \
    X(CONFIG, -10, "configuration value out of range")                                             \
    X(STATE_CORRUPT, -11, "serialised state is corrupt")                                           \
    X(STATE_VERSION, -12, "serialised state has an unsupported format version")                    \
    X(EMPTY_TEAM, -13, "No salespeople in network")                                                \
    X(NOT_FOUND, -14, "salesperson not found")                                                     \
    X(DUPLICATE, -15, "a salesperson with this id already exists")                                 \
    X(SKILL_RANGE, -16, "skillLevel must be between 0 and 1")                                      \
    X(FREQUENCY_RANGE, -17, "naturalFrequency out of range")                                       \
    X(NAME_LENGTH, -18, "name must be 1 to 127 bytes of text")                                     \
    X(TIME_BACKWARDS, -19, "time must not go backwards")                                           \
    X(TEAM_FULL, -20, "team has reached its maximum size")                                         \
    X(NOT_INTEGER, -21, "value must be a whole number")                                            \
    X(IO, -22, "input/output error")                                                               \
    X(PARSE, -23, "malformed input")                                                               \
    X(UNAVAILABLE, -24, "service is shutting down or its storage has failed")                      \
    X(NOMEM, -25, "out of memory")                                                                 \
    X(FLOOR_OFF, -26, "the floor is not tracked (floor-tracking off, or auto before a clock-in)")  \
    X(CUSTOMER_NOT_FOUND, -27, "no walk-in with this customerId")                                  \
    X(VISIT_ENDED, -28, "this walk-in already left or bought")                                     \
    X(OFF_FLOOR, -29, "the salesperson is not clocked in")                                         \
    X(WRONG_SALESPERSON, -30, "the walk-in is not with this salesperson")                          \
    X(STATUS_VALUE, -31, "status must be one of available, break, delivery, appointment")          \
    X(OUTCOME_VALUE, -32, "outcome must be one of no_sale, be_back, appointment")                  \
    X(FLOOR_FULL, -33, "too many walk-ins in the store at once")                                   \
    X(NO_KNOWN_FEATURE, -34,                                                                       \
      "no feature of the customer is known: give at least one of creditScore, annualIncome, "      \
      "vehiclePrice, visitCount, timeOnLot, engagement (downPayment and tradeValue count only "    \
      "with vehiclePrice)")                                                                        \
    X(ALREADY_RECORDED, -35, "this outcome is already recorded")                                   \
    X(OUTCOME_CONFLICT, -36, "the walk-in already ended with another outcome")                     \
    X(BEFORE_ARRIVAL, -37, "the outcome's time is before the walk-in arrived")                     \
    X(TIME_FUTURE, -38, "time must not be more than 5 minutes in the future")

enum whaco_err {
    WHACO_OK = 0,
#define WHACO_ERR_ENUM(name, value, msg) WHACO_E_##name = (value),
    WHACO_ERR_MAP(WHACO_ERR_ENUM)
#undef WHACO_ERR_ENUM
};

/*
 * Return a static, human-readable message for an error code (WHACO_OK gives
 * "success"; an unknown code gives "unknown error"). Never NULL. The string
 * is owned by the library and valid for the life of the process.
 * Thread-safe.
 */
const char *whaco_strerror(int err);

/*
 * Return the symbolic name of an error code without its prefix, e.g.
 * "CREDIT_SCORE_RANGE" for WHACO_E_CREDIT_SCORE_RANGE, "OK" for WHACO_OK and
 * "UNKNOWN" otherwise. Stable across versions: the HTTP layer uses it as the
 * machine-readable error code. Never NULL; static storage. Thread-safe.
 */
const char *whaco_errname(int err);

#endif /* WHACO_ERR_H */
