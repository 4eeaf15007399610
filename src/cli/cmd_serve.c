/*
 * cmd_serve.c - `imr serve`: runs the IMR service (REST API, OpenAPI, workbench) on an
 * embedded SQLite database or on PostgreSQL, until SIGINT or SIGTERM. The service itself
 * is imr_serve (src/http.c); this file only reads the options.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage_text(void)
{
    printf("usage: imr serve [--db URL|PATH] [--address A] [--port N] [--threads N] [--demo]\n"
           "                 [--web DIR] [--max-body BYTES] [--list-routes]\n"
           "Runs the Independent Medical Review service: the REST API (docs/api.md), its\n"
           "OpenAPI description at /openapi.json and the workbench (index.html at /).\n"
           "  --db URL|PATH     SQLite file (default imr.db) or a postgresql:// URL\n"
           "  --address A       listen address (default 127.0.0.1)\n"
           "  --port N          TCP port (default 8080; 0 picks a free one, printed at start)\n"
           "  --threads N       worker threads (default: the number of cores)\n"
           "  --demo            load demonstration users, reviewers and cases (idempotent)\n"
           "                    and print the demo logins\n"
           "  --web DIR         the workbench's files (default: the source tree's web/)\n"
           "  --max-body BYTES  largest request body (default 8388608)\n"
           "  --list-routes     print the API's routes and exit\n"
           "SIGINT or SIGTERM stop the service cleanly.\n");
}

/* A whole number in [lo, hi] for option `opt`; -1 on error (reported). */
static long number(const char *opt, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long n = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || n < lo || n > hi) {
        cli_usage("%s: expected a whole number from %ld to %ld, found '%s'", opt, lo, hi, s ? s : "");
        return -1;
    }
    return n;
}

int cmd_serve(int argc, char **argv)
{
    imr_serve_options o = {0};
    o.port = 8080;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage_text();
            return IMR_OK;
        } else if (!strcmp(a, "--list-routes")) {
            imr_serve_routes(stdout);
            return IMR_OK;
        } else if (!strcmp(a, "--demo")) {
            o.demo = 1;
        } else if (!strcmp(a, "--db") || !strcmp(a, "--address") || !strcmp(a, "--web")) {
            if (!next || !*next)
                return cli_usage("%s needs a value", a);
            if (!strcmp(a, "--db"))
                o.db_url = next;
            else if (!strcmp(a, "--address"))
                o.address = next;
            else
                o.web_dir = next;
            i++;
        } else if (!strcmp(a, "--port")) {
            if ((n = number(a, next, 0, 65535)) < 0)
                return IMR_EX_USAGE;
            o.port = (int)n;
            i++;
        } else if (!strcmp(a, "--threads")) {
            if ((n = number(a, next, 1, 256)) < 0)
                return IMR_EX_USAGE;
            o.threads = (int)n;
            i++;
        } else if (!strcmp(a, "--max-body")) {
            if ((n = number(a, next, 1024, 1L << 30)) < 0)
                return IMR_EX_USAGE;
            o.max_body = (size_t)n;
            i++;
        } else {
            return cli_usage("serve: unknown option '%s' (see imr serve --help)", a);
        }
    }
    imr_error err = {0};
    int st = imr_serve(&o, &err);
    return st ? cli_fail(&err) : IMR_OK;
}
