/*
 * api_auth.c - the API's routes for signing in and out (session cookie + CSRF token),
 * API bearer tokens and user accounts, over auth.c; and the in-memory limit on failed
 * logins per username.
 */
#include "api.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
 * Failed logins: at most LOGIN_FAILURES per username within LOGIN_WINDOW seconds. A small
 * fixed table (the oldest entry of a probe run is replaced), so memory stays bounded
 * whatever names are tried. Only the login route takes its lock.
 * ------------------------------------------------------------------------------------- */
#define LOGIN_FAILURES 5
#define LOGIN_WINDOW (15 * 60)
#define LIMIT_SLOTS 1024
#define LIMIT_PROBE 8

typedef struct login_slot {
    char user_hash[65]; /* empty: free */
    time_t window_start;
    int failures;
} login_slot;

static login_slot *limit_table;
static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;

void api_ratelimit_init(void)
{
    pthread_mutex_lock(&limit_lock);
    if (!limit_table)
        limit_table = calloc(LIMIT_SLOTS, sizeof *limit_table);
    pthread_mutex_unlock(&limit_lock);
}

void api_ratelimit_free(void)
{
    pthread_mutex_lock(&limit_lock);
    free(limit_table);
    limit_table = NULL;
    pthread_mutex_unlock(&limit_lock);
}

/* The slot of `hash`, or a free or the oldest slot of its probe run taken over for it;
 * call with the lock held. */
static login_slot *limit_slot(const char *hash)
{
    unsigned start = 0;
    for (int i = 0; i < 6; i++)
        start = start * 16 + (unsigned)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
    login_slot *take = NULL;
    for (unsigned i = 0; i < LIMIT_PROBE; i++) {
        login_slot *s = &limit_table[(start + i) % LIMIT_SLOTS];
        if (!strcmp(s->user_hash, hash))
            return s;
        if (!take || (take->user_hash[0] && (!s->user_hash[0] || s->window_start < take->window_start)))
            take = s;
    }
    memset(take, 0, sizeof *take);
    memcpy(take->user_hash, hash, 65);
    return take;
}

/* Seconds to wait before `username` may try again (0: go ahead). */
static long login_blocked(const char *username, time_t now)
{
    char hash[65];
    imr_sha256_hex(username, strlen(username), hash);
    long wait = 0;
    pthread_mutex_lock(&limit_lock);
    if (limit_table) {
        login_slot *s = limit_slot(hash);
        if (now - s->window_start >= LOGIN_WINDOW) {
            s->window_start = now;
            s->failures = 0;
        } else if (s->failures >= LOGIN_FAILURES) {
            wait = LOGIN_WINDOW - (long)(now - s->window_start);
        }
    }
    pthread_mutex_unlock(&limit_lock);
    return wait;
}

static void login_result(const char *username, int ok)
{
    char hash[65];
    imr_sha256_hex(username, strlen(username), hash);
    pthread_mutex_lock(&limit_lock);
    if (limit_table) {
        login_slot *s = limit_slot(hash);
        if (ok)
            s->failures = 0;
        else
            s->failures++;
    }
    pthread_mutex_unlock(&limit_lock);
}

/* ---------------------------------------------------------------------------------------
 * Helpers.
 * ------------------------------------------------------------------------------------- */
static json_t *user_object(const imr_actor *who)
{
    json_t *u = json_object();
    json_object_set_new(u, "id", json_string(who->user_id));
    json_object_set_new(u, "username", json_string(who->username));
    json_object_set_new(u, "role", json_string(imr_role_name(who->role)));
    json_object_set_new(u, "reviewer_id", who->reviewer_id ? json_string(who->reviewer_id) : json_null());
    return u;
}

/* Answer with `o` (stolen). */
static void reply(api_response *res, int status, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    api_json(res, status, s ? s : "{}");
    free(s);
}

/* A string member or NULL; a member of another type is a 422 naming it. */
static int opt_string(api_request *req, api_response *res, json_t *o, const char *key,
                      const char **out)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        imr_error err = {0};
        imr_error_set(&err, IMR_EX_DATAERR, key, 0, "expected a string");
        err.http = 422;
        api_error(res, req, &err);
        return -1;
    }
    *out = imr_arena_strdup(req->a, json_string_value(v));
    return 0;
}

static int need_string(api_request *req, api_response *res, json_t *o, const char *key,
                       const char **out)
{
    if (opt_string(req, res, o, key, out) != 0)
        return -1;
    if (!*out) {
        imr_error err = {0};
        imr_error_set(&err, IMR_EX_DATAERR, key, 0, "is required");
        err.http = 422;
        api_error(res, req, &err);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Sessions.
 * ------------------------------------------------------------------------------------- */
void api_session_create(api_request *req, api_response *res)
{
    json_t *body = api_body_object(req, res);
    if (!body)
        return;
    const char *username, *password;
    if (need_string(req, res, body, "username", &username) ||
        need_string(req, res, body, "password", &password)) {
        json_decref(body);
        return;
    }
    json_decref(body);
    time_t now;
    imr_iso_time_parse(req->now, &now);
    long wait = login_blocked(username, now);
    if (wait > 0) {
        api_problem(res, req, 429, NULL,
                    "too many failed sign-ins for this username; try again later");
        api_header_add(res, "Retry-After", imr_arena_printf(req->a, "%ld", wait));
        return;
    }
    const char *token, *csrf;
    imr_actor who;
    imr_error err = {0};
    int st = imr_auth_login(req->db, username, password, req->now, req->a, &token, &csrf, &who, &err);
    if (err.http == 401 || st == 0)
        login_result(username, st == 0);
    if (st) {
        api_error(res, req, &err);
        return;
    }
    char expires[21];
    imr_iso_time_format(now + IMR_SESSION_SECONDS, expires);
    json_t *o = json_object();
    json_object_set_new(o, "user", user_object(&who));
    json_object_set_new(o, "csrf_token", json_string(csrf));
    json_object_set_new(o, "expires_at", json_string(expires));
    reply(res, 200, o);
    api_header_add(res, "Set-Cookie",
                   imr_arena_printf(req->a,
                                    "imr_session=%s; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=%d",
                                    token, IMR_SESSION_SECONDS));
}

void api_session_get(api_request *req, api_response *res)
{
    json_t *o = json_object();
    json_object_set_new(o, "user", user_object(&req->who));
    json_object_set_new(o, "auth", json_string(req->by_cookie ? "cookie" : "bearer"));
    if (req->by_cookie) {
        const char *expires = NULL;
        imr_error err = {0};
        imr_auth_session_expiry(req->db, req->cookie_token, req->a, &expires, &err);
        json_object_set_new(o, "csrf_token", json_string(req->csrf));
        if (expires)
            json_object_set_new(o, "expires_at", json_string(expires));
    }
    reply(res, 200, o);
}

void api_session_delete(api_request *req, api_response *res)
{
    if (req->by_cookie) {
        imr_error err = {0};
        if (imr_auth_logout(req->db, req->cookie_token, &err) != 0) {
            api_error(res, req, &err);
            return;
        }
    }
    res->status = 204;
    res->no_store = 1;
    api_header_add(res, "Set-Cookie",
                   "imr_session=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0");
}

/* ---------------------------------------------------------------------------------------
 * API tokens.
 * ------------------------------------------------------------------------------------- */
void api_tokens_list(api_request *req, api_response *res)
{
    const char *json;
    imr_error err = {0};
    if (imr_auth_token_list(req->db, &req->who, req->a, &json, &err) != 0)
        api_error(res, req, &err);
    else
        api_json(res, 200, json);
}

void api_token_create(api_request *req, api_response *res)
{
    json_t *body = api_body_object(req, res);
    if (!body)
        return;
    const char *label, *expires, *user_id;
    int bad = opt_string(req, res, body, "label", &label) ||
              opt_string(req, res, body, "expires_at", &expires) ||
              opt_string(req, res, body, "user_id", &user_id);
    json_decref(body);
    if (bad)
        return;
    const char *token;
    imr_error err = {0};
    if (imr_auth_token_create(req->db, &req->who, user_id, label, expires, req->now, req->a,
                              &token, &err) != 0) {
        api_error(res, req, &err);
        return;
    }
    char id[17];
    imr_auth_token_id(token, id);
    time_t now, exp;
    imr_iso_time_parse(req->now, &now);
    char exp_iso[21];
    if (expires && imr_iso_time_parse(expires, &exp) == 0)
        imr_iso_time_format(exp, exp_iso);
    else
        imr_iso_time_format(now + (time_t)IMR_TOKEN_DAYS_DEFAULT * 86400, exp_iso);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "token", json_string(token));
    json_object_set_new(o, "label", label ? json_string(label) : json_null());
    json_object_set_new(o, "user_id", json_string(user_id ? user_id : req->who.user_id));
    json_object_set_new(o, "expires_at", json_string(exp_iso));
    reply(res, 201, o);
}

void api_token_delete(api_request *req, api_response *res)
{
    imr_error err = {0};
    if (imr_auth_token_revoke(req->db, &req->who, req->params[0], req->now, &err) != 0) {
        api_error(res, req, &err);
        return;
    }
    res->status = 204;
}

/* ---------------------------------------------------------------------------------------
 * Users.
 * ------------------------------------------------------------------------------------- */
void api_users_list(api_request *req, api_response *res)
{
    const char *json;
    imr_error err = {0};
    if (imr_auth_user_list(req->db, &req->who, req->a, &json, &err) != 0)
        api_error(res, req, &err);
    else
        api_json(res, 200, json);
}

void api_user_create(api_request *req, api_response *res)
{
    if (req->who.role != IMR_ROLE_ADMIN) {
        api_problem(res, req, 403, NULL, "only an administrator may create users");
        return;
    }
    json_t *body = api_body_object(req, res);
    if (!body)
        return;
    const char *username, *password, *role_name, *reviewer_id;
    int bad = need_string(req, res, body, "username", &username) ||
              need_string(req, res, body, "password", &password) ||
              need_string(req, res, body, "role", &role_name) ||
              opt_string(req, res, body, "reviewer_id", &reviewer_id);
    json_decref(body);
    if (bad)
        return;
    imr_role role;
    imr_error err = {0};
    if (imr_role_from_name(role_name, &role) != 0) {
        imr_error_set(&err, IMR_EX_DATAERR, "role", 0,
                      "expected intake, reviewer, administrator or analyst, found '%s'", role_name);
        err.http = 422;
        api_error(res, req, &err);
        return;
    }
    const char *json;
    if (imr_auth_user_create(req->db, &req->who, username, password, role, reviewer_id, req->now,
                             req->a, &json, &err) != 0) {
        api_error(res, req, &err);
        return;
    }
    api_json(res, 201, json);
}
