/*
 * err.c: messages and names for the codes in whaco/err.h, generated from the
 * same X-macro table as the enum itself.
 */
#include "whaco/err.h"
#include "banned.h"

const char *whaco_strerror(int err)
{
    switch (err) {
    case WHACO_OK:
        return "success";
#define WHACO_ERR_MSG(name, value, msg)                                                            \
    case WHACO_E_##name:                                                                           \
        return msg;
        WHACO_ERR_MAP(WHACO_ERR_MSG)
#undef WHACO_ERR_MSG
    }
    return "unknown error";
}

const char *whaco_errname(int err)
{
    switch (err) {
    case WHACO_OK:
        return "OK";
#define WHACO_ERR_NAME(name, value, msg)                                                           \
    case WHACO_E_##name:                                                                           \
        return #name;
        WHACO_ERR_MAP(WHACO_ERR_NAME)
#undef WHACO_ERR_NAME
    }
    return "UNKNOWN";
}
