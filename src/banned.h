/*
 * banned.h: functions whaco code must not call, turned into compile errors
 * (git's banned.h). Include it last, after every system header.
 *
 * strcpy/strcat/sprintf overflow silently; atoi/atof cannot report errors;
 * strtok keeps hidden global state. Use snprintf, memcpy with a checked
 * length, strtod/strtol with end-pointer and errno checks instead.
 */
#ifndef WHACO_BANNED_H
#define WHACO_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef atof
#define atof(x) BANNED(atof)
#undef strtok
#define strtok(x, y) BANNED(strtok)

#endif /* WHACO_BANNED_H */
