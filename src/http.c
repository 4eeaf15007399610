/*
 * http.c - the HTTP front of `imr serve` on libmicrohttpd: a pool of worker threads
 * polling with epoll, each with its own database connection and arena (opened lazily,
 * closed when the thread ends), request bodies read under a size limit, the security
 * headers on every response, the workbench's static files, and a clean stop on SIGINT or
 * SIGTERM. The routes themselves are in api.c.
 *
 * No lock is taken per request: the configuration is read-only once the daemon runs, and
 * everything a request touches belongs to its worker thread.
 */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY (8u * 1024 * 1024)
/* A declared body this many times above the limit is refused at once (connection closed)
 * rather than read and thrown away. */
#define DISCARD_FACTOR 8

static const char CSP_DEFAULT[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/* The server's configuration: written before the daemon starts, read-only afterwards. */
static struct {
    const char *db_url;
    const char *web_dir;
    size_t max_body;
    pthread_key_t worker_key;
} S;

/* What a worker thread keeps between requests. */
typedef struct worker {
    imr_db *db;
    imr_arena *a;
} worker;

/* One request being received. */
typedef struct pending_request {
    imr_buf body;
    size_t declared;
    int too_large;
    int answered; /* a response was queued before the body was read */
} pending_request;

static void worker_free(void *p)
{
    worker *w = p;
    imr_db_close(w->db);
    imr_arena_free(w->a);
    free(w);
}

static worker *this_worker(void)
{
    worker *w = pthread_getspecific(S.worker_key);
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w)
            abort();
        w->a = imr_arena_new();
        pthread_setspecific(S.worker_key, w);
    }
    return w;
}

/* The worker's connection, opened on first use and reopened after a failed open. */
static imr_db *worker_db(worker *w, imr_error *err)
{
    if (!w->db && imr_db_open(S.db_url, &w->db, err) != IMR_OK)
        w->db = NULL;
    return w->db;
}

/* ---------------------------------------------------------------------------------------
 * Responses.
 * ------------------------------------------------------------------------------------- */
static void add_security_headers(struct MHD_Response *r, const api_response *res)
{
    MHD_add_response_header(r, "Content-Security-Policy", res->csp ? res->csp : CSP_DEFAULT);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", res->frame_options ? res->frame_options : "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
}

static enum MHD_Result send_response(struct MHD_Connection *c, api_response *res)
{
    struct MHD_Response *r;
    if (res->body.len > 0) {
        r = MHD_create_response_from_buffer(res->body.len, res->body.data, MHD_RESPMEM_MUST_FREE);
        if (r)
            res->body = (imr_buf)IMR_BUF_INIT; /* now owned by the response */
    } else {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    imr_buf_free(&res->body);
    if (!r)
        return MHD_NO;
    add_security_headers(r, res);
    if (res->content_type)
        MHD_add_response_header(r, "Content-Type", res->content_type);
    if (res->no_store)
        MHD_add_response_header(r, "Cache-Control", "no-store");
    for (int i = 0; i < res->n_headers; i++)
        MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* ---------------------------------------------------------------------------------------
 * Static files of the workbench.
 * ------------------------------------------------------------------------------------- */
static const struct {
    const char *ext, *type;
} CONTENT_TYPES[] = {
    {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
    {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
    {".ico", "image/x-icon"}, {".woff2", "font/woff2"}, {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
};

static const char *content_type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof CONTENT_TYPES / sizeof CONTENT_TYPES[0]; i++)
            if (!strcmp(dot, CONTENT_TYPES[i].ext))
                return CONTENT_TYPES[i].type;
    return NULL;
}

/* 1 when every segment of `path` is a plain name: no "..", no hidden files, no '\\'. */
static int static_path_ok(const char *path)
{
    if (path[0] != '/' || strchr(path, '\\') || strstr(path, "//"))
        return 0;
    for (const char *p = path; *p; p++)
        if (p[0] == '/' && p[1] == '.')
            return 0;
    return 1;
}

static enum MHD_Result serve_static(struct MHD_Connection *c, api_request *req)
{
    api_response res = {0};
    const char *path = !strcmp(req->path, "/") ? "/index.html" : req->path;
    const char *type = content_type_of(path);
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        api_problem(&res, req, 405, "method-not-allowed", "the workbench's files can only be read");
        api_header_add(&res, "Allow", "GET, HEAD");
        return send_response(c, &res);
    }
    if (!static_path_ok(path) || !type || strlen(S.web_dir) + strlen(path) >= 4096) {
        api_problem(&res, req, 404, "not-found", "no such file");
        return send_response(c, &res);
    }
    char file[4096];
    snprintf(file, sizeof file, "%s%s", S.web_dir, path);
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        api_problem(&res, req, 404, "not-found", "no such file");
        return send_response(c, &res);
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    add_security_headers(r, &res);
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

/* ---------------------------------------------------------------------------------------
 * Requests.
 * ------------------------------------------------------------------------------------- */
static const char *query_arg(const api_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* The value of cookie `name` in a Cookie header, copied into the arena. */
static const char *cookie_value(const char *cookies, const char *name, imr_arena *a)
{
    size_t n = strlen(name);
    for (const char *p = cookies; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) > n && !strncmp(p, name, n) && p[n] == '=')
            return imr_arena_strndup(a, p + n + 1, (size_t)(end - p) - n - 1);
        p = end;
    }
    return NULL;
}

static void read_credentials(struct MHD_Connection *c, api_request *req)
{
    const char *auth = header(c, "Authorization");
    if (auth) {
        req->authorization_set = 1;
        if (!strncasecmp(auth, "Bearer ", 7)) {
            const char *t = auth + 7;
            while (*t == ' ')
                t++;
            req->bearer = t;
        }
    }
    req->cookie_token = cookie_value(header(c, "Cookie"), "imr_session", req->a);
    req->csrf_header = header(c, "X-CSRF-Token");
    req->content_type = header(c, "Content-Type");
}

static const char *client_address(struct MHD_Connection *c, imr_arena *a)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char host[INET6_ADDRSTRLEN] = "?";
    if (ci && ci->client_addr) {
        if (ci->client_addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, host, sizeof host);
        else if (ci->client_addr->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, host, sizeof host);
    }
    return imr_arena_strdup(a, host);
}

static int is_api_path(const char *path)
{
    return !strncmp(path, "/api/", 5) || !strcmp(path, "/api") || !strcmp(path, "/healthz");
}

/* The whole request is in: route it and queue the answer. */
static enum MHD_Result complete(struct MHD_Connection *c, const char *url, const char *method,
                                pending_request *pr)
{
    worker *w = this_worker();
    imr_arena_reset(w->a);
    api_request req = {0};
    req.method = !strcmp(method, "HEAD") ? "GET" : method;
    req.path = url;
    req.a = w->a;
    req.conn = c;
    req.query = query_arg;
    imr_now_iso(req.now);
    req.client = client_address(c, w->a);
    read_credentials(c, &req);
    if (pr->body.len > 0 || pr->declared > 0) {
        req.body = pr->body.data ? pr->body.data : "";
        req.body_len = pr->body.len;
    }
    api_response res = {0};
    if (pr->too_large) {
        char detail[128];
        snprintf(detail, sizeof detail, "the request body is larger than the limit of %zu bytes",
                 S.max_body);
        api_problem(&res, &req, 413, "payload-too-large", detail);
        return send_response(c, &res);
    }
    if (!is_api_path(url))
        return serve_static(c, &req);

    imr_error err = {0};
    req.db = worker_db(w, &err);
    if (!req.db) {
        fprintf(stderr, "imr serve: %s: %s\n", err.where, err.message);
        api_problem(&res, &req, 503, "unavailable", "the database is not reachable");
    } else {
        api_handle(&req, &res);
        imr_db_rollback(req.db); /* a handler never leaves a transaction open */
        /* a PostgreSQL connection that failed may be broken for good: open a new one for
         * the next request rather than failing every request of this worker */
        if (res.status >= 500 && strcmp(imr_db_backend(req.db), "sqlite") != 0) {
            imr_db_close(w->db);
            w->db = NULL;
        }
    }
    if (res.status >= 500)
        fprintf(stderr, "imr serve: %s %s -> %d\n", method, url, res.status);
    return send_response(c, &res);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    pending_request *pr = *con_cls;
    if (!pr) {
        pr = calloc(1, sizeof *pr);
        if (!pr)
            return MHD_NO;
        *con_cls = pr;
        const char *cl = header(c, "Content-Length");
        if (cl) {
            unsigned long long n = strtoull(cl, NULL, 10);
            pr->declared = n > SIZE_MAX ? SIZE_MAX : (size_t)n;
            if (pr->declared > S.max_body)
                pr->too_large = 1;
            if (n / DISCARD_FACTOR > S.max_body) { /* answer now; the library closes the connection */
                pr->answered = 1;
                return complete(c, url, method, pr);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (pr->answered)
            return MHD_YES;
        if (!pr->too_large && pr->body.len + n > S.max_body) {
            pr->too_large = 1;
            imr_buf_free(&pr->body);
        }
        if (!pr->too_large)
            imr_buf_append(&pr->body, upload_data, n);
        return MHD_YES;
    }
    return pr->answered ? MHD_YES : complete(c, url, method, pr);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    pending_request *pr = *con_cls;
    if (pr) {
        imr_buf_free(&pr->body);
        free(pr);
        *con_cls = NULL;
    }
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    fputs("imr serve: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* ---------------------------------------------------------------------------------------
 * Start and stop.
 * ------------------------------------------------------------------------------------- */
/* The source tree's folder holding `rules/` (the compiled-in default), into `out`. */
static void source_dir(char *out, size_t n)
{
#ifdef IMR_SOURCE_RULES_DIR
    snprintf(out, n, "%s", IMR_SOURCE_RULES_DIR);
#else
    snprintf(out, n, "%s", imr_rules_dir());
#endif
    char *slash = strrchr(out, '/');
    if (slash && slash != out)
        *slash = '\0';
    else
        snprintf(out, n, ".");
}

static int prepare_database(const char *url, const char *src, int demo, imr_error *err)
{
    imr_db *db;
    int st = imr_db_open(url, &db, err);
    if (st)
        return st;
    int version = 0;
    st = imr_db_migrate(db, &version, err);
    if (st == 0 && demo)
        st = imr_demo_load(db, src, stdout, err);
    imr_db_close(db);
    return st;
}

static int bind_address(const char *address, int port, struct sockaddr_storage *ss, int *ipv6,
                        imr_error *err)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, address, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *ipv6 = 0;
    } else if (inet_pton(AF_INET6, address, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *ipv6 = 1;
    } else {
        return imr_error_set(err, IMR_EX_USAGE, "--address", 0,
                             "expected an IPv4 or IPv6 address, found '%s'", address);
    }
    return IMR_OK;
}

int imr_serve(const imr_serve_options *opt, imr_error *err)
{
    imr_serve_options o = opt ? *opt : (imr_serve_options){0};
    char src[4096], web[4096];
    source_dir(src, sizeof src);
    if (!o.db_url)
        o.db_url = "imr.db";
    if (!o.address)
        o.address = "127.0.0.1";
    if (o.port < 0 || o.port > 65535)
        return imr_error_set(err, IMR_EX_USAGE, "--port", 0, "expected a port from 0 to 65535");
    if (o.threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o.threads = n > 0 ? (int)n : 2;
    }
    if (!o.web_dir) {
        snprintf(web, sizeof web, "%s/web", src);
        o.web_dir = web;
    }
    S.db_url = o.db_url;
    S.web_dir = o.web_dir;
    S.max_body = o.max_body ? o.max_body : DEFAULT_MAX_BODY;

    struct sockaddr_storage ss;
    int ipv6 = 0, st = bind_address(o.address, o.port, &ss, &ipv6, err);
    if (st)
        return st;
    if ((st = prepare_database(o.db_url, src, o.demo, err)))
        return st;
    /* warm the shared knowledge once, before the workers need it */
    imr_error ignored = {0};
    imr_default_lexicon(&ignored);

    /* the workers inherit a mask without SIGINT/SIGTERM: only sigwait below sees them */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    api_ratelimit_init();
    if (pthread_key_create(&S.worker_key, worker_free) != 0)
        return imr_error_set(err, IMR_EX_SOFTWARE, "serve", 0, "no thread-local storage");

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (ipv6)
        flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)o.port, NULL, NULL, on_request, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o.threads,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_END);
    if (!d) {
        st = imr_error_set(err, IMR_EX_SOFTWARE, o.address, 0,
                           "could not listen on port %d (in use, or not allowed)", o.port);
        goto out;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int port = di ? di->port : o.port;
    printf("imr serve: listening on http://%s%s%s:%d/ (%s %s, %d threads)\n", ipv6 ? "[" : "",
           o.address, ipv6 ? "]" : "", port,
           !strncmp(o.db_url, "postgres", 8) ? "postgresql" : "sqlite",
           !strncmp(o.db_url, "postgres", 8) ? "database" : o.db_url, o.threads);
    fflush(stdout);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    printf("imr serve: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    fflush(stdout);
    MHD_stop_daemon(d);
out:
    pthread_key_delete(S.worker_key);
    api_ratelimit_free();
    pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
    return st;
}
