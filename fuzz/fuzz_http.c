/*
 * fuzz_http.c: libFuzzer target for the whole HTTP request handling of
 * `whaco serve`, in-process: method, path, query, headers and body.
 *
 * LLVMFuzzerInitialize starts what `whaco serve` starts (src/cli/serve.c):
 * an engine on a store in a fresh temporary directory (sync normal, quiet
 * background intervals), the event-stream hub, and the HTTP server on
 * 127.0.0.1, port 0, with a small web directory and a 4 KiB body limit (so
 * the 413 paths are in reach) -- two servers on the same engine, each input
 * sent to both:
 *   - "open": tokens are not required for reads and writes, as on a
 *     loopback default; the admin endpoints need one; the bad-token lockout
 *     and the per-address connection cap are off, so its answers depend on
 *     the input alone;
 *   - "guarded": require-auth, and the lockout and the per-address cap on,
 *     with a small limit and a 200 ms window, so the fuzzer reaches the 401,
 *     403 and 429 paths and gets back in quickly.
 * Three fixed tokens (admin, write, read; FUZZ_TOKEN_* below) are stored, so
 * the seed corpus's "Authorization: Bearer ..." headers reach every auth
 * path.
 *
 * Each input is the raw bytes a client sends on one connection: written to
 * a fresh TCP connection to each server in turn, which is then half-closed
 * (and closed with a reset at the end); the answer is read until the
 * server closes, the expected number of responses has arrived, an event
 * stream starts, or a time bound passes. Answers are checked strictly for the requests whose
 * framing is unambiguous (plain "name: value" header blocks, see
 * count_requests), otherwise only up to the first answer's head, because
 * how libmicrohttpd splits garbage into requests is its business.
 * Invariants checked:
 *   - every response starts with a well-formed status line and complete
 *     headers;
 *   - a whaco response (the API sends "Cache-Control: no-store") with a 4xx
 *     or 5xx status has a JSON body {"error":{"code":"...","message":"..."}};
 *   - every complete application/json body parses as JSON.
 * A broken invariant aborts; a crash, leak or UB in the server's threads is
 * a sanitizer report that ends the process, which libFuzzer reports.
 *
 * Bounds: run with -max_len (8192 in the Makefile); requests are counted by
 * a small framing scan of the input (whole requests by Content-Length or
 * chunked encoding) so that the harness waits long only when an answer is
 * owed, and at most READ_CAP bytes of answer are kept.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "whaco/engine.h"
#include "whaco/err.h"
#include "whaco/store.h"
#include "http/server.h"
#include "http/sse.h"

/* The answer being checked, printed when an invariant fails. */
static const char *answer;
static size_t answer_len;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr,                                                                        \
                    "fuzz_http: invariant failed: %s (%s:%d)\nanswer (%zu bytes):\n%.*s\n", #cond, \
                    __FILE__, __LINE__, answer_len, (int)(answer_len < 4000 ? answer_len : 4000),  \
                    answer ? answer : "");                                                         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The tokens the seed corpus uses (fuzz/corpus/fuzz_http, fuzz/http.dict). */
#define FUZZ_TOKEN_ADMIN "whaco_fuzzAdminToken0000000000000000000000000000"
#define FUZZ_TOKEN_WRITE "whaco_fuzzWriteToken0000000000000000000000000000"
#define FUZZ_TOKEN_READ  "whaco_fuzzReadToken00000000000000000000000000000"

#define MAX_REQUESTS  64        /* requests counted in one input */
#define READ_CAP      (1 << 20) /* bytes of answer kept */
#define WAIT_OWED_MS  1000      /* an answer is owed: wait this long for it */
#define WAIT_MAYBE_MS 30        /* no whole request: the server may still answer early */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct whaco_engine *engine;
enum { OPEN, GUARDED, SERVERS };
static struct whaco_server *servers[SERVERS];
static uint16_t ports[SERVERS];
static struct sse_hub *hub;
static char data_dir[256];
static char web_dir[300];
static bool verbose; /* FUZZ_HTTP_VERBOSE=1: print each answer (debugging the harness) */

/*==== Set-up ==============================================================*/

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    CHECK(fclose(f) == 0);
}

static void add_token(struct whaco_store *s, const char *token, const char *role)
{
    uint8_t hash[WHACO_TOKEN_HASH_BYTES];
    crypto_hash_sha256(hash, (const unsigned char *)token, strlen(token));
    CHECK(whaco_store_token_add(s, hash, role, "fuzz", 0) == WHACO_OK);
}

static void make_data_dir(void)
{
    char msg[1024];
    struct whaco_store *s = NULL;
    const char *tmp = getenv("TMPDIR");
    snprintf(data_dir, sizeof data_dir, "%s/whaco-fuzz-http-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    CHECK(mkdtemp(data_dir) != NULL);
    snprintf(web_dir, sizeof web_dir, "%s/web", data_dir);
    CHECK(mkdir(web_dir, 0700) == 0);
    write_file(strcat(strcpy(msg, web_dir), "/index.html"), "<!doctype html><title>w</title>\n");
    write_file(strcat(strcpy(msg, web_dir), "/app.js"), "console.log('whaco');\n");
    CHECK(sodium_init() >= 0);
    struct whaco_store_spec spec = {WHACO_STORE_SQLITE, data_dir, WHACO_SYNC_NORMAL, 0};
    CHECK(whaco_store_open(&spec, &s, msg, sizeof msg) == WHACO_OK);
    add_token(s, FUZZ_TOKEN_ADMIN, "admin");
    add_token(s, FUZZ_TOKEN_WRITE, "write");
    add_token(s, FUZZ_TOKEN_READ, "read");
    whaco_store_close(s);
}

/* Remove the temporary directory (a few files, one level of subdirectory). */
static void remove_data_dir(void)
{
    char cmd[600];
    if (!data_dir[0] || strchr(data_dir, '\''))
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", data_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_http: could not remove %s\n", data_dir);
}

static void stop_all(void)
{
    for (int i = 0; i < SERVERS; i++) {
        if (servers[i]) {
            whaco_server_drain(servers[i]);
            whaco_server_stop(servers[i], 2000);
            servers[i] = NULL;
        }
    }
    if (engine) {
        whaco_engine_stop(engine);
        engine = NULL;
    }
    if (hub) {
        sse_hub_free(hub);
        hub = NULL;
    }
    remove_data_dir();
}

static void start_server(const struct whaco_server_config *sc, int which)
{
    char msg[1024];
    if (whaco_server_start(sc, engine, &servers[which], msg, sizeof msg) != WHACO_OK) {
        fprintf(stderr, "fuzz_http: server: %s\n", msg);
        abort();
    }
    ports[which] = whaco_server_port(servers[which]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct whaco_engine_config ec;
    struct whaco_server_config sc;
    char msg[1024];
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    verbose = getenv("FUZZ_HTTP_VERBOSE") != NULL;
    make_data_dir();

    hub = sse_hub_new();
    whaco_engine_config_default(&ec);
    ec.store.location = data_dir;
    ec.store.sync = WHACO_SYNC_NORMAL;
    ec.tick_ms = 3600000;    /* quiet: the fuzzer's requests are the events */
    ec.snapshot_ms = 600000; /* one snapshot (and compaction) every 10 minutes */
    ec.publish = whaco_http_publish;
    ec.view_free = whaco_http_view_free;
    ec.ctx = hub;
    if (whaco_engine_start(&ec, &engine, msg, sizeof msg) != WHACO_OK) {
        fprintf(stderr, "fuzz_http: engine: %s\n", msg);
        abort();
    }
    whaco_server_config_default(&sc);
    sc.host = "127.0.0.1";
    sc.port = 0;
    sc.body_limit = 4096;
    sc.threads = 2;
    sc.require_auth = false;
    sc.log_requests = false;
    sc.store.location = data_dir;
    sc.conn_timeout = 2;
    sc.web_dir = web_dir;
    sc.hub = hub;
    /* The fuzzer sends bad tokens and opens connections by the thousand from
     * one address: a lockout or a per-address cap would make each answer
     * depend on the inputs before it (both have their own API tests). */
    sc.auth_failure_limit = 0;
    sc.max_connections_per_address = 0;
    start_server(&sc, OPEN);
    sc.require_auth = true;
    sc.auth_failure_limit = 5;
    sc.auth_failure_window_ms = 200;
    sc.max_connections_per_address = 16;
    start_server(&sc, GUARDED);
    atexit(stop_all);
    return 0;
}

/*==== Counting the requests in an input ===================================*/

/*
 * The end of the header block starting at p (past its blank line), or NULL:
 * the first line, after the first, that is empty or a lone CR -- LF ends a
 * line, as libmicrohttpd reads it.
 */
static const uint8_t *headers_end(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    while (nl) {
        const uint8_t *line = nl + 1;
        nl = memchr(line, '\n', (size_t)(end - line));
        if (nl && (nl == line || (nl == line + 1 && *line == '\r')))
            return nl + 1;
    }
    return NULL;
}

/* The value of header `name` in [p, end) (case-insensitive), as a C string in out. */
static bool header_value(const uint8_t *p, const uint8_t *end, const char *name, char *out,
                         size_t cap)
{
    size_t n = strlen(name);
    for (const uint8_t *line = p; line < end;) {
        const uint8_t *nl = memchr(line, '\n', (size_t)(end - line));
        const uint8_t *stop = nl ? nl : end;
        if ((size_t)(stop - line) > n && strncasecmp((const char *)line, name, n) == 0 &&
            line[n] == ':') {
            const uint8_t *v = line + n + 1;
            while (v < stop && (*v == ' ' || *v == '\t'))
                v++;
            size_t len = (size_t)(stop - v);
            while (len && (v[len - 1] == '\r' || v[len - 1] == ' '))
                len--;
            if (len >= cap)
                len = cap - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return true;
        }
        line = stop + 1;
    }
    return false;
}

/* 1 if s contains word, ignoring case. */
static bool contains_ci(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (; *s; s++)
        if (strncasecmp(s, word, n) == 0)
            return true;
    return false;
}

/* Skip a whole chunked body at p; NULL if it is not complete. */
static const uint8_t *skip_chunked(const uint8_t *p, const uint8_t *end)
{
    for (;;) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return NULL;
        char *stop;
        char line[32];
        size_t len = (size_t)(nl - p) < sizeof line - 1 ? (size_t)(nl - p) : sizeof line - 1;
        memcpy(line, p, len);
        line[len] = '\0';
        unsigned long size = strtoul(line, &stop, 16);
        if (stop == line)
            return NULL;
        p = nl + 1;
        if (size == 0) { /* trailers, then a blank line */
            for (;;) {
                nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl)
                    return NULL;
                bool blank = nl == p || (nl == p + 1 && *p == '\r');
                p = nl + 1;
                if (blank)
                    return p;
            }
        }
        if ((size_t)(end - p) < size)
            return NULL;
        p += size;
        if (p < end && *p == '\r')
            p++;
        if (p >= end || *p != '\n')
            return NULL;
        p++;
    }
}

/*
 * 1 if [p, end) holds only printable ASCII, tabs and CRLF or LF line ends:
 * a header block that any HTTP parser frames the same way.
 */
static bool plain_text(const uint8_t *p, const uint8_t *end)
{
    for (; p < end; p++) {
        if (*p == '\r' && !(p + 1 < end && p[1] == '\n'))
            return false;
        if ((*p < 0x20 && *p != '\t' && *p != '\r' && *p != '\n') || *p >= 0x7f)
            return false;
    }
    return true;
}

/* 1 if every line of the header block after the request line is "name: value". */
static bool header_lines_ok(const uint8_t *p, const uint8_t *end)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~";
    const uint8_t *line = memchr(p, '\n', (size_t)(end - p));
    for (line = line ? line + 1 : end; line < end;) {
        const uint8_t *nl = memchr(line, '\n', (size_t)(end - line));
        const uint8_t *q = line;
        if (!nl || nl == line || (nl == line + 1 && *line == '\r'))
            break; /* the blank line that ends the block */
        while (q < nl && *q &&
               ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
                strchr(tchar, *q)))
            q++;
        if (q == line || q == nl || *q != ':')
            return false;
        line = nl + 1;
    }
    return true;
}

/* 1 if p starts with a plain request line: METHOD SP target SP HTTP/1.x CRLF. */
static bool request_line_ok(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *q = p;
    while (q < end && *q >= 'A' && *q <= 'Z')
        q++;
    if (q == p || q >= end || *q++ != ' ')
        return false;
    const uint8_t *target = q;
    while (q < end && *q != ' ' && *q != '\r' && *q != '\n')
        q++;
    if (q == target || (size_t)(end - q) < 10 || memcmp(q, " HTTP/1.", 8) != 0)
        return false;
    q += 8;
    if (*q != '0' && *q != '1')
        return false;
    q++;
    return *q == '\n' || (*q == '\r' && q[1] == '\n');
}

/*
 * Count the whole, plainly well-formed requests at the start of p[0..n) as
 * an HTTP/1.1 server frames them; head[i] says whether request i is a HEAD (no body in the
 * answer). An estimate: it only decides how long to wait.
 */
static size_t count_requests(const uint8_t *p, size_t n, bool head[MAX_REQUESTS])
{
    const uint8_t *end = p + n;
    size_t count = 0;
    char v[64];
    while (count < MAX_REQUESTS) {
        /* Blank lines before a request are skipped; a lone CR is part of the method. */
        while (p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')))
            p += *p == '\r' ? 2 : 1;
        const uint8_t *body = p < end ? headers_end(p, end) : NULL;
        if (!body || !request_line_ok(p, body) || !plain_text(p, body) || !header_lines_ok(p, body))
            break; /* framed as the server would? not sure: owe nothing more */
        head[count] = (size_t)(end - p) >= 5 && memcmp(p, "HEAD ", 5) == 0;
        if (header_value(p, body, "Transfer-Encoding", v, sizeof v)) {
            if (!contains_ci(v, "chunked"))
                break; /* a coding it cannot frame: it may wait for the body's end */
            p = skip_chunked(body, end);
            if (!p)
                break;
        } else if (header_value(p, body, "Content-Length", v, sizeof v)) {
            char *stop;
            unsigned long long len = strtoull(v, &stop, 10);
            if (stop == v || (unsigned long long)(end - body) < len)
                break;
            p = body + len;
        } else {
            p = body;
        }
        count++;
    }
    return count;
}

/*==== Reading and checking the answer =====================================*/

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* {"error":{"code":"...","message":"..."}}: the API's error shape. */
static void check_error_body(const char *body, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    CHECK(root != NULL && json_is_object(root));
    json_t *err = json_object_get(root, "error");
    CHECK(json_is_object(err));
    CHECK(json_is_string(json_object_get(err, "code")));
    CHECK(json_is_string(json_object_get(err, "message")));
    json_decref(root);
}

static void check_json_body(const char *body, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    CHECK(root != NULL);
    json_decref(root);
}

/*
 * Parse and check the response at buf[*off..len). Returns 1 when a whole
 * response was checked (*off moves past it; *final says it was not 1xx),
 * 0 when more bytes are needed, 2 when an event stream has started, 3
 * after the head of an answer to a request the framing scan did not count
 * (!known: whether it has a body is unknown), or after libmicrohttpd's own
 * refusal of a malformed request (no whaco
 * headers): it closes the connection then, and 0.9.75 may send the head of
 * that answer twice (docs/reliability.md, "Fuzzing"), so nothing after its
 * status line is checked.
 */
static int check_response(const char *buf, size_t len, size_t *off, bool known, bool head,
                          bool *final)
{
    const char *p = buf + *off, *end = buf + len;
    const uint8_t *hend = headers_end((const uint8_t *)p, (const uint8_t *)end);
    if ((size_t)(end - p) >= 12)
        CHECK(memcmp(p, "HTTP/1.1 ", 9) == 0 || memcmp(p, "HTTP/1.0 ", 9) == 0);
    if (!hend)
        return 0;
    const char *body = (const char *)hend;
    int status = 0;
    CHECK(sscanf(p + 9, "%3d", &status) == 1 && status >= 100 && status <= 599);
    CHECK(p[12] == ' ' || p[12] == '\r');
    *final = status >= 200;
    if (!*final) {
        *off = (size_t)(body - buf);
        return 1;
    }
    char type[128] = "", cache[64] = "", v[64];
    header_value((const uint8_t *)p, hend, "Content-Type", type, sizeof type);
    header_value((const uint8_t *)p, hend, "Cache-Control", cache, sizeof cache);
    if (strstr(type, "text/event-stream"))
        return 2;
    if (!known)
        return 3; /* an answer to a request the scan did not count: HEAD or not is unknown */
    size_t blen = 0;
    if (!head && status != 204 && status != 304) {
        if (header_value((const uint8_t *)p, hend, "Transfer-Encoding", v, sizeof v)) {
            const uint8_t *bend = skip_chunked(hend, (const uint8_t *)end);
            if (!bend)
                return 0;
            *off = (size_t)((const char *)bend - buf);
            return 1; /* chunked bodies (files) are not JSON: framing checked only */
        }
        CHECK(header_value((const uint8_t *)p, hend, "Content-Length", v, sizeof v));
        blen = strtoul(v, NULL, 10);
        if ((size_t)(end - body) < blen)
            return 0;
    }
    bool whaco = strstr(cache, "no-store") != NULL;
    if (!whaco && status >= 400)
        return 3; /* libmicrohttpd's own refusal: see check_response's comment */
    if (whaco && status >= 400) {
        CHECK(strncmp(type, "application/json", 16) == 0);
        if (!head)
            check_error_body(body, blen);
    } else if (!head && blen && strncmp(type, "application/json", 16) == 0) {
        check_json_body(body, blen);
    }
    *off = (size_t)(body - buf) + blen;
    return 1;
}

/*
 * A fresh connection to the server. It is closed with a reset (SO_LINGER 0),
 * so that hundreds of connections a second leave no TIME_WAIT behind to
 * exhaust the ephemeral ports; a client that resets is one more case the
 * server must handle anyway.
 */
static int connect_server(uint16_t port)
{
    struct sockaddr_in a;
    struct linger reset = {1, 0};
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int attempt = 0;; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        CHECK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset) == 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
            return fd;
        int err = errno;
        close(fd);
        if (attempt == 1000 || (err != EADDRNOTAVAIL && err != EAGAIN && err != EINTR)) {
            fprintf(stderr, "fuzz_http: cannot connect: %s\n", strerror(err));
            abort();
        }
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

/* Send everything, half-close; false if the server closed on us first. */
static bool send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false; /* refused early (e.g. 413): the answer may still be readable */
        p += w;
        n -= (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    return true;
}

/* Send one input to the server on port and check what comes back. */
static void exchange(uint16_t port, const uint8_t *data, size_t size)
{
    bool head[MAX_REQUESTS];
    int64_t started = now_ms();
    size_t owed = count_requests(data, size, head);
    int fd = connect_server(port);
    bool sent = send_all(fd, data, size);
    char *buf = malloc(READ_CAP);
    size_t len = 0, off = 0, answered = 0;
    int64_t deadline = now_ms() + (owed && sent ? WAIT_OWED_MS : WAIT_MAYBE_MS);
    CHECK(buf != NULL);

    for (;;) {
        int rc = 0;
        bool final = false;
        /* Only the answers owed are checked: the framing scan knows which are HEADs. */
        while (!(owed && answered >= owed) &&
               (rc = check_response(buf, len, &off, answered < owed,
                                    answered < owed && head[answered], &final)) == 1)
            answered += final;
        if (rc >= 2 || (owed && answered >= owed))
            break; /* an event stream, a refusal that closes, or every answer owed */
        int64_t left = deadline - now_ms();
        if (left <= 0 || len == READ_CAP)
            break;
        struct pollfd pfd = {fd, POLLIN, 0};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            break;
        ssize_t r = recv(fd, buf + len, READ_CAP - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* closed (or reset after an early refusal) */
        len += (size_t)r;
        answer = buf;
        answer_len = len;
    }
    if (verbose)
        fprintf(stderr, "fuzz_http: %zu request(s) owed, %zu answered, %zu bytes, %lld ms:\n%.*s\n",
                owed, answered, len, (long long)(now_ms() - started),
                (int)(len < 2000 ? len : 2000), buf);
    if (verbose && now_ms() - started > 100)
        fprintf(stderr, "fuzz_http: slow input (%zu bytes):\n%.*s\n", size,
                (int)(size < 600 ? size : 600), (const char *)data);
    answer = NULL;
    answer_len = 0;
    close(fd);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int i = 0; i < SERVERS; i++)
        exchange(ports[i], data, size);
    return 0;
}
