/*
 * negation.c - assertion of clinical facts, ConText-style: is a finding affirmed, negated,
 * hypothetical, historical, or about someone else?
 *
 * The trigger terms come from the vocabulary (rules/extract/context.tsv: class `trigger`
 * with a category and a direction), never from C. Within each sentence, triggers,
 * pseudo-triggers and termination terms are found left to right, longest first. A
 * pseudo-trigger ("no increase", "not only", "gram negative") hides the trigger words it
 * contains, and so does a longer term of the vocabulary around the trigger word ("negative
 * straight leg raise" is a finding, "early refill requests" a behaviour).
 *
 * A pre-trigger ("no", "denies", "without", "history of", "if") modifies the words after
 * it; a post-trigger ("is not specified in the records provided", "was ruled out") the
 * words before it. A scope ends at the sentence boundary, at a termination term of its
 * category ("but", "however", "which"), at a new clause, or after SCOPE_WORDS words. A new
 * clause starts, going forward, at a conjunction followed by a verb, an auxiliary or a
 * subject (", and reports dyspepsia", "and the diagnosis is"); going backward, at a
 * conjunction with a verb on its left ("pain is rated 9/10 and functional improvement is
 * not documented"). A heading trigger ("Plan:", "Recommendations:") reaches over the
 * items of its section that semicolons separate, each item up to a termination
 * ("continue Norco" is not a plan for something new) or SCOPE_WORDS words, and the
 * section ends at a period or a paragraph break.
 *
 * A fact is modified by every trigger whose scope holds its first token, except triggers
 * inside the fact itself; when several apply, negation wins over other person, then
 * hypothetical, then historical. Everything is bounded by the scope length, so a text is
 * read in linear time.
 */
#include "extract_internal.h"

#include <stdlib.h>
#include <string.h>

/* Longest reach of a trigger, in words: a clinical list ("no mention of Tylenol, NSAID,
 * tricyclic or weaning failure") fits; a run-on sentence does not carry a negation
 * across a whole paragraph. */
#define SCOPE_WORDS 16

typedef struct mark {
    uint32_t first, end;
    int16_t category; /* terminations: -1 = all categories */
    uint8_t direction; /* 0 for terminations */
} mark;

static void push_trigger(ex_context *c, const ex_trigger *t)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        c->v = ex_xrealloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n++] = *t;
}

void ex_context_free(ex_context *c)
{
    free(c->v);
    free(c->marks);
    memset(c, 0, sizeof *c);
}

static int is_context_class(int cls)
{
    return cls == EX_C_TRIGGER || cls == EX_C_PSEUDO || cls == EX_C_TERMINATION;
}

/* A class whose terms make facts on their own (they may start with a trigger word). */
static int is_term_class(int cls)
{
    return (cls > EX_C_NONE && cls < EX_C_AGE) || cls == EX_C_SCORE_QUALIFIER ||
           cls == EX_C_PSEUDO_TERM;
}

/* The first token after `from` that is SCOPE_WORDS words away, or `limit`. */
static size_t reach_forward(const ex_doc *d, size_t from, size_t limit)
{
    int n = 0;
    for (size_t i = from; i < limit; i++)
        if (d->tok[i].kind != EX_PUNCT && ++n > SCOPE_WORDS)
            return i;
    return limit;
}

static size_t reach_backward(const ex_doc *d, size_t from, size_t limit)
{
    int n = 0;
    for (size_t i = from; i > limit; i--)
        if (d->tok[i - 1].kind != EX_PUNCT && ++n > SCOPE_WORDS)
            return i;
    return limit;
}

static int terminates(const mark *m, int category)
{
    return m->direction == 0 && (m->category == -1 || m->category == category);
}

/* Terminations of a heading's items: those of its category and the section ones. */
static int terminates_item(const mark *m, int category)
{
    return terminates(m, category) || (m->direction == 0 && m->category == EX_TERM_SECTION);
}

static int has_class(const ex_vocab *v, const ex_doc *d, size_t i, ex_class cls)
{
    (void)v;
    return i < d->ntok && (d->tok[i].classes >> cls & 1); /* a match of cls starts at i */
}

int ex_has_clause_start(const ex_vocab *v, const ex_doc *d, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (has_class(v, d, i, EX_C_CLAUSE_START))
            return 1;
    return 0;
}

int ex_clause_break_at(const ex_vocab *v, const ex_doc *d, size_t i)
{
    size_t j = i + 1;
    if (j < d->ntok && has_class(v, d, j, EX_C_CONJUNCTION))
        j++;
    if (j >= d->ntok || d->tok[j].sent != d->tok[i].sent)
        return 0;
    if (has_class(v, d, j, EX_C_CLAUSE_START))
        return 1;
    /* "... and the diagnosis is ...": a determiner, a noun or two, then a verb */
    const ex_match *m = ex_match_at(v, d, j, EX_C_FILLER);
    if (!m)
        return 0;
    for (size_t k = m->end + 1; k <= m->end + 2 && k < d->ntok && d->tok[k].sent == d->tok[i].sent; k++) {
        if (d->tok[k - 1].kind == EX_PUNCT)
            return 0;
        if (has_class(v, d, k, EX_C_CLAUSE_START))
            return 1;
    }
    return 0;
}

/* Where a forward scope from `from` stops: a new clause, or `limit`. */
static size_t clause_forward(const ex_vocab *v, const ex_doc *d, size_t from, size_t limit)
{
    for (size_t i = from; i < limit; i++)
        if (ex_clause_break(v, d, i))
            return i;
    return limit;
}

/* Where a backward scope ending at `to` starts: after a conjunction that has a verb on its
 * left in the sentence (the sentence's first clause-start word is `first_verb`), or
 * `limit`. */
static size_t clause_backward(const ex_vocab *v, const ex_doc *d, size_t to, size_t limit,
                              size_t first_verb)
{
    for (size_t i = to; i > limit; i--)
        if (has_class(v, d, i - 1, EX_C_CONJUNCTION) && first_verb < i - 1)
            return i;
    return limit;
}

static void find_marks(const ex_vocab *v, const ex_doc *d, const ex_sentence *s, ex_context *c)
{
    c->nmarks = 0;
    size_t covered = 0; /* end of the longest term seen so far */
    for (size_t i = s->first; i < s->end;) {
        const ex_token *t = &d->tok[i];
        const ex_match *best = NULL;
        size_t term_end = 0;
        for (size_t k = 0; k < t->nmatch; k++) {
            const ex_match *m = &d->matches[t->first + k];
            int cls = (int)m->cls;
            if (!best && is_context_class(cls))
                best = m;
            if (is_term_class(cls) && m->end > term_end)
                term_end = m->end;
        }
        if (!best) {
            if (term_end > covered)
                covered = term_end;
            i++;
            continue;
        }
        const ex_entry *e = ex_vocab_entry(v, best->entry);
        /* a trigger word inside a longer term ("negative straight leg raise", "early refill
         * requests") is part of the term */
        int hidden = e->cls == EX_C_PSEUDO ||
                     (e->cls == EX_C_TRIGGER && (term_end > best->end || covered >= best->end));
        if (term_end > covered)
            covered = term_end;
        if (!hidden) {
            if (c->nmarks == c->capmarks) {
                c->capmarks = c->capmarks ? c->capmarks * 2 : 16;
                c->marks = ex_xrealloc(c->marks, c->capmarks * sizeof(mark));
            }
            mark *mk = &((mark *)c->marks)[c->nmarks++];
            mk->first = best->first;
            mk->end = best->end;
            mk->category = e->category;
            mk->direction = e->cls == EX_C_TRIGGER ? e->direction : 0;
        }
        i = best->end;
    }
}

/* Where a scope of `category` starting at `from` stops in the sentence: SCOPE_WORDS
 * words, or the first termination of its category among the marks from `k` (for the
 * items of a heading, section terminations too). */
static size_t stop_forward(const ex_doc *d, const ex_context *c, size_t k, size_t from,
                           size_t limit, int category, int heading)
{
    const mark *mk = c->marks;
    size_t stop = reach_forward(d, from, limit);
    for (size_t j = k; j < c->nmarks && mk[j].first < stop; j++)
        if (mk[j].first >= from &&
            (heading ? terminates_item(&mk[j], category) : terminates(&mk[j], category))) {
            stop = mk[j].first;
            break;
        }
    return stop;
}

/* 1 when the sentence ends with a semicolon: the next item of a list under a heading. */
static int ends_with_semicolon(const ex_doc *d, const ex_sentence *s)
{
    const ex_token *t = &d->tok[s->end - 1];
    return t->kind == EX_PUNCT && d->fold[t->fold] == ';';
}

void ex_context_build(const ex_vocab *v, const ex_doc *d, ex_context *c)
{
    c->n = 0;
    int16_t heading = 0; /* category of a heading whose section goes on, or 0 */
    for (size_t si = 0; si < d->nsent; si++) {
        const ex_sentence *s = &d->sent[si];
        find_marks(v, d, s, c);
        const mark *mk = c->marks;
        if (heading && (!c->nmarks || mk[0].direction != EX_DIR_HEADING ||
                        mk[0].first != s->first)) {
            /* the next item of the section: a trigger without words at its start */
            ex_trigger t = {.first = s->first, .end = s->first, .category = heading,
                            .scope_first = s->first};
            t.scope_end = (uint32_t)stop_forward(d, c, 0, s->first, s->end, heading, 1);
            if (t.scope_end > t.scope_first)
                push_trigger(c, &t);
        }
        if (!ends_with_semicolon(d, s))
            heading = 0;
        if (!c->nmarks)
            continue;
        size_t first_verb = s->end;
        for (size_t i = s->first; i < s->end; i++)
            if (has_class(v, d, i, EX_C_CLAUSE_START)) {
                first_verb = i;
                break;
            }
        for (size_t k = 0; k < c->nmarks; k++) {
            if (!mk[k].direction)
                continue;
            ex_trigger t = {.first = mk[k].first, .end = mk[k].end, .category = mk[k].category};
            if (mk[k].direction == EX_DIR_HEADING) {
                t.scope_first = t.end;
                t.scope_end = (uint32_t)stop_forward(d, c, k + 1, t.end, s->end, t.category, 1);
                if (t.scope_end > t.scope_first)
                    push_trigger(c, &t);
                if (ends_with_semicolon(d, s))
                    heading = t.category;
            }
            if (mk[k].direction & EX_DIR_PRE) {
                size_t stop = stop_forward(d, c, k + 1, t.end, s->end, t.category, 0);
                t.scope_first = t.end;
                t.scope_end = (uint32_t)clause_forward(v, d, t.end, stop);
                if (t.scope_end > t.scope_first)
                    push_trigger(c, &t);
            }
            if (mk[k].direction & EX_DIR_POST) {
                size_t stop = reach_backward(d, t.first, s->first);
                for (size_t j = k; j-- > 0 && mk[j].end > stop;)
                    if (terminates(&mk[j], t.category)) {
                        stop = mk[j].end;
                        break;
                    }
                t.scope_end = t.first;
                t.scope_first = (uint32_t)clause_backward(v, d, t.first, stop, first_verb);
                if (t.scope_end > t.scope_first)
                    push_trigger(c, &t);
            }
        }
    }
}

/* Priority when several triggers reach one fact. */
static int rank(int category)
{
    switch (category) {
    case IMR_ASSERT_NEGATED: return 4;
    case IMR_ASSERT_OTHER_PERSON: return 3;
    case IMR_ASSERT_HYPOTHETICAL: return 2;
    case IMR_ASSERT_HISTORICAL: return 1;
    default: return 0;
    }
}

/* A scope holds at most SCOPE_WORDS words and every trigger has a word, so the triggers
 * that can reach a fact are among the few nearest it in the (sorted) trigger list. */
#define NEAR_TRIGGERS (4 * SCOPE_WORDS)

imr_assertion ex_context_assert(const ex_context *c, size_t first, size_t end)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) { /* the first trigger starting at or after `first` */
        size_t mid = lo + (hi - lo) / 2;
        if (c->v[mid].first < first)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t from = lo > NEAR_TRIGGERS ? lo - NEAR_TRIGGERS : 0;
    size_t to = lo + NEAR_TRIGGERS < c->n ? lo + NEAR_TRIGGERS : c->n;
    int best = IMR_ASSERT_AFFIRMED;
    for (size_t k = from; k < to; k++) {
        const ex_trigger *t = &c->v[k];
        if (t->first < end && t->end > first)
            continue; /* the trigger is part of the fact */
        if (first >= t->scope_first && first < t->scope_end && rank(t->category) > rank(best))
            best = t->category;
    }
    return (imr_assertion)best;
}

imr_assertion imr_assertion_at(const char *text, size_t len, size_t start, size_t end)
{
    const ex_vocab *v = ex_vocab_default(NULL);
    if (!v || !text || start >= len || end <= start || len > IMR_EXTRACT_MAX_BYTES)
        return IMR_ASSERT_AFFIRMED;
    if (end > len)
        end = len;
    ex_doc d = {0};
    ex_context c = {0};
    ex_doc_analyze(&d, v, text, len);
    size_t first = 0, last = 0;
    while (first < d.ntok && d.tok[first].end <= start)
        first++;
    last = first;
    while (last < d.ntok && d.tok[last].start < end)
        last++;
    imr_assertion a = IMR_ASSERT_AFFIRMED;
    if (last > first) {
        ex_context_build(v, &d, &c);
        a = ex_context_assert(&c, first, last);
    }
    ex_context_free(&c);
    ex_doc_free(&d);
    return a;
}
