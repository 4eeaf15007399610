/*
 * json_write.h - a small streaming JSON writer into an imr_buf: no tree is built, so large
 * outputs (a corpus of parsed letters) cost one pass. Pretty output matches jansson's
 * indent-2 layout; compact has no spaces. Private to libimr.
 *
 * Keys are names this program writes itself: plain ASCII that needs no escaping (checked by
 * an assertion in debug builds), so they are copied as they are. The key functions are
 * inline so that strlen of a literal key is folded at compile time.
 */
#ifndef IMR_JSON_WRITE_H
#define IMR_JSON_WRITE_H

#include "imr.h"

#include <string.h>

#define JW_MAX_DEPTH 64

typedef struct jw {
    imr_buf *b;
    int pretty;
    int depth;
    int after_key;           /* the next value follows a key on the same line */
    int count[JW_MAX_DEPTH]; /* values written so far at each depth */
} jw;

void jw_init(jw *w, imr_buf *b, int pretty);
void jw_obj_begin(jw *w);
void jw_obj_end(jw *w);
void jw_arr_begin(jw *w);
void jw_arr_end(jw *w);
void jw_str(jw *w, const char *s); /* NULL writes null; invalid UTF-8 becomes U+FFFD */
void jw_strn(jw *w, const char *s, size_t len);
void jw_int(jw *w, long long v);
void jw_real(jw *w, double v);
void jw_bool(jw *w, int v);
void jw_null(jw *w);

/* The same with the key's length given (`key` needs no escaping). */
void jw_key_n(jw *w, const char *key, size_t key_len);
void jw_kstr_n(jw *w, const char *key, size_t key_len, const char *s);
void jw_kint_n(jw *w, const char *key, size_t key_len, long long v);
void jw_klist_n(jw *w, const char *key, size_t key_len, const imr_strlist *l);

static inline void jw_key(jw *w, const char *key)
{
    jw_key_n(w, key, strlen(key));
}

/* key + value shorthands; jw_kint writes null for negative numbers ("not stated") */
static inline void jw_kstr(jw *w, const char *key, const char *s)
{
    jw_kstr_n(w, key, strlen(key), s);
}

static inline void jw_kint(jw *w, const char *key, long long v)
{
    jw_kint_n(w, key, strlen(key), v);
}

static inline void jw_klist(jw *w, const char *key, const imr_strlist *l)
{
    jw_klist_n(w, key, strlen(key), l);
}

#endif
