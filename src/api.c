/*
 * api.c - the REST API's router: the table of routes (the one list that web/openapi.json
 * must cover), who is calling (bearer token or session cookie), the CSRF check for
 * cookie-authenticated writes, and the answers every route shares: JSON bodies and
 * problem documents (RFC 9457) with JSON Pointers to the offending fields.
 *
 * The handlers live in api_auth.c (sessions, tokens, users) and api_cases.c (cases,
 * reviewers, audit); they call the service model of imr.h and pass its JSON through.
 */
#include "api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void api_healthz(api_request *req, api_response *res);

typedef struct route {
    const char *method;
    const char *pattern; /* segments; "{name}" matches any one segment */
    api_handler *handler;
    int public_route;    /* 1: no credentials needed */
} route;

static const route ROUTES[] = {
    {"GET", "/healthz", api_healthz, 1},
    {"POST", "/api/session", api_session_create, 1},
    {"GET", "/api/session", api_session_get, 0},
    {"DELETE", "/api/session", api_session_delete, 0},
    {"GET", "/api/tokens", api_tokens_list, 0},
    {"POST", "/api/tokens", api_token_create, 0},
    {"DELETE", "/api/tokens/{id}", api_token_delete, 0},
    {"GET", "/api/users", api_users_list, 0},
    {"POST", "/api/users", api_user_create, 0},
    {"GET", "/api/cases", api_cases_list, 0},
    {"POST", "/api/cases", api_case_create, 0},
    {"GET", "/api/cases/{id}", api_case_get, 0},
    {"POST", "/api/cases/{id}/documents", api_document_add, 0},
    {"POST", "/api/cases/{id}/screen", api_case_screen, 0},
    {"POST", "/api/cases/{id}/assign", api_case_assign, 0},
    {"GET", "/api/cases/{id}/candidates", api_case_candidates, 0},
    {"POST", "/api/cases/{id}/draft", api_case_draft, 0},
    {"GET", "/api/cases/{id}/determination", api_case_determination, 0},
    {"POST", "/api/cases/{id}/decisions", api_case_decide, 0},
    {"POST", "/api/cases/{id}/issue", api_case_issue, 0},
    {"GET", "/api/cases/{id}/letter", api_case_letter, 0},
    {"GET", "/api/cases/{id}/audit", api_case_audit, 0},
    {"GET", "/api/audit", api_audit_list, 0},
    {"GET", "/api/reviewers", api_reviewers_list, 0},
    {"POST", "/api/reviewers", api_reviewer_create, 0},
    {"PUT", "/api/reviewers/{id}", api_reviewer_put, 0},
};
#define N_ROUTES (sizeof ROUTES / sizeof ROUTES[0])

void imr_serve_routes(FILE *fp)
{
    for (size_t i = 0; i < N_ROUTES; i++)
        fprintf(fp, "%s %s\n", ROUTES[i].method, ROUTES[i].pattern);
}

/* ---------------------------------------------------------------------------------------
 * Answers.
 * ------------------------------------------------------------------------------------- */
void api_header_add(api_response *res, const char *name, const char *value)
{
    if (res->n_headers < API_MAX_HEADERS) {
        res->headers[res->n_headers].name = name;
        res->headers[res->n_headers].value = value;
        res->n_headers++;
    }
}

void api_json(api_response *res, int status, const char *json)
{
    res->status = status;
    res->content_type = "application/json";
    res->no_store = 1;
    imr_buf_reset(&res->body);
    imr_buf_puts(&res->body, json);
}

static const char *status_title(int status)
{
    switch (status) {
    case 400: return "Bad request";
    case 401: return "Not signed in";
    case 403: return "Forbidden";
    case 404: return "Not found";
    case 405: return "Method not allowed";
    case 409: return "Conflict with the current state";
    case 413: return "Request body too large";
    case 415: return "Unsupported media type";
    case 422: return "The request has invalid fields";
    case 429: return "Too many requests";
    case 503: return "Service unavailable";
    default: return status >= 500 ? "Internal error" : "Request refused";
    }
}

static const char *status_slug(int status)
{
    switch (status) {
    case 400: return "bad-request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not-found";
    case 405: return "method-not-allowed";
    case 409: return "conflict";
    case 413: return "payload-too-large";
    case 415: return "unsupported-media-type";
    case 422: return "invalid-field";
    case 429: return "too-many-requests";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal" : "bad-request";
    }
}

/* Write the problem document; `errors` (a JSON array, stolen) may be NULL. */
static void problem(api_response *res, const api_request *req, int status, const char *slug,
                    const char *detail, json_t *errors)
{
    json_t *o = json_object();
    char type[64];
    snprintf(type, sizeof type, "/problems/%s", slug ? slug : status_slug(status));
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "title", json_string(status_title(status)));
    json_object_set_new(o, "status", json_integer(status));
    if (detail)
        json_object_set_new(o, "detail", json_string(detail));
    if (req && req->path)
        json_object_set_new(o, "instance", json_string(req->path));
    if (errors)
        json_object_set_new(o, "errors", errors);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    res->status = status;
    res->content_type = "application/problem+json";
    res->no_store = 1;
    imr_buf_reset(&res->body);
    imr_buf_puts(&res->body, s ? s : "{}");
    free(s);
    if (status == 401)
        api_header_add(res, "WWW-Authenticate", "Bearer realm=\"imr\"");
}

void api_problem(api_response *res, const api_request *req, int status, const char *slug,
                 const char *detail)
{
    problem(res, req, status, slug, detail, NULL);
}

/* 1 when `s` reads like a JSON path: "disputed_items[0].request", "claimant.age". */
static int looks_like_json_path(const char *s, size_t n)
{
    if (n > 0 && s[0] == '$') { /* "$", "$.claimant.age", "$[0]" */
        if (n == 1)
            return 1;
        if (s[1] != '.' && s[1] != '[')
            return 0;
        s += s[1] == '.' ? 2 : 1;
        n -= s[-1] == '.' ? 2 : 1;
        if (n > 0 && s[0] == '[')
            return 1;
    }
    if (n == 0 || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '[' || c == ']' || c == '-'))
            return 0;
    }
    return 1;
}

/* "disputed_items[0].request" or "$.disputed_items[0].request" ->
 * "/disputed_items/0/request" (RFC 6901 escapes); "$" -> "" (the whole body). */
static char *json_pointer(imr_arena *a, const char *path, size_t n)
{
    if (n > 0 && path[0] == '$') {
        path++;
        n--;
        if (n > 0 && path[0] == '.') {
            path++;
            n--;
        }
        if (n == 0)
            return imr_arena_strdup(a, "");
    }
    imr_buf b = IMR_BUF_INIT;
    imr_buf_putc(&b, '/');
    for (size_t i = 0; i < n; i++) {
        char c = path[i];
        if (c == '.' || c == '[') {
            if (b.len > 1 && b.data[b.len - 1] != '/')
                imr_buf_putc(&b, '/');
        } else if (c == ']') {
            continue;
        } else if (c == '~') {
            imr_buf_puts(&b, "~0");
        } else if (c == '/') {
            imr_buf_puts(&b, "~1");
        } else {
            imr_buf_putc(&b, c);
        }
    }
    char *s = imr_arena_strdup(a, b.data);
    imr_buf_free(&b);
    return s;
}

void api_error(api_response *res, const api_request *req, const imr_error *err)
{
    int status = err->http;
    if (!status) {
        switch (err->status) {
        case IMR_EX_DATAERR: status = 422; break;
        case IMR_EX_USAGE: status = 400; break;
        case IMR_EX_NOINPUT: status = 404; break;
        default: status = 500;
        }
    }
    if (status >= 500) {
        fprintf(stderr, "imr serve: %s %s: ", req->method, req->path);
        imr_error_print(err, stderr);
        problem(res, req, status, NULL,
                status == 503 ? "the database is not reachable"
                              : "the server could not complete the request (see its log)",
                NULL);
        return;
    }
    /* Where is the field? In `where` (the service model), or leading the message
     * ("disputed_items[0].request: expected a string ..." from the case-file reader). */
    const char *msg = err->message[0] ? err->message : status_title(status);
    const char *path = NULL, *field_msg = msg;
    size_t path_len = 0;
    if (looks_like_json_path(err->where, strlen(err->where))) {
        path = err->where;
        path_len = strlen(path);
        if (!strncmp(msg, path, path_len) && !strncmp(msg + path_len, ": ", 2))
            field_msg = msg + path_len + 2;
    } else {
        const char *colon = strstr(msg, ": ");
        if (colon && looks_like_json_path(msg, (size_t)(colon - msg))) {
            path = msg;
            path_len = (size_t)(colon - msg);
            field_msg = colon + 2;
        }
    }
    /* a well-formed body with a wrong field ("$.…" paths point into the body) is 422 here,
     * whatever the layer below called it: 400 stays for bodies that are not JSON at all */
    if (status == 400 && path && path[0] == '$')
        status = 422;
    json_t *errors = NULL;
    const char *detail = msg;
    if (path && (status == 422 || status == 400)) {
        errors = json_array();
        json_t *e = json_object();
        json_object_set_new(e, "pointer", json_string(json_pointer(req->a, path, path_len)));
        json_object_set_new(e, "detail", json_string(field_msg));
        json_array_append_new(errors, e);
        if (field_msg == msg)
            detail = imr_arena_printf(req->a, "%.*s: %s", (int)path_len, path, msg);
    }
    problem(res, req, status, NULL, detail, errors);
}

/* ---------------------------------------------------------------------------------------
 * Request bodies and roles.
 * ------------------------------------------------------------------------------------- */
static int is_json_type(const char *ct)
{
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; ");
    return (n == 16 && !strncasecmp(ct, "application/json", 16)) ||
           (n > 5 && n < 100 && !strncasecmp(ct + n - 5, "+json", 5) && !strncasecmp(ct, "application/", 12));
}

json_t *api_body_object(api_request *req, api_response *res)
{
    if (!req->body || req->body_len == 0) {
        json_t *e = json_array(), *o = json_object();
        json_object_set_new(o, "pointer", json_string(""));
        json_object_set_new(o, "detail", json_string("expected a JSON object"));
        json_array_append_new(e, o);
        problem(res, req, 400, NULL, "the request needs a JSON body", e);
        return NULL;
    }
    if (!is_json_type(req->content_type)) {
        api_problem(res, req, 415, NULL, "the body must be JSON (Content-Type: application/json)");
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!v || !json_is_object(v)) {
        char detail[300];
        if (v)
            snprintf(detail, sizeof detail, "expected a JSON object");
        else
            snprintf(detail, sizeof detail, "invalid JSON at line %d, column %d: %s", je.line,
                     je.column, je.text);
        json_decref(v);
        json_t *e = json_array(), *o = json_object();
        json_object_set_new(o, "pointer", json_string(""));
        json_object_set_new(o, "detail", json_string(detail));
        json_array_append_new(e, o);
        problem(res, req, 400, NULL, detail, e);
        return NULL;
    }
    return v;
}

const char *api_body_text(api_request *req, api_response *res, size_t *len)
{
    json_t *o = api_body_object(req, res);
    if (!o)
        return NULL;
    json_decref(o);
    *len = req->body_len;
    return req->body;
}

/* ---------------------------------------------------------------------------------------
 * Routing and authentication.
 * ------------------------------------------------------------------------------------- */
/* Match `path` against `pattern`, collecting {name} segments into req->params. */
static int match(const char *pattern, const char *path, api_request *req, int fill)
{
    int n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return 0;
        p++;
        s++;
        size_t pl = strcspn(p, "/"), sl = strcspn(s, "/");
        if (*p == '{') {
            if (sl == 0 || n >= API_MAX_PARAMS)
                return 0;
            if (fill)
                req->params[n] = imr_arena_strndup(req->a, s, sl);
            n++;
        } else if (pl != sl || strncmp(p, s, pl) != 0) {
            return 0;
        }
        p += pl;
        s += sl;
    }
    return *p == '\0' && (*s == '\0' || !strcmp(s, "/"));
}

/* Constant-time comparison of two NUL-terminated secrets. */
static int secrets_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < la && i < lb; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static int is_unsafe(const char *method)
{
    return strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "OPTIONS");
}

/* Who is calling; 0 when known, else the problem is answered. */
static int authenticate(api_request *req, api_response *res)
{
    imr_error err = {0};
    int st;
    if (req->authorization_set) {
        if (!req->bearer) {
            api_problem(res, req, 401, NULL, "the Authorization header must be 'Bearer <token>'");
            return -1;
        }
        st = imr_auth_bearer(req->db, req->bearer, req->now, req->a, &req->who, &err);
        req->by_cookie = 0;
    } else if (req->cookie_token) {
        st = imr_auth_session(req->db, req->cookie_token, req->now, req->a, &req->who,
                              &req->csrf, &err);
        req->by_cookie = 1;
    } else {
        api_problem(res, req, 401, NULL, "sign in (POST /api/session) or send a bearer token");
        return -1;
    }
    if (st) {
        api_error(res, req, &err);
        return -1;
    }
    req->authenticated = 1;
    if (req->by_cookie && is_unsafe(req->method) &&
        (!req->csrf_header || !req->csrf || !secrets_equal(req->csrf_header, req->csrf))) {
        api_problem(res, req, 403, "csrf",
                    "this change needs the session's CSRF token in the X-CSRF-Token header");
        return -1;
    }
    return 0;
}

static void method_not_allowed(api_request *req, api_response *res)
{
    imr_buf allow = IMR_BUF_INIT;
    for (size_t i = 0; i < N_ROUTES; i++)
        if (match(ROUTES[i].pattern, req->path, req, 0)) {
            if (allow.len)
                imr_buf_puts(&allow, ", ");
            imr_buf_puts(&allow, ROUTES[i].method);
        }
    if (allow.len == 0) {
        imr_buf_free(&allow);
        api_problem(res, req, 404, NULL, imr_arena_printf(req->a, "no route %s", req->path));
        return;
    }
    api_problem(res, req, 405, NULL,
                imr_arena_printf(req->a, "%s is not allowed here (allowed: %s)", req->method, allow.data));
    api_header_add(res, "Allow", imr_arena_strdup(req->a, allow.data));
    imr_buf_free(&allow);
}

void api_handle(api_request *req, api_response *res)
{
    const route *rt = NULL;
    for (size_t i = 0; i < N_ROUTES && !rt; i++)
        if (!strcmp(ROUTES[i].method, req->method) && match(ROUTES[i].pattern, req->path, req, 1))
            rt = &ROUTES[i];
    if (!rt) {
        method_not_allowed(req, res);
        return;
    }
    if (!rt->public_route && authenticate(req, res) != 0)
        return;
    rt->handler(req, res);
    if (!res->status)
        api_problem(res, req, 500, NULL, "the route gave no answer");
    res->no_store = 1;
}

static void api_healthz(api_request *req, api_response *res)
{
    imr_db_rows rows;
    imr_error err = {0};
    if (imr_db_exec(req->db, "SELECT 1", NULL, 0, req->a, &rows, &err) != 0) {
        api_problem(res, req, 503, NULL, "the database does not answer");
        return;
    }
    api_json(res, 200,
             imr_arena_printf(req->a, "{\"status\":\"ok\",\"database\":\"%s\",\"version\":\"%s\"}",
                              imr_db_backend(req->db), IMR_VERSION));
}
