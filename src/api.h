/*
 * api.h - internals shared by the web service's files: the HTTP front (http.c), the REST
 * routes (api.c, api_*.c), accounts and sessions (auth.c) and the demonstration data
 * (demo.c). Not part of the public API: imr.h declares what other code may call.
 *
 * A request is handled in one worker thread from start to end. Everything a handler
 * allocates lives in the request's arena (reset when the response is queued); the
 * response body is an imr_buf handed over to the HTTP library, which frees it.
 */
#ifndef IMR_API_H
#define IMR_API_H

#include <stdint.h>
#include <time.h>

#include "imr.h"

/* ---- small crypto and time helpers (auth.c) ------------------------------------------ */

/* SHA-256 of `len` bytes. */
void imr_sha256(const void *data, size_t len, unsigned char out[32]);
/* Lower-case hex of the SHA-256 (64 characters and a NUL). */
void imr_sha256_hex(const void *data, size_t len, char out[65]);
/* Standard base64 (with padding) of `len` bytes, NUL-terminated, into the arena. */
char *imr_base64(imr_arena *a, const unsigned char *data, size_t len);
/* `len` bytes from the kernel's random source (getrandom, else /dev/urandom). 0 or -1. */
int imr_random_bytes(void *out, size_t len);
/* Current UTC time as "YYYY-MM-DDTHH:MM:SSZ". */
void imr_now_iso(char out[21]);
/* Read "YYYY-MM-DDTHH:MM:SSZ" (or "YYYY-MM-DD", midnight UTC): 0, or -1 when invalid. */
int imr_iso_time_parse(const char *s, time_t *out);
void imr_iso_time_format(time_t t, char out[21]);

/* The public id of an API token: the first 16 hex digits of its hash. */
void imr_auth_token_id(const char *token, char out[17]);
/* Seconds a session lasts; days an API token lasts by default and at most. */
#define IMR_SESSION_SECONDS (12 * 3600)
#define IMR_TOKEN_DAYS_DEFAULT 90
#define IMR_TOKEN_DAYS_MAX 365
/* When the session of `token` ends (ISO, in the arena), or NULL. */
int imr_auth_session_expiry(imr_db *db, const char *token, imr_arena *a, const char **expires,
                            imr_error *err);

/* ---- requests and responses ----------------------------------------------------------- */

typedef struct api_header {
    const char *name, *value;
} api_header;

#define API_MAX_HEADERS 8
#define API_MAX_PARAMS 4

typedef struct api_request {
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* the URL path, without the query */
    const char *body;         /* NUL-terminated; NULL when there is none */
    size_t body_len;
    const char *content_type; /* of the body, or NULL */
    const char *cookie_token; /* value of the imr_session cookie, or NULL */
    const char *bearer;       /* token after "Authorization: Bearer", or NULL */
    int authorization_set;    /* an Authorization header was sent (even a malformed one) */
    const char *csrf_header;  /* X-CSRF-Token, or NULL */
    const char *client;       /* peer address, for the log */
    char now[21];             /* the request's time, ISO 8601 UTC */
    imr_arena *a;
    imr_db *db;
    /* looks up a query parameter (NULL when absent) */
    const char *(*query)(const struct api_request *r, const char *name);
    void *conn;               /* the HTTP library's connection, for `query` */
    /* filled by the router */
    const char *params[API_MAX_PARAMS]; /* {id} parts of the path, in order */
    int authenticated;
    int by_cookie;            /* 1 session cookie, 0 bearer token */
    imr_actor who;
    const char *csrf;         /* the session's CSRF token (cookie sessions) */
} api_request;

typedef struct api_response {
    int status;
    const char *content_type;
    imr_buf body;             /* handed to the HTTP library */
    api_header headers[API_MAX_HEADERS];
    int n_headers;
    int no_store;             /* Cache-Control: no-store */
    const char *csp;          /* a Content-Security-Policy other than the default */
    const char *frame_options;/* X-Frame-Options other than DENY */
} api_response;

void api_header_add(api_response *res, const char *name, const char *value);
/* A JSON text body (copied). */
void api_json(api_response *res, int status, const char *json);
/* A problem document (RFC 9457). `slug` gives the type "/problems/<slug>". */
void api_problem(api_response *res, const api_request *req, int status, const char *slug,
                 const char *detail);
/* A problem from a failed library call: status from err->http or err->status, field
 * pointers from err->where or the message's leading JSON path. */
void api_error(api_response *res, const api_request *req, const imr_error *err);

/* Route a request (api.c). */
void api_handle(api_request *req, api_response *res);

/* ---- pieces of the API, one file each ------------------------------------------------ */
typedef void api_handler(api_request *req, api_response *res);

/* api_auth.c: sessions, tokens, users */
api_handler api_session_create, api_session_get, api_session_delete;
api_handler api_tokens_list, api_token_create, api_token_delete;
api_handler api_users_list, api_user_create;
/* api_cases.c: cases and everything under them, reviewers, audit */
api_handler api_cases_list, api_case_create, api_case_get, api_document_add, api_case_screen,
    api_case_assign, api_case_candidates, api_case_draft, api_case_determination, api_case_decide, api_case_issue,
    api_case_letter, api_case_audit, api_audit_list;
api_handler api_reviewers_list, api_reviewer_create, api_reviewer_put;

/* Parse the request body as a JSON object (jansson); NULL after answering 400/415. */
struct json_t;
struct json_t *api_body_object(api_request *req, api_response *res);
/* The request body as text after checking it is a JSON object; NULL after an answer. */
const char *api_body_text(api_request *req, api_response *res, size_t *len);

/* Login rate limiting (api_auth.c): in memory, per username. */
void api_ratelimit_init(void);
void api_ratelimit_free(void);

/* ---- demonstration data (demo.c) ----------------------------------------------------- */
/* Load users, a reviewer panel and cases in several states; idempotent. Prints the demo
 * logins to `fp`. `source_dir` holds examples/ and tests/cases/. */
int imr_demo_load(imr_db *db, const char *source_dir, FILE *fp, imr_error *err);

#endif
