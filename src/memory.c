/*
 * memory.c - the arena used for per-document work, the growable byte buffer, and the
 * arena-backed string list. Everything a parser or the engine builds for one document
 * lives in one arena and is released at once.
 */
#include "imr.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 65536

typedef struct arena_block {
    struct arena_block *next;
    size_t size, used;
    max_align_t data[]; /* aligned payload */
} arena_block;

struct imr_arena {
    arena_block *head; /* current block (newest first) */
    size_t total;
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("imr: out of memory\n", stderr);
        abort();
    }
    return p;
}

static arena_block *block_new(size_t size)
{
    arena_block *b = xmalloc(sizeof *b + size);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

imr_arena *imr_arena_new(void)
{
    imr_arena *a = xmalloc(sizeof *a);
    a->head = block_new(ARENA_BLOCK);
    a->total = ARENA_BLOCK;
    return a;
}

void imr_arena_free(imr_arena *a)
{
    if (!a)
        return;
    arena_block *b = a->head;
    while (b) {
        arena_block *n = b->next;
        free(b);
        b = n;
    }
    free(a);
}

void imr_arena_reset(imr_arena *a)
{
    /* keep the oldest block (the first one allocated), free the rest */
    arena_block *b = a->head, *keep = NULL;
    while (b) {
        arena_block *n = b->next;
        if (!n)
            keep = b;
        else
            free(b);
        b = n;
    }
    keep->used = 0;
    keep->next = NULL;
    a->head = keep;
    a->total = keep->size;
}

/* `size` bytes of the arena, not cleared (imr_arena_alloc clears them; strings are
 * written whole at once). */
static void *arena_take(imr_arena *a, size_t size)
{
    const size_t align = sizeof(max_align_t);
    size = (size + align - 1) / align * align;
    if (size == 0)
        size = align;
    arena_block *b = a->head;
    if (b->size - b->used < size) {
        size_t bs = size > ARENA_BLOCK / 4 ? size : ARENA_BLOCK;
        arena_block *nb = block_new(bs);
        a->total += bs;
        if (bs == size && b->used < b->size / 2) {
            /* a big one-off: put it behind the current block so the current keeps serving */
            nb->next = b->next;
            b->next = nb;
            nb->used = size;
            return nb->data;
        }
        nb->next = b;
        a->head = b = nb;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    return p;
}

void *imr_arena_alloc_raw(imr_arena *a, size_t size)
{
    return arena_take(a, size);
}

void *imr_arena_alloc(imr_arena *a, size_t size)
{
    const size_t align = sizeof(max_align_t);
    size_t rounded = size ? (size + align - 1) / align * align : align;
    void *p = arena_take(a, size);
    memset(p, 0, rounded);
    return p;
}

char *imr_arena_strndup(imr_arena *a, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = arena_take(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *imr_arena_strdup(imr_arena *a, const char *s)
{
    return s ? imr_arena_strndup(a, s, strlen(s)) : NULL;
}

char *imr_arena_printf(imr_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return imr_arena_strdup(a, "");
    }
    char *p = arena_take(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

size_t imr_arena_bytes(const imr_arena *a)
{
    return a->total;
}

/* ---- growable buffer ---- */

static void buf_grow(imr_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            fputs("imr: buffer too large\n", stderr);
            abort();
        }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) {
        fputs("imr: out of memory\n", stderr);
        abort();
    }
    b->data = p;
    b->cap = cap;
}

void imr_buf_append(imr_buf *b, const char *s, size_t n)
{
    buf_grow(b, n);
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void imr_buf_reserve(imr_buf *b, size_t extra)
{
    buf_grow(b, extra);
}

void imr_buf_puts(imr_buf *b, const char *s)
{
    imr_buf_append(b, s, strlen(s));
}

void imr_buf_putc(imr_buf *b, char c)
{
    imr_buf_append(b, &c, 1);
}

void imr_buf_printf(imr_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        buf_grow(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void imr_buf_reset(imr_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void imr_buf_free(imr_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---- string list ---- */

void imr_strlist_push(imr_strlist *l, imr_arena *a, const char *s)
{
    /* grow by doubling inside the arena; old arrays are simply abandoned */
    size_t n = l->n;
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) { /* capacity is 4, then powers of two */
        size_t cap = n ? n * 2 : 4;
        const char **v = imr_arena_alloc(a, cap * sizeof *v);
        if (n)
            memcpy(v, l->v, n * sizeof *v);
        l->v = v;
    }
    l->v[l->n++] = imr_arena_strdup(a, s);
}
