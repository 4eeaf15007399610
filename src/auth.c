/*
 * auth.c - who is calling the service: user accounts with argon2id password hashes,
 * browser sessions (a random cookie token plus a CSRF token) and API bearer tokens.
 *
 * Secrets never reach the database in the clear: passwords are argon2id encoded hashes
 * (random salt, constant-time verification), session and API tokens are 256-bit random
 * values of which only the SHA-256 hash is stored. Every change (user created, login,
 * logout, token created or revoked) is written to the audit log in the same transaction.
 * Also here: the SHA-256, base64, random and timestamp helpers the service shares (api.h).
 */
#include "api.h"

#include <argon2.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* argon2id cost: 19 MiB, 2 passes, 1 lane (the OWASP baseline), 16-byte salt, 32-byte hash */
#define PW_T_COST 2
#define PW_M_COST (19 * 1024)
#define PW_LANES 1
#define PW_SALT 16
#define PW_HASH 32
#define PW_MIN 10
#define PW_MAX 1024


/* ---------------------------------------------------------------------------------------
 * SHA-256 (FIPS 180-4), for token hashes and content hashes.
 * ------------------------------------------------------------------------------------- */
typedef struct sha256_ctx {
    uint32_t h[8];
    unsigned char block[64];
    size_t used;
    uint64_t total;
} sha256_ctx;

static const uint32_t SHA_K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha256_block(sha256_ctx *c, const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
    uint32_t e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + SHA_K[i] + w[i];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = cc;
        cc = b;
        b = a;
        a = t1 + t2;
    }
    c->h[0] += a;
    c->h[1] += b;
    c->h[2] += cc;
    c->h[3] += d;
    c->h[4] += e;
    c->h[5] += f;
    c->h[6] += g;
    c->h[7] += h;
}

static void sha256_update(sha256_ctx *c, const unsigned char *p, size_t len)
{
    c->total += len;
    while (len > 0) {
        size_t take = 64 - c->used < len ? 64 - c->used : len;
        memcpy(c->block + c->used, p, take);
        c->used += take;
        p += take;
        len -= take;
        if (c->used == 64) {
            sha256_block(c, c->block);
            c->used = 0;
        }
    }
}

void imr_sha256(const void *data, size_t len, unsigned char out[32])
{
    sha256_ctx c = {{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
                     0x1f83d9ab, 0x5be0cd19},
                    {0},
                    0,
                    0};
    sha256_update(&c, data, len);
    uint64_t bits = c.total * 8;
    unsigned char pad[72] = {0x80};
    size_t padlen = (c.used < 56 ? 56 : 120) - c.used;
    for (int i = 0; i < 8; i++)
        pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
    sha256_update(&c, pad, padlen + 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(c.h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(c.h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c.h[i] >> 8);
        out[4 * i + 3] = (unsigned char)c.h[i];
    }
}

static void hex_encode(const unsigned char *p, size_t n, char *out)
{
    static const char HEX[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[p[i] >> 4];
        out[2 * i + 1] = HEX[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void imr_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[32];
    imr_sha256(data, len, d);
    hex_encode(d, 32, out);
}

char *imr_base64(imr_arena *a, const unsigned char *p, size_t len)
{
    static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = imr_arena_alloc(a, (len + 2) / 3 * 4 + 1), *o = out;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        *o++ = B64[v >> 18 & 63];
        *o++ = B64[v >> 12 & 63];
        *o++ = i + 1 < len ? B64[v >> 6 & 63] : '=';
        *o++ = i + 2 < len ? B64[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

int imr_random_bytes(void *out, size_t len)
{
    unsigned char *p = out;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        p += n;
        len -= (size_t)n;
    }
    if (len == 0)
        return 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        p += n;
        len -= (size_t)n;
    }
    close(fd);
    return len == 0 ? 0 : -1;
}

/* A fresh random secret: `bytes` random bytes as hex, after `prefix`. */
static const char *random_hex(imr_arena *a, const char *prefix, size_t bytes)
{
    unsigned char r[32];
    char hex[65];
    if (bytes > sizeof r || imr_random_bytes(r, bytes) != 0)
        return NULL;
    hex_encode(r, bytes, hex);
    return imr_arena_printf(a, "%s%s", prefix, hex);
}

/* ---------------------------------------------------------------------------------------
 * Timestamps: "YYYY-MM-DDTHH:MM:SSZ", which sort as text in time order.
 * ------------------------------------------------------------------------------------- */
void imr_iso_time_format(time_t t, char out[21])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void imr_now_iso(char out[21])
{
    imr_iso_time_format(time(NULL), out);
}

int imr_iso_time_parse(const char *s, time_t *out)
{
    if (!s || strlen(s) < 10)
        return -1;
    char date[11];
    memcpy(date, s, 10);
    date[10] = '\0';
    if (!imr_date_valid_iso(date))
        return -1;
    int hh = 0, mm = 0, ss = 0;
    if (s[10] != '\0') {
        int n = 0;
        if (sscanf(s + 10, "T%2d:%2d:%2d%n", &hh, &mm, &ss, &n) != 3 || strcmp(s + 10 + n, "Z") != 0)
            return -1;
        if (hh > 23 || mm > 59 || ss > 60 || hh < 0 || mm < 0 || ss < 0)
            return -1;
    }
    *out = (time_t)imr_date_days(date) * 86400 + hh * 3600 + mm * 60 + ss;
    return 0;
}

void imr_auth_token_id(const char *token, char out[17])
{
    char hash[65];
    imr_sha256_hex(token, strlen(token), hash);
    memcpy(out, hash, 16);
    out[16] = '\0';
}

/* ---------------------------------------------------------------------------------------
 * Passwords.
 * ------------------------------------------------------------------------------------- */
static int password_hash(const char *password, char *encoded, size_t encoded_len)
{
    unsigned char salt[PW_SALT];
    if (imr_random_bytes(salt, sizeof salt) != 0)
        return -1;
    return argon2id_hash_encoded(PW_T_COST, PW_M_COST, PW_LANES, password, strlen(password), salt,
                                 sizeof salt, PW_HASH, encoded, encoded_len) == ARGON2_OK ? 0 : -1;
}

/* A hash checked when the username is unknown, so that both failures take the same time. */
static char decoy_hash[160];
static pthread_once_t decoy_once = PTHREAD_ONCE_INIT;
static void decoy_init(void)
{
    if (password_hash("no such user: decoy password", decoy_hash, sizeof decoy_hash) != 0)
        decoy_hash[0] = '\0';
}

static int password_ok(const char *encoded, const char *password)
{
    return encoded && encoded[0] && argon2id_verify(encoded, password, strlen(password)) == ARGON2_OK;
}

/* ---------------------------------------------------------------------------------------
 * Helpers.
 * ------------------------------------------------------------------------------------- */
static const imr_actor SYSTEM = {NULL, "system", IMR_ROLE_ADMIN, NULL};

static int fail(imr_error *err, int http, const char *where, const char *fmt, const char *what)
{
    imr_error_set(err, IMR_EX_DATAERR, where, 0, fmt, what ? what : "");
    if (err)
        err->http = http;
    return IMR_EX_DATAERR;
}

static int username_valid(const char *u)
{
    size_t n = u ? strlen(u) : 0;
    if (n < 3 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '@'))
            return 0;
    }
    return 1;
}

/* Escape `s` as a JSON string (with the quotes) into `out`. NULL gives null. */
static void json_str(imr_buf *out, const char *s)
{
    if (!s) {
        imr_buf_puts(out, "null");
        return;
    }
    imr_buf_putc(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            imr_buf_putc(out, '\\');
            imr_buf_putc(out, (char)*p);
        } else if (*p < 0x20) {
            imr_buf_printf(out, "\\u%04x", *p);
        } else {
            imr_buf_putc(out, (char)*p);
        }
    }
    imr_buf_putc(out, '"');
}

static const char *buf_to_arena(imr_buf *b, imr_arena *a)
{
    const char *s = imr_arena_strdup(a, b->data ? b->data : "");
    imr_buf_free(b);
    return s;
}

static int commit_or_rollback(imr_db *db, int st, imr_error *err)
{
    if (st) {
        imr_db_rollback(db);
        return st;
    }
    st = imr_db_commit(db, err);
    if (st)
        imr_db_rollback(db);
    return st;
}

/* ---------------------------------------------------------------------------------------
 * Users.
 * ------------------------------------------------------------------------------------- */
static const char *user_json(imr_arena *a, const char *id, const char *username,
                             const char *display, const char *role, const char *reviewer_id,
                             int disabled, const char *created_at)
{
    imr_buf b = IMR_BUF_INIT;
    imr_buf_puts(&b, "{\"id\":");
    json_str(&b, id);
    imr_buf_puts(&b, ",\"username\":");
    json_str(&b, username);
    imr_buf_puts(&b, ",\"display_name\":");
    json_str(&b, display);
    imr_buf_puts(&b, ",\"role\":");
    json_str(&b, role);
    imr_buf_puts(&b, ",\"reviewer_id\":");
    json_str(&b, reviewer_id);
    imr_buf_printf(&b, ",\"disabled\":%s,\"created_at\":", disabled ? "true" : "false");
    json_str(&b, created_at);
    imr_buf_putc(&b, '}');
    return buf_to_arena(&b, a);
}

int imr_auth_user_create(imr_db *db, const imr_actor *who, const char *username,
                         const char *password, imr_role role, const char *reviewer_id,
                         const char *now, imr_arena *a, const char **out_json, imr_error *err)
{
    if (who && who->role != IMR_ROLE_ADMIN)
        return fail(err, 403, "", "only an administrator may create users%s", NULL);
    if (!username_valid(username))
        return fail(err, 422, "username",
                    "expected 3-64 letters, digits or . _ - @%s", NULL);
    size_t pl = password ? strlen(password) : 0;
    if (pl < PW_MIN || pl > PW_MAX)
        return fail(err, 422, "password", "expected a password of 10 to 1024 bytes%s", NULL);
    if (role == IMR_ROLE_REVIEWER && (!reviewer_id || !*reviewer_id))
        return fail(err, 422, "reviewer_id", "a reviewer account needs the reviewer's panel id%s", NULL);
    if (role != IMR_ROLE_REVIEWER)
        reviewer_id = NULL;

    char encoded[160];
    if (password_hash(password, encoded, sizeof encoded) != 0)
        return imr_error_set(err, IMR_EX_SOFTWARE, "password", 0, "could not hash the password");
    const char *id = random_hex(a, "u-", 8);
    if (!id)
        return imr_error_set(err, IMR_EX_SOFTWARE, "random", 0, "no random bytes available");

    int st = imr_db_begin(db, err);
    if (st)
        return st;
    imr_db_rows rows;
    const char *p1[] = {username};
    st = imr_db_exec(db, "SELECT id FROM users WHERE username = $1", p1, 1, a, &rows, err);
    if (st == 0 && rows.n_rows > 0)
        st = fail(err, 409, "username", "the username '%s' is taken", username);
    if (st == 0 && reviewer_id) {
        const char *p2[] = {reviewer_id};
        st = imr_db_exec(db, "SELECT id FROM reviewers WHERE id = $1", p2, 1, a, &rows, err);
        if (st == 0 && rows.n_rows == 0)
            st = fail(err, 422, "reviewer_id", "no reviewer '%s' on the panel", reviewer_id);
    }
    const char *role_name = imr_role_name(role);
    if (st == 0) {
        const char *p3[] = {id, username, NULL, role_name, encoded, reviewer_id, now};
        st = imr_db_exec(db,
                         "INSERT INTO users (id, username, display_name, role, password_hash,"
                         " reviewer_id, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
                         p3, 7, NULL, NULL, err);
    }
    const char *json = user_json(a, id, username, NULL, role_name, reviewer_id, 0, now);
    if (st == 0)
        st = imr_audit(db, who ? who : &SYSTEM, "user.create", "user", id, NULL, json, now, err);
    st = commit_or_rollback(db, st, err);
    if (st == 0 && out_json)
        *out_json = json;
    return st;
}

int imr_auth_user_list(imr_db *db, const imr_actor *who, imr_arena *a, const char **out_json,
                       imr_error *err)
{
    if (!who || who->role != IMR_ROLE_ADMIN)
        return fail(err, 403, "", "only an administrator may list users%s", NULL);
    imr_db_rows r;
    int st = imr_db_exec(db,
                         "SELECT id, username, display_name, role, reviewer_id, disabled, created_at"
                         " FROM users ORDER BY username",
                         NULL, 0, a, &r, err);
    if (st)
        return st;
    imr_buf b = IMR_BUF_INIT;
    imr_buf_puts(&b, "{\"users\":[");
    for (size_t i = 0; i < r.n_rows; i++) {
        const char *dis = imr_db_text(&r, i, 5);
        imr_buf_puts(&b, i ? "," : "");
        imr_buf_puts(&b, user_json(a, imr_db_text(&r, i, 0), imr_db_text(&r, i, 1),
                                   imr_db_text(&r, i, 2), imr_db_text(&r, i, 3),
                                   imr_db_text(&r, i, 4), dis && strcmp(dis, "0") != 0,
                                   imr_db_text(&r, i, 6)));
    }
    imr_buf_puts(&b, "]}");
    *out_json = buf_to_arena(&b, a);
    return IMR_OK;
}

/* Fill `who` from a users row: id, username, role, reviewer_id at columns c..c+3. */
static int actor_from_row(const imr_db_rows *r, size_t c, imr_arena *a, imr_actor *who,
                          imr_error *err)
{
    memset(who, 0, sizeof *who);
    who->user_id = imr_arena_strdup(a, imr_db_text(r, 0, c));
    who->username = imr_arena_strdup(a, imr_db_text(r, 0, c + 1));
    const char *role = imr_db_text(r, 0, c + 2);
    if (!role || imr_role_from_name(role, &who->role) != 0)
        return imr_error_set(err, IMR_EX_SOFTWARE, "users", 0, "user %s has an unknown role",
                             who->user_id ? who->user_id : "?");
    who->reviewer_id = imr_arena_strdup(a, imr_db_text(r, 0, c + 3));
    return IMR_OK;
}

/* ---------------------------------------------------------------------------------------
 * Sessions.
 * ------------------------------------------------------------------------------------- */
int imr_auth_login(imr_db *db, const char *username, const char *password, const char *now,
                   imr_arena *a, const char **token, const char **csrf, imr_actor *who,
                   imr_error *err)
{
    pthread_once(&decoy_once, decoy_init);
    time_t t_now;
    if (imr_iso_time_parse(now, &t_now) != 0)
        return imr_error_set(err, IMR_EX_SOFTWARE, "now", 0, "bad timestamp '%s'", now ? now : "");
    if (!username || !password)
        return fail(err, 401, "", "wrong username or password%s", NULL);
    imr_db_rows r;
    const char *p[] = {username};
    int st = imr_db_exec(db,
                         "SELECT id, username, role, reviewer_id, password_hash, disabled"
                         " FROM users WHERE username = $1",
                         p, 1, a, &r, err);
    if (st)
        return st;
    int known = r.n_rows == 1;
    const char *dis = known ? imr_db_text(&r, 0, 5) : NULL;
    int ok = password_ok(known ? imr_db_text(&r, 0, 4) : decoy_hash, password);
    if (!known || !ok || (dis && strcmp(dis, "0") != 0))
        return fail(err, 401, "", "wrong username or password%s", NULL);
    if ((st = actor_from_row(&r, 0, a, who, err)))
        return st;

    const char *tok = random_hex(a, "", 32), *cs = random_hex(a, "", 32);
    if (!tok || !cs)
        return imr_error_set(err, IMR_EX_SOFTWARE, "random", 0, "no random bytes available");
    char hash[65], expires[21];
    imr_sha256_hex(tok, strlen(tok), hash);
    imr_iso_time_format(t_now + IMR_SESSION_SECONDS, expires);

    if ((st = imr_db_begin(db, err)))
        return st;
    const char *pd[] = {who->user_id, now};
    st = imr_db_exec(db, "DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2", pd, 2,
                     NULL, NULL, err);
    if (st == 0) {
        const char *pi[] = {hash, who->user_id, cs, now, expires};
        st = imr_db_exec(db,
                         "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at,"
                         " expires_at) VALUES ($1, $2, $3, $4, $5)",
                         pi, 5, NULL, NULL, err);
    }
    if (st == 0) {
        imr_buf b = IMR_BUF_INIT;
        imr_buf_puts(&b, "{\"username\":");
        json_str(&b, who->username);
        imr_buf_puts(&b, ",\"expires_at\":");
        json_str(&b, expires);
        imr_buf_putc(&b, '}');
        st = imr_audit(db, who, "session.login", "session", who->user_id, NULL,
                       buf_to_arena(&b, a), now, err);
    }
    if ((st = commit_or_rollback(db, st, err)))
        return st;
    *token = tok;
    *csrf = cs;
    return IMR_OK;
}

int imr_auth_session(imr_db *db, const char *token, const char *now, imr_arena *a,
                     imr_actor *who, const char **csrf, imr_error *err)
{
    if (!token || strlen(token) != 64)
        return fail(err, 401, "", "not signed in or the session has ended%s", NULL);
    char hash[65];
    imr_sha256_hex(token, strlen(token), hash);
    imr_db_rows r;
    const char *p[] = {hash, now};
    int st = imr_db_exec(db,
                         "SELECT u.id, u.username, u.role, u.reviewer_id, s.csrf_token"
                         " FROM sessions s JOIN users u ON u.id = s.user_id"
                         " WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
                         p, 2, a, &r, err);
    if (st)
        return st;
    if (r.n_rows != 1)
        return fail(err, 401, "", "not signed in or the session has ended%s", NULL);
    if ((st = actor_from_row(&r, 0, a, who, err)))
        return st;
    if (csrf)
        *csrf = imr_arena_strdup(a, imr_db_text(&r, 0, 4));
    return IMR_OK;
}

/* When a session ends (ISO), for whoami. */
int imr_auth_session_expiry(imr_db *db, const char *token, imr_arena *a, const char **expires,
                            imr_error *err)
{
    char hash[65];
    imr_sha256_hex(token, strlen(token), hash);
    imr_db_rows r;
    const char *p[] = {hash};
    int st = imr_db_exec(db, "SELECT expires_at FROM sessions WHERE token_hash = $1", p, 1, a, &r,
                         err);
    if (st == 0)
        *expires = r.n_rows ? imr_db_text(&r, 0, 0) : NULL;
    return st;
}

int imr_auth_logout(imr_db *db, const char *token, imr_error *err)
{
    if (!token)
        return IMR_OK;
    char hash[65], now[21];
    imr_sha256_hex(token, strlen(token), hash);
    imr_now_iso(now);
    imr_arena *a = imr_arena_new();
    imr_actor who;
    int st = imr_auth_session(db, token, now, a, &who, NULL, err);
    if (st) { /* nothing to end */
        imr_arena_free(a);
        return IMR_OK;
    }
    if ((st = imr_db_begin(db, err)) == 0) {
        const char *p[] = {hash};
        st = imr_db_exec(db, "DELETE FROM sessions WHERE token_hash = $1", p, 1, NULL, NULL, err);
        if (st == 0)
            st = imr_audit(db, &who, "session.logout", "session", who.user_id, NULL, NULL, now, err);
        st = commit_or_rollback(db, st, err);
    }
    imr_arena_free(a);
    return st;
}

/* ---------------------------------------------------------------------------------------
 * API bearer tokens.
 * ------------------------------------------------------------------------------------- */
/* Check and normalize a token's expiry: after `now`, at most a year ahead. */
static int token_expiry(const char *expires, const char *now, char out[21], imr_error *err)
{
    time_t t_now, t_exp;
    if (imr_iso_time_parse(now, &t_now) != 0)
        return imr_error_set(err, IMR_EX_SOFTWARE, "now", 0, "bad timestamp");
    if (!expires) {
        imr_iso_time_format(t_now + (time_t)IMR_TOKEN_DAYS_DEFAULT * 86400, out);
        return IMR_OK;
    }
    if (imr_iso_time_parse(expires, &t_exp) != 0)
        return fail(err, 422, "expires_at", "expected a date or a timestamp such as "
                    "2027-01-31T00:00:00Z, found '%s'", expires);
    if (t_exp <= t_now)
        return fail(err, 422, "expires_at", "the expiry %s is not in the future", expires);
    if (t_exp > t_now + (time_t)IMR_TOKEN_DAYS_MAX * 86400)
        return fail(err, 422, "expires_at", "the expiry %s is more than 365 days ahead", expires);
    imr_iso_time_format(t_exp, out);
    return IMR_OK;
}

int imr_auth_token_create(imr_db *db, const imr_actor *who, const char *user_id,
                          const char *label, const char *expires, const char *now,
                          imr_arena *a, const char **token, imr_error *err)
{
    if (!who)
        who = &SYSTEM;
    if (!user_id)
        user_id = who->user_id;
    if (!user_id)
        return fail(err, 422, "user_id", "no user to make the token for%s", NULL);
    if (who != &SYSTEM && who->role != IMR_ROLE_ADMIN && (!who->user_id || strcmp(user_id, who->user_id) != 0))
        return fail(err, 403, "user_id", "only an administrator may make tokens for others%s", NULL);
    if (label && strlen(label) > 200)
        return fail(err, 422, "label", "expected at most 200 bytes%s", NULL);
    char exp[21];
    int st = token_expiry(expires, now, exp, err);
    if (st)
        return st;
    const char *tok = random_hex(a, "imr_", 32);
    if (!tok)
        return imr_error_set(err, IMR_EX_SOFTWARE, "random", 0, "no random bytes available");
    char hash[65], id[17];
    imr_sha256_hex(tok, strlen(tok), hash);
    imr_auth_token_id(tok, id);

    if ((st = imr_db_begin(db, err)))
        return st;
    imr_db_rows r;
    const char *pu[] = {user_id};
    st = imr_db_exec(db, "SELECT id FROM users WHERE id = $1 AND disabled = 0", pu, 1, a, &r, err);
    if (st == 0 && r.n_rows == 0)
        st = fail(err, 404, "user_id", "no user '%s'", user_id);
    if (st == 0) {
        const char *pi[] = {hash, user_id, label, now, exp};
        st = imr_db_exec(db,
                         "INSERT INTO api_tokens (token_hash, user_id, label, created_at,"
                         " expires_at, revoked) VALUES ($1, $2, $3, $4, $5, 0)",
                         pi, 5, NULL, NULL, err);
    }
    if (st == 0) {
        imr_buf b = IMR_BUF_INIT;
        imr_buf_puts(&b, "{\"id\":");
        json_str(&b, id);
        imr_buf_puts(&b, ",\"user_id\":");
        json_str(&b, user_id);
        imr_buf_puts(&b, ",\"label\":");
        json_str(&b, label);
        imr_buf_puts(&b, ",\"expires_at\":");
        json_str(&b, exp);
        imr_buf_putc(&b, '}');
        st = imr_audit(db, who, "token.create", "api_token", id, NULL, buf_to_arena(&b, a), now, err);
    }
    if ((st = commit_or_rollback(db, st, err)))
        return st;
    *token = tok;
    return IMR_OK;
}

int imr_auth_bearer(imr_db *db, const char *token, const char *now, imr_arena *a,
                    imr_actor *who, imr_error *err)
{
    if (!token || strlen(token) != 68 || strncmp(token, "imr_", 4) != 0)
        return fail(err, 401, "", "the API token is not valid%s", NULL);
    char hash[65];
    imr_sha256_hex(token, strlen(token), hash);
    imr_db_rows r;
    const char *p[] = {hash, now};
    int st = imr_db_exec(db,
                         "SELECT u.id, u.username, u.role, u.reviewer_id"
                         " FROM api_tokens t JOIN users u ON u.id = t.user_id"
                         " WHERE t.token_hash = $1 AND t.revoked = 0 AND t.expires_at > $2"
                         " AND u.disabled = 0",
                         p, 2, a, &r, err);
    if (st)
        return st;
    if (r.n_rows != 1)
        return fail(err, 401, "", "the API token is not valid, has expired or was revoked%s", NULL);
    return actor_from_row(&r, 0, a, who, err);
}

int imr_auth_token_list(imr_db *db, const imr_actor *who, imr_arena *a, const char **out_json,
                        imr_error *err)
{
    int admin = who->role == IMR_ROLE_ADMIN;
    const char *p[] = {who->user_id};
    imr_db_rows r;
    int st = imr_db_exec(db,
                         admin ? "SELECT t.token_hash, t.user_id, u.username, t.label, t.created_at,"
                                 " t.expires_at, t.revoked FROM api_tokens t JOIN users u"
                                 " ON u.id = t.user_id ORDER BY t.created_at, t.token_hash"
                               : "SELECT t.token_hash, t.user_id, u.username, t.label, t.created_at,"
                                 " t.expires_at, t.revoked FROM api_tokens t JOIN users u"
                                 " ON u.id = t.user_id WHERE t.user_id = $1"
                                 " ORDER BY t.created_at, t.token_hash",
                         p, admin ? 0 : 1, a, &r, err);
    if (st)
        return st;
    imr_buf b = IMR_BUF_INIT;
    imr_buf_puts(&b, "{\"tokens\":[");
    for (size_t i = 0; i < r.n_rows; i++) {
        const char *h = imr_db_text(&r, i, 0), *rev = imr_db_text(&r, i, 6);
        imr_buf_printf(&b, "%s{\"id\":\"%.16s\",\"user_id\":", i ? "," : "", h ? h : "");
        json_str(&b, imr_db_text(&r, i, 1));
        imr_buf_puts(&b, ",\"username\":");
        json_str(&b, imr_db_text(&r, i, 2));
        imr_buf_puts(&b, ",\"label\":");
        json_str(&b, imr_db_text(&r, i, 3));
        imr_buf_puts(&b, ",\"created_at\":");
        json_str(&b, imr_db_text(&r, i, 4));
        imr_buf_puts(&b, ",\"expires_at\":");
        json_str(&b, imr_db_text(&r, i, 5));
        imr_buf_printf(&b, ",\"revoked\":%s}", rev && strcmp(rev, "0") != 0 ? "true" : "false");
    }
    imr_buf_puts(&b, "]}");
    *out_json = buf_to_arena(&b, a);
    return IMR_OK;
}

int imr_auth_token_revoke(imr_db *db, const imr_actor *who, const char *token_id,
                          const char *now, imr_error *err)
{
    size_t n = token_id ? strlen(token_id) : 0;
    if (n != 16 || strspn(token_id, "0123456789abcdef") != 16)
        return fail(err, 404, "", "no API token '%s'", token_id ? token_id : "");
    imr_arena *a = imr_arena_new();
    int st = imr_db_begin(db, err);
    if (st) {
        imr_arena_free(a);
        return st;
    }
    imr_db_rows r;
    const char *p[] = {token_id};
    st = imr_db_exec(db,
                     "SELECT token_hash, user_id, revoked FROM api_tokens"
                     " WHERE substr(token_hash, 1, 16) = $1",
                     p, 1, a, &r, err);
    int mine = st == 0 && r.n_rows == 1 && who->user_id && strcmp(imr_db_text(&r, 0, 1), who->user_id) == 0;
    if (st == 0 && (r.n_rows != 1 || (!mine && who->role != IMR_ROLE_ADMIN)))
        st = fail(err, 404, "", "no API token '%s'", token_id);
    if (st == 0) {
        const char *pu[] = {imr_db_text(&r, 0, 0)};
        st = imr_db_exec(db, "UPDATE api_tokens SET revoked = 1 WHERE token_hash = $1", pu, 1,
                         NULL, NULL, err);
    }
    if (st == 0)
        st = imr_audit(db, who, "token.revoke", "api_token", token_id, "{\"revoked\":false}",
                       "{\"revoked\":true}", now, err);
    st = commit_or_rollback(db, st, err);
    imr_arena_free(a);
    return st;
}
