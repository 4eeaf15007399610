/*
 * api_cases.c - the API's routes for the IMR organization's work: cases (intake, list,
 * read), their documents, eligibility screening, how each panel member fits a case and
 * reviewer assignment, the engine's draft, the reviewer's decisions, issuing the letter and
 * downloading it, the audit trail, and the reviewer panel. Each handler checks the shape
 * of the request, calls the service model (imr_svc_*, which decides who may do what) and
 * passes its JSON through.
 */
#include "api.h"
#include "service_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
 * Helpers.
 * ------------------------------------------------------------------------------------- */
/* Answer a service call: its JSON with `status`, or its error. */
static void answer(api_request *req, api_response *res, int st, const char *json, int status,
                   const imr_error *err)
{
    if (st)
        api_error(res, req, err);
    else
        api_json(res, status, json ? json : "{}");
}

/* An integer query parameter in [lo, hi], or `dflt` when absent; -1 after a 400. */
static int query_int(api_request *req, api_response *res, const char *name, int dflt, int lo,
                     int hi, int *out)
{
    const char *v = req->query(req, name);
    *out = dflt;
    if (!v || !*v)
        return 0;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < lo || n > hi) {
        api_problem(res, req, 400, NULL,
                    imr_arena_printf(req->a, "query parameter %s: expected an integer from %d to %d, found '%s'",
                                     name, lo, hi, v));
        return -1;
    }
    *out = (int)n;
    return 0;
}

/* A boolean query parameter ("1", "true", "0", "false"); -1 after a 400. */
static int query_bool(api_request *req, api_response *res, const char *name, int *out)
{
    const char *v = req->query(req, name);
    *out = 0;
    if (!v || !*v || !strcmp(v, "0") || !strcmp(v, "false"))
        return 0;
    if (!strcmp(v, "1") || !strcmp(v, "true")) {
        *out = 1;
        return 0;
    }
    api_problem(res, req, 400, NULL,
                imr_arena_printf(req->a, "query parameter %s: expected 1 or 0, found '%s'", name, v));
    return -1;
}

/* ---------------------------------------------------------------------------------------
 * Cases.
 * ------------------------------------------------------------------------------------- */
void api_cases_list(api_request *req, api_response *res)
{
    imr_case_filter f = {0};
    f.status = req->query(req, "status");
    f.reviewer_id = req->query(req, "reviewer_id");
    f.priority = req->query(req, "priority");
    f.q = req->query(req, "q");
    f.sort = req->query(req, "sort");
    if (query_bool(req, res, "overdue", &f.overdue_only) ||
        query_int(req, res, "limit", 100, 1, 500, &f.limit) ||
        query_int(req, res, "offset", 0, 0, 1000000000, &f.offset))
        return;
    const char *json = NULL;
    imr_error err = {0};
    int st = imr_svc_case_list(req->db, &req->who, &f, req->now, req->a, &json, &err);
    answer(req, res, st, json, 200, &err);
}

void api_case_create(api_request *req, api_response *res)
{
    int with_draft;
    if (query_bool(req, res, "draft", &with_draft))
        return;
    /* refuse before storing anything, rather than register the case and then fail */
    if (with_draft && req->who.role != IMR_ROLE_ADMIN) {
        api_problem(res, req, 403, NULL,
                    "only administrators both register a case and draft it (?draft=1)");
        return;
    }
    json_t *body = api_body_object(req, res); /* the one parse of the body */
    if (!body)
        return;
    const char *json = NULL, *id = NULL;
    imr_error err = {0};
    /* the case and its draft are stored together or not at all (one transaction) */
    int st = imr_svc_case_register(req->db, &req->who, body, with_draft, req->now, req->a, &id, &json, &err);
    if (st) {
        api_error(res, req, &err);
        return;
    }
    api_json(res, 201, json);
    api_header_add(res, "Location", imr_arena_printf(req->a, "/api/cases/%s", id));
}

void api_case_get(api_request *req, api_response *res)
{
    const char *json = NULL;
    imr_error err = {0};
    int st = imr_svc_case_get(req->db, &req->who, req->params[0], req->now, req->a, &json, &err);
    answer(req, res, st, json, 200, &err);
}

void api_document_add(api_request *req, api_response *res)
{
    size_t len;
    const char *body = api_body_text(req, res, &len);
    if (!body)
        return;
    const char *json = NULL;
    imr_error err = {0};
    int st = imr_svc_document_add(req->db, &req->who, req->params[0], body, len, req->now, req->a,
                                  &json, &err);
    answer(req, res, st, json, 201, &err);
}

void api_case_screen(api_request *req, api_response *res)
{
    const char *json = NULL;
    imr_error err = {0};
    int st = imr_svc_case_screen(req->db, &req->who, req->params[0], req->now, req->a, &json, &err);
    answer(req, res, st, json, 200, &err);
}

void api_case_assign(api_request *req, api_response *res)
{
    const char *reviewer_id = NULL, *reason = NULL;
    if (req->body && req->body_len > 0) {
        json_t *o = api_body_object(req, res);
        if (!o)
            return;
        json_t *r = json_object_get(o, "reviewer_id"), *why = json_object_get(o, "reason");
        imr_error bad = {0};
        if (r && !json_is_null(r) && !json_is_string(r))
            imr_error_set(&bad, IMR_EX_DATAERR, "reviewer_id", 0, "expected a string");
        else if (why && !json_is_null(why) && !json_is_string(why))
            imr_error_set(&bad, IMR_EX_DATAERR, "reason", 0, "expected a string");
        reviewer_id = json_is_string(r) ? imr_arena_strdup(req->a, json_string_value(r)) : NULL;
        reason = json_is_string(why) ? imr_arena_strdup(req->a, json_string_value(why)) : NULL;
        json_decref(o);
        if (bad.status) {
            bad.http = 422;
            api_error(res, req, &bad);
            return;
        }
        if (reviewer_id && !*reviewer_id)
            reviewer_id = NULL;
    }
    const char *json = NULL;
    imr_error err = {0};
    int st = imr_svc_case_assign(req->db, &req->who, req->params[0], reviewer_id, reason, req->now,
                                 req->a, &json, &err);
    answer(req, res, st, json, 200, &err);
}

void api_case_candidates(api_request *req, api_response *res)
{
    const char *json = NULL;
    imr_error err = {0};
    int st = imr_svc_case_candidates(req->db, &req->who, req->params[0], req->now, req->a, &json, &err);
    answer(req, res, st, json, 200, &err);
}

void api_case_draft(api_request *req, api_response *res)
{
    const char *json = NULL;
    imr_error err = {0};
    int st = imr_svc_draft(req->db, &req->who, req->params[0], req->now, req->a, &json, &err);
    answer(req, res, st, json, 201, &err);
}

void api_case_decide(api_request *req, api_response *res)
{
    size_t len;
    const char *body = api_body_text(req, res, &len);
    if (!body)
        return;
    const char *json = NULL;
    imr_error err = {0};
    int st = imr_svc_decide(req->db, &req->who, req->params[0], body, len, req->now, req->a, &json, &err);
    answer(req, res, st, json, 200, &err);
}

void api_case_issue(api_request *req, api_response *res)
{
    size_t len;
    const char *body = api_body_text(req, res, &len);
    if (!body)
        return;
    const char *json = NULL;
    imr_error err = {0};
    int st = imr_svc_issue(req->db, &req->who, req->params[0], body, len, req->now, req->a, &json, &err);
    answer(req, res, st, json, 201, &err);
}

void api_case_determination(api_request *req, api_response *res)
{
    int version;
    if (query_int(req, res, "version", 0, 0, 1000000, &version))
        return;
    imr_db_value v = {0};
    imr_error err = {0};
    int st = imr_svc_letter(req->db, &req->who, req->params[0], version, IMR_FORMAT_JSON, req->a, &v, &err);
    if (st) {
        api_error(res, req, &err);
        return;
    }
    res->status = 200;
    res->content_type = "application/json";
    imr_buf_append(&res->body, v.data ? v.data : "", v.data ? v.len : 0);
}

/* The policy of an HTML letter: its own style sheet (by hash) and nothing else. */
static const char *letter_csp(api_request *req, const char *html, size_t len)
{
    const char *open = memmem(html, len, "<style", 6);
    const char *start = open ? memchr(open, '>', len - (size_t)(open - html)) : NULL;
    const char *end = start ? memmem(start, len - (size_t)(start - html), "</style>", 8) : NULL;
    const char *style = "'none'";
    if (start && end) {
        unsigned char digest[32];
        imr_sha256(start + 1, (size_t)(end - start - 1), digest);
        style = imr_arena_printf(req->a, "'sha256-%s'", imr_base64(req->a, digest, 32));
    }
    return imr_arena_printf(req->a,
                            "default-src 'none'; style-src %s; img-src data:; base-uri 'none'; "
                            "form-action 'none'; frame-ancestors 'self'",
                            style);
}

void api_case_letter(api_request *req, api_response *res)
{
    const char *fname = req->query(req, "format");
    imr_format format = IMR_FORMAT_PDF;
    int version, download;
    if (fname && (imr_format_from_name(fname, &format) != 0 || format == IMR_FORMAT_JSON)) {
        api_problem(res, req, 400, NULL,
                    imr_arena_printf(req->a, "query parameter format: expected text, html or pdf, found '%s'", fname));
        return;
    }
    if (query_int(req, res, "version", 0, 0, 1000000, &version) || query_bool(req, res, "download", &download))
        return;
    imr_db_value v = {0};
    imr_error err = {0};
    int st = imr_svc_letter(req->db, &req->who, req->params[0], version, format, req->a, &v, &err);
    if (st) {
        api_error(res, req, &err);
        return;
    }
    static const char *const TYPES[] = {"text/plain; charset=utf-8", "text/html; charset=utf-8",
                                        "application/pdf"};
    static const char *const EXT[] = {"txt", "html", "pdf"};
    res->status = 200;
    res->content_type = TYPES[format];
    imr_buf_append(&res->body, v.data ? v.data : "", v.data ? v.len : 0);
    /* the file name is built from the id, which the service made of safe characters only */
    char name[128];
    size_t n = 0;
    for (const char *p = req->params[0]; *p && n < 80; p++)
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')
            name[n++] = *p;
    name[n] = '\0';
    const char *file = version ? imr_arena_printf(req->a, "%s-v%d.%s", name, version, EXT[format])
                               : imr_arena_printf(req->a, "%s.%s", name, EXT[format]);
    int attach = format == IMR_FORMAT_PDF || download;
    api_header_add(res, "Content-Disposition",
                   imr_arena_printf(req->a, "%s; filename=\"%s\"", attach ? "attachment" : "inline", file));
    if (format == IMR_FORMAT_HTML) {
        res->csp = letter_csp(req, v.data ? v.data : "", v.data ? v.len : 0);
        res->frame_options = "SAMEORIGIN";
    }
}

/* ---------------------------------------------------------------------------------------
 * Audit.
 * ------------------------------------------------------------------------------------- */
static void audit(api_request *req, api_response *res, const char *entity_id)
{
    int limit;
    if (query_int(req, res, "limit", 0, 0, 100000, &limit))
        return;
    const char *json = NULL;
    imr_error err = {0};
    int st = imr_svc_audit_list(req->db, &req->who, entity_id, limit, req->a, &json, &err);
    answer(req, res, st, json, 200, &err);
}

void api_case_audit(api_request *req, api_response *res)
{
    audit(req, res, req->params[0]);
}

void api_audit_list(api_request *req, api_response *res)
{
    const char *id = req->query(req, "entity_id");
    audit(req, res, id && *id ? id : NULL);
}

/* ---------------------------------------------------------------------------------------
 * The reviewer panel.
 * ------------------------------------------------------------------------------------- */
void api_reviewers_list(api_request *req, api_response *res)
{
    const char *json = NULL;
    imr_error err = {0};
    int st = imr_svc_reviewer_list(req->db, &req->who, req->a, &json, &err);
    answer(req, res, st, json, 200, &err);
}

static void reviewer_put(api_request *req, api_response *res, const char *id, int status)
{
    size_t len;
    const char *body = api_body_text(req, res, &len);
    if (!body)
        return;
    const char *json = NULL;
    imr_error err = {0};
    int st = imr_svc_reviewer_put(req->db, &req->who, id, body, len, req->now, req->a, &json, &err);
    answer(req, res, st, json, status, &err);
    if (st == 0 && status == 201)
        api_header_add(res, "Location", imr_arena_printf(req->a, "/api/reviewers/%s", id));
}

void api_reviewer_create(api_request *req, api_response *res)
{
    json_t *o = api_body_object(req, res);
    if (!o)
        return;
    json_t *id = json_object_get(o, "id");
    if (!id)
        id = json_object_get(o, "reviewer_id");
    const char *s = json_is_string(id) && json_string_length(id) > 0
                        ? imr_arena_strdup(req->a, json_string_value(id)) : NULL;
    json_decref(o);
    if (!s) {
        imr_error err = {0};
        imr_error_set(&err, IMR_EX_DATAERR, "id", 0, "expected the reviewer's id (a string)");
        err.http = 422;
        api_error(res, req, &err);
        return;
    }
    reviewer_put(req, res, s, 201);
}

void api_reviewer_put(api_request *req, api_response *res)
{
    reviewer_put(req, res, req->params[0], 200);
}
