/*
 * extract.c - clinical extraction: the facts of docs/facts.md found in a free text, each
 * with its evidence span and its assertion (negation.c).
 *
 * The text is analysed once (extract_lex.c: tokens, sentences, dates, and every phrase of
 * the vocabulary that matches). Then:
 *   1. terms: left to right, the longest phrase of a fact class (body part, diagnosis,
 *      treatment, pain score pattern ...) or drug name of the lexicon makes a draft fact;
 *      a phrase listed in two classes (a diagnosis that is also an indication) makes two.
 *   2. finishing passes complete the drafts from the cues around them: laterality of body
 *      parts, numbers of ages and pain scores, a change between two scores, what a pain
 *      score is tied to, how long a drug was taken, what an improvement followed, the
 *      result of a drug screen or a study, the response to a treatment, and so on. Each
 *      pass looks at a few tokens in the same sentence or clause, so the whole is linear.
 *   3. every draft gets its assertion; a few types then follow the annotation guide
 *      (past tense does not make a prior treatment "historical"; a body part named in a
 *      request is still the claimant's).
 * The drafts are sorted by position and copied into the caller's arena.
 * Cue words and normalized names all come from the .tsv files of rules/extract/; C only
 * holds the mechanisms. Per-call scratch memory is kept per thread and reused.
 */
#include "extract_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum fact_type {
    FT_AGE, FT_SEX, FT_DOI, FT_BODY, FT_DIAG, FT_MED, FT_PAIN, FT_IMPROVE, FT_FUNC, FT_WORK,
    FT_UDS, FT_AGREE, FT_SIDE, FT_ABERRANT, FT_PRIOR, FT_TRIAL, FT_INDIC, FT_EXAM, FT_IMAGING,
    FT_REDFLAG, FT_SECOND, FT_GOALS, FT_SURGERY, FT_HOMEBOUND, FT_PSYCH, FT_COUNT
};

static const char *const TYPE_NAMES[FT_COUNT] = {
    [FT_AGE] = "age", [FT_SEX] = "sex", [FT_DOI] = "date_of_injury", [FT_BODY] = "body_part",
    [FT_DIAG] = "diagnosis", [FT_MED] = "medication", [FT_PAIN] = "pain_score",
    [FT_IMPROVE] = "improvement", [FT_FUNC] = "functional_improvement",
    [FT_WORK] = "work_status", [FT_UDS] = "urine_drug_screen", [FT_AGREE] = "opioid_agreement",
    [FT_SIDE] = "side_effects", [FT_ABERRANT] = "aberrant_behavior",
    [FT_PRIOR] = "prior_treatment", [FT_TRIAL] = "medication_trial", [FT_INDIC] = "indication",
    [FT_EXAM] = "exam_finding", [FT_IMAGING] = "imaging", [FT_REDFLAG] = "red_flag",
    [FT_SECOND] = "second_opinion", [FT_GOALS] = "treatment_goals",
    [FT_SURGERY] = "surgery_history", [FT_HOMEBOUND] = "homebound", [FT_PSYCH] = "psychosocial",
};

/* The fact type a term class makes (-1: the class makes no fact by itself). */
static int class_type(int cls)
{
    switch (cls) {
    case EX_C_BODY_PART: return FT_BODY;
    case EX_C_DIAGNOSIS: return FT_DIAG;
    case EX_C_INDICATION: return FT_INDIC;
    case EX_C_TREATMENT: return FT_PRIOR;
    case EX_C_DRUG_CLASS: return FT_TRIAL;
    case EX_C_EXAM_FINDING: return FT_EXAM;
    case EX_C_IMAGING: return FT_IMAGING;
    case EX_C_RED_FLAG: return FT_REDFLAG;
    case EX_C_SIDE_EFFECT: return FT_SIDE;
    case EX_C_ABERRANT: return FT_ABERRANT;
    case EX_C_WORK_STATUS: return FT_WORK;
    case EX_C_SEX: return FT_SEX;
    case EX_C_PSYCHOSOCIAL: return FT_PSYCH;
    case EX_C_OPIOID_AGREEMENT: return FT_AGREE;
    case EX_C_DRUG_SCREEN: return FT_UDS;
    case EX_C_FUNCTION: return FT_FUNC;
    case EX_C_IMPROVEMENT: return FT_IMPROVE;
    case EX_C_HOMEBOUND: return FT_HOMEBOUND;
    case EX_C_GOALS: return FT_GOALS;
    case EX_C_SECOND_OPINION: return FT_SECOND;
    case EX_C_SURGERY: return FT_SURGERY;
    case EX_C_AGE: return FT_AGE;
    case EX_C_PAIN_SCORE: return FT_PAIN;
    default: return -1;
    }
}

/* How far, in tokens, a relation between two facts is looked for (a drug and its
 * duration, a gain and the treatment it followed). Clinical prose keeps related words
 * close; the bound keeps extraction linear on any input. */
#define REACH 48
/* A clause longer than this many tokens is cut (run-on text without punctuation). */
#define CLAUSE_MAX 80

/* A fact being built. Strings point into the vocabulary, the lexicon or the arena until
 * the fact is copied out. */
typedef struct draft {
    uint8_t type;
    uint8_t dead;      /* dropped by a later pass */
    uint8_t bare;      /* a pain score named without a number: kept only when negated */
    uint8_t change;    /* a pain score with a second, later score */
    uint8_t linked;    /* a treatment named as what a gain followed ("relief with PT") */
    int8_t assertion;  /* -1 until computed */
    uint32_t first, end;   /* the evidence span, in tokens */
    uint32_t aend;         /* end of the range whose triggers do not count (>= end) */
    int32_t next;          /* next draft starting at the same token, or -1 */
    int32_t source;        /* gains: the draft of the treatment they followed, or -1 */
    const ex_entry *entry; /* the vocabulary entry that made it, or NULL */
    const imr_drug *drug;  /* medications and drug trials from the lexicon */
    const char *name, *value, *qualifier, *date, *duration, *attributed_to;
    double score, score2;
} draft;

typedef struct clause {
    uint32_t first, end;
} clause;

/* Per-thread scratch memory, reused from call to call. */
typedef struct work {
    ex_doc doc;
    ex_context ctx;
    draft *dr;
    size_t ndr, capdr;
    int32_t *head;      /* per token: the first draft starting there, or -1 */
    uint8_t *in_term;   /* per token: 1 when inside a term or a drug name */
    uint32_t *clause_of; /* per token: its clause */
    size_t captok;
    clause *cl;
    size_t ncl, capcl;
    size_t *order, *tmp; /* output order */
    size_t caporder;
} work;

/* Everything one call needs. */
typedef struct run {
    const ex_vocab *v;
    const ex_doc *d;
    work *w;
    imr_arena *a;
    const imr_lexicon *lx;
    uint64_t term_classes; /* bit per class a term can have: fact classes, pseudo-terms */
} run;

/* ---------------------------------------------------------------------------------------
 * Per-thread scratch memory
 * ------------------------------------------------------------------------------------- */
static pthread_key_t work_key;
static pthread_once_t work_once = PTHREAD_ONCE_INIT;

static void work_free(void *p)
{
    work *w = p;
    if (!w)
        return;
    ex_doc_free(&w->doc);
    ex_context_free(&w->ctx);
    free(w->dr);
    free(w->head);
    free(w->in_term);
    free(w->clause_of);
    free(w->cl);
    free(w->order);
    free(w->tmp);
    free(w);
}

static void work_key_create(void) { pthread_key_create(&work_key, work_free); }

static work *work_get(void)
{
    pthread_once(&work_once, work_key_create);
    work *w = pthread_getspecific(work_key);
    if (!w) {
        w = ex_xrealloc(NULL, sizeof *w);
        memset(w, 0, sizeof *w);
        pthread_setspecific(work_key, w);
    }
    return w;
}

/* Size the per-token arrays and cut the clauses. */
static void prepare(run *r)
{
    work *w = r->w;
    const ex_doc *d = r->d;
    size_t n = d->ntok + 1;
    if (n > w->captok) {
        w->captok = n * 2;
        w->head = ex_xrealloc(w->head, w->captok * sizeof *w->head);
        w->in_term = ex_xrealloc(w->in_term, w->captok);
        w->clause_of = ex_xrealloc(w->clause_of, w->captok * sizeof *w->clause_of);
    }
    for (size_t i = 0; i < n; i++)
        w->head[i] = -1;
    memset(w->in_term, 0, n);
    w->ncl = 0;
    size_t first = 0;
    for (size_t i = 0; i <= d->ntok; i++) {
        int cut = i == d->ntok || (i > first && (d->tok[i].sent != d->tok[first].sent ||
                                                 i - first >= CLAUSE_MAX ||
                                                 ex_clause_break(r->v, d, i)));
        if (!cut)
            continue;
        if (w->ncl == w->capcl) {
            w->capcl = w->capcl ? w->capcl * 2 : 64;
            w->cl = ex_xrealloc(w->cl, w->capcl * sizeof *w->cl);
        }
        w->cl[w->ncl].first = (uint32_t)first;
        w->cl[w->ncl].end = (uint32_t)i;
        for (size_t k = first; k < i; k++)
            w->clause_of[k] = (uint32_t)w->ncl;
        w->ncl++;
        first = i;
    }
    w->clause_of[d->ntok] = w->ncl ? (uint32_t)(w->ncl - 1) : 0;
    w->ndr = 0;
}

/* ---------------------------------------------------------------------------------------
 * Small helpers over tokens and matches
 * ------------------------------------------------------------------------------------- */
static const ex_entry *entry_of(const run *r, const ex_match *m)
{
    return m ? ex_vocab_entry(r->v, m->entry) : NULL;
}

static const ex_match *at(const run *r, size_t i, ex_class cls)
{
    return ex_match_at(r->v, r->d, i, cls);
}

static int is_punct(const run *r, size_t i, char c)
{
    return i < r->d->ntok && r->d->tok[i].kind == EX_PUNCT && r->d->fold[r->d->tok[i].fold] == c;
}

static size_t sent_first(const run *r, size_t i) { return r->d->sent[r->d->tok[i].sent].first; }
static size_t sent_end(const run *r, size_t i) { return r->d->sent[r->d->tok[i].sent].end; }
static int same_sentence(const run *r, size_t i, size_t j)
{
    return r->d->tok[i].sent == r->d->tok[j].sent;
}
static size_t clause_start(const run *r, size_t i) { return r->w->cl[r->w->clause_of[i]].first; }
static size_t clause_end(const run *r, size_t i) { return r->w->cl[r->w->clause_of[i]].end; }

/* max(a - b, lo) without wrapping */
static size_t back(size_t a, size_t b, size_t lo)
{
    size_t x = a > b ? a - b : 0;
    return x > lo ? x : lo;
}
static size_t ahead(size_t a, size_t b, size_t hi) { return a + b < hi ? a + b : hi; }

/* Skip filler words ("the", "his", "a") from token i on. */
static size_t skip_filler(const run *r, size_t i, size_t limit)
{
    const ex_match *m;
    while (i < limit && (m = at(r, i, EX_C_FILLER)) && m->end <= limit)
        i = m->end;
    return i;
}

/* A match of class `cls` that ends exactly at token `end`, starting in [lo, end). */
static const ex_match *ending_at(const run *r, size_t lo, size_t end, ex_class cls)
{
    for (size_t j = end; j-- > lo;) {
        const ex_token *t = &r->d->tok[j];
        for (size_t k = 0; k < t->nmatch; k++) {
            const ex_match *m = &r->d->matches[t->first + k];
            if (m->end == end && m->cls == (uint32_t)cls)
                return m;
        }
    }
    return NULL;
}

/* The first match of class `cls` starting in [from, to), or NULL. */
static const ex_match *first_in(const run *r, size_t from, size_t to, ex_class cls)
{
    for (size_t i = from; i < to; i++) {
        const ex_match *m = at(r, i, cls);
        if (m)
            return m;
    }
    return NULL;
}

static int tok_int(const run *r, size_t i, int *out)
{
    const ex_token *t = &r->d->tok[i];
    if (i >= r->d->ntok || t->kind != EX_NUMBER || !(t->flags & EX_F_INTEGER) || t->num > 1e6)
        return 0;
    *out = (int)t->num;
    return 1;
}

/* A count at token i: "12", "two". Its token length, or 0. */
static size_t count_at(const run *r, size_t i, double *n)
{
    int k;
    if (i >= r->d->ntok)
        return 0;
    if (tok_int(r, i, &k) && !(r->d->tok[i].flags & EX_F_DATE)) {
        *n = k;
        return 1;
    }
    const ex_match *m = at(r, i, EX_C_NUMBER);
    if (m) {
        *n = entry_of(r, m)->number;
        return m->end - i;
    }
    return 0;
}

static const char *span_text(const run *r, size_t first, size_t end)
{
    const ex_doc *d = r->d;
    return imr_arena_strndup(r->a, d->text + d->tok[first].start, d->tok[end - 1].end - d->tok[first].start);
}

/* Number formatting without a trailing ".0": 7 -> "7", 7.5 -> "7.5". */
static size_t put_num(char *out, double x)
{
    if (x >= 0 && x < 1e6 && x * 100 == (double)(long)(x * 100)) { /* the usual case, fast */
        long c = (long)(x * 100 + 0.5), whole = c / 100, frac = c % 100;
        size_t n = (size_t)snprintf(out, 24, "%ld", whole);
        if (frac) {
            out[n++] = '.';
            out[n++] = (char)('0' + frac / 10);
            if (frac % 10)
                out[n++] = (char)('0' + frac % 10);
        }
        out[n] = '\0';
        return n;
    }
    return (size_t)snprintf(out, 24, "%g", x);
}

static const char *num_str(const run *r, double x)
{
    char b[32];
    size_t n = put_num(b, x);
    return imr_arena_strndup(r->a, b, n);
}

/* "7/10", "7-8/10" */
static const char *score_str(const run *r, const double *x, int n)
{
    char b[64];
    size_t k = put_num(b, x[0]);
    if (n == 2) {
        b[k++] = '-';
        k += put_num(b + k, x[1]);
    }
    memcpy(b + k, "/10", 4);
    return imr_arena_strndup(r->a, b, k + 3);
}

/* Index of the first date starting at or after token i (d->ndates when none). */
static size_t date_from(const run *r, size_t i)
{
    size_t lo = 0, hi = r->d->ndates;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->d->dates[mid].first < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const ex_date *date_starting(const run *r, size_t i)
{
    size_t k = date_from(r, i);
    return k < r->d->ndates && r->d->dates[k].first == i ? &r->d->dates[k] : NULL;
}

static int same_name(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* ---- drafts ---- */
#define DR(k) (&r->w->dr[k])
#define FOR_DRAFTS(k) for (size_t k = 0; k < r->w->ndr; k++)
#define BIT(t) (1u << (t))
#define TREATMENTS (BIT(FT_PRIOR) | BIT(FT_MED) | BIT(FT_TRIAL))
/* Types whose value is the mention as written (docs/facts.md). */
#define AS_WRITTEN                                                                              \
    (BIT(FT_DIAG) | BIT(FT_MED) | BIT(FT_INDIC) | BIT(FT_IMPROVE) | BIT(FT_FUNC) | BIT(FT_SIDE) | \
     BIT(FT_ABERRANT) | BIT(FT_PRIOR) | BIT(FT_TRIAL) | BIT(FT_EXAM) | BIT(FT_REDFLAG) |         \
     BIT(FT_SURGERY) | BIT(FT_PSYCH))

static void link_draft(run *r, size_t k)
{
    draft *f = DR(k);
    f->next = r->w->head[f->first];
    r->w->head[f->first] = (int32_t)k;
}

/* Move the start of draft k (a laterality word or a count joins its span). */
static void move_first(run *r, size_t k, size_t first)
{
    int32_t *p = &r->w->head[DR(k)->first];
    while (*p >= 0 && (size_t)*p != k)
        p = &DR(*p)->next;
    if (*p >= 0)
        *p = DR(k)->next;
    DR(k)->first = (uint32_t)first;
    link_draft(r, k);
}

static size_t add(run *r, int type, size_t first, size_t end, const ex_entry *e)
{
    work *w = r->w;
    if (w->ndr == w->capdr) {
        w->capdr = w->capdr ? w->capdr * 2 : 64;
        w->dr = ex_xrealloc(w->dr, w->capdr * sizeof *w->dr);
    }
    size_t k = w->ndr++;
    draft *f = &w->dr[k];
    memset(f, 0, sizeof *f);
    f->type = (uint8_t)type;
    f->assertion = -1;
    f->first = (uint32_t)first;
    f->end = f->aend = (uint32_t)end;
    f->entry = e;
    f->source = -1;
    f->score = f->score2 = NAN;
    if (e)
        f->name = e->name;
    link_draft(r, k);
    return k;
}

/* Index of a live draft of `types` (a bit set) starting at token i, or -1. */
static long draft_starting(const run *r, size_t i, unsigned types)
{
    if (i >= r->d->ntok)
        return -1;
    for (int32_t k = r->w->head[i]; k >= 0; k = DR(k)->next)
        if (!DR(k)->dead && (BIT(DR(k)->type) & types))
            return k;
    return -1;
}

/* Index of the live draft of `types` that starts nearest before token `before` (and at or
 * after `from`, at most REACH tokens back) and ends by `before`; -1 when none. */
static long draft_before(const run *r, size_t from, size_t before, unsigned types)
{
    for (size_t j = before; j-- > back(before, REACH, from);) {
        long best = -1;
        for (int32_t k = r->w->head[j]; k >= 0; k = DR(k)->next)
            if (!DR(k)->dead && (BIT(DR(k)->type) & types) && DR(k)->end <= before &&
                (best < 0 || DR(k)->end > DR(best)->end))
                best = k;
        if (best >= 0)
            return best;
    }
    return -1;
}

/* Index of the first live draft of `types` starting in [from, to) other than `except`. */
static long draft_in(const run *r, size_t from, size_t to, unsigned types, long except)
{
    for (size_t j = from; j < to && j < r->d->ntok; j++)
        for (int32_t k = r->w->head[j]; k >= 0; k = DR(k)->next)
            if (k != except && !DR(k)->dead && (BIT(DR(k)->type) & types))
                return k;
    return -1;
}

/* ---------------------------------------------------------------------------------------
 * 1. Terms and drug names
 * ------------------------------------------------------------------------------------- */
/* Token length of the lexicon's drug name at token i, or 0. */
static size_t drug_at(const run *r, size_t i, const imr_drug **drug)
{
    const ex_doc *d = r->d;
    const ex_token *t = &d->tok[i];
    /* two letters start a name only in capitals ("MS Contin") */
    if (!r->lx || t->kind != EX_WORD || t->end - t->start < 2 ||
        (t->end - t->start < 3 && !(t->flags & EX_F_UPPER)))
        return 0;
    /* a word of the extraction vocabulary ("the", "denies", "knee") starts no drug name,
     * unless it is written in capitals ("MS Contin"): this halves the lexicon lookups */
    if (t->nmatch && !(t->flags & EX_F_UPPER))
        return 0;
    /* a drug name has at most a few words: look no further than the sentence's next
     * five tokens, so the lexicon does not scan the text beyond */
    size_t last = ahead(i, 5, sent_end(r, i));
    size_t mlen = 0;
    const imr_drug *dr = imr_lexicon_match(r->lx, d->text + t->start, d->tok[last - 1].end - t->start, &mlen);
    if (!dr || !mlen)
        return 0;
    size_t stop = t->start + mlen, j = i;
    while (j < d->ntok && d->tok[j].end < stop)
        j++;
    if (j >= d->ntok || d->tok[j].end != stop || !same_sentence(r, i, j))
        return 0;
    *drug = dr;
    return j + 1 - i;
}

static int is_fact_class(int cls) { return class_type(cls) >= 0; }

/* The longest match of a fact class (or a pseudo-term) starting at token i: its end
 * (0 when none) and class. */
static size_t longest_term(const run *r, size_t i, int *cls)
{
    const ex_token *t = &r->d->tok[i];
    size_t best = 0;
    if (!(t->classes & r->term_classes))
        return 0; /* most tokens start no term */
    for (size_t k = 0; k < t->nmatch; k++) {
        const ex_match *m = &r->d->matches[t->first + k];
        int c = (int)m->cls;
        if ((is_fact_class(c) || c == EX_C_PSEUDO_TERM) && m->end > best) {
            best = m->end;
            *cls = c;
        }
    }
    return best;
}

static void find_terms(run *r)
{
    const ex_doc *d = r->d;
    for (size_t i = 0; i < d->ntok;) {
        int cls = 0;
        size_t best = longest_term(r, i, &cls);
        /* a longer term of the same class starting inside this one wins: "is working
         * with restrictions" is "working with restrictions", not "is working" */
        for (size_t j = i + 1; j < best; j++) {
            int c2 = 0;
            size_t e2 = longest_term(r, j, &c2);
            if (c2 == cls && e2 > best && cls < EX_C_AGE) { /* not for number patterns */
                i = j;
                best = e2;
                j = i;
            }
        }
        const imr_drug *drug = NULL;
        size_t dl = drug_at(r, i, &drug);
        if (dl && i + dl >= best) {
            size_t k = add(r, FT_MED, i, i + dl, NULL);
            DR(k)->drug = drug;
            i += dl;
            continue;
        }
        if (!best) {
            i++;
            continue;
        }
        if (cls == EX_C_PSEUDO_TERM) { /* looks like a term, is none: "solid fusion" */
            memset(r->w->in_term + i, 1, best - i);
            i = best;
            continue;
        }
        const ex_token *t = &d->tok[i];
        for (size_t k = 0; k < t->nmatch; k++) {
            const ex_match *m = &d->matches[t->first + k];
            const ex_entry *e = entry_of(r, m);
            if (m->end == best && is_fact_class(e->cls))
                add(r, class_type(e->cls), i, best, e);
        }
        i = best;
    }
    FOR_DRAFTS(k)
        memset(r->w->in_term + DR(k)->first, 1, DR(k)->end - DR(k)->first);
}

/* ---------------------------------------------------------------------------------------
 * 2. Finishing passes
 * ------------------------------------------------------------------------------------- */
/* A cue of class `cls` at token i that is not part of a term. */
static const ex_match *cue_at(const run *r, size_t i, ex_class cls)
{
    return r->w->in_term[i] ? NULL : at(r, i, cls);
}

static const ex_match *first_cue(const run *r, size_t from, size_t to, ex_class cls)
{
    for (size_t i = from; i < to; i++) {
        const ex_match *m = cue_at(r, i, cls);
        if (m)
            return m;
    }
    return NULL;
}

/* Body parts: a laterality word right before ("left knee", "right-sided", "both legs"). */
static void finish_body_parts(run *r)
{
    FOR_DRAFTS(k) {
        if (DR(k)->dead || DR(k)->type != FT_BODY)
            continue;
        size_t first = DR(k)->first;
        const ex_match *m = ending_at(r, back(first, 3, sent_first(r, first)), first, EX_C_LATERALITY);
        if (m) {
            DR(k)->value = entry_of(r, m)->name;
            move_first(r, k, m->first);
        }
    }
}

static void finish_ages(run *r)
{
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead || f->type != FT_AGE)
            continue;
        int n = -1;
        for (size_t i = f->first; i < f->end; i++)
            if (r->d->tok[i].kind == EX_NUMBER && (!tok_int(r, i, &n) || (r->d->tok[i].flags & EX_F_DATE)))
                n = -1;
        /* "45 M": the letter must be a capital; it is the sex, the number the age */
        const ex_match *sex = NULL;
        if (f->entry && f->entry->value && f->end > f->first) {
            unsigned char c = (unsigned char)r->d->text[r->d->tok[f->end - 1].start];
            sex = at(r, f->end - 1, EX_C_SEX);
            /* a word follows ("45 M laborer", not "101 F."), and the phrase opens the
             * sentence or a list item, or starts with its article ("a 45 M") */
            size_t i = f->first;
            int opens = r->d->tok[i].kind != EX_NUMBER || i == sent_first(r, i) ||
                        is_punct(r, i - 1, ',') || is_punct(r, i - 1, ':') || is_punct(r, i - 1, '(');
            if (!(c >= 'A' && c <= 'Z') || !sex || !opens || f->end >= r->d->ntok ||
                r->d->tok[f->end].kind != EX_WORD)
                n = -1;
        }
        if (n < 0 || n > 120) {
            f->dead = 1;
            continue;
        }
        if (sex) {
            f->end = f->aend = f->end - 1;
            if (r->d->tok[f->first].kind != EX_NUMBER) { /* "a 45 M": the age is the number */
                move_first(r, k, f->end - 1);
                f = DR(k);
            }
            if (draft_starting(r, f->end, BIT(FT_SEX)) < 0) {
                size_t end = f->end;
                f->score = n;
                f->value = num_str(r, n);
                add(r, FT_SEX, end, end + 1, entry_of(r, sex));
                continue; /* `f` may have moved */
            }
        }
        f->score = n;
        f->value = num_str(r, n);
    }
}

/* A sex written as one capital letter ("45 M", "52 y/o F") counts only right after an
 * age, a comma between at most. */
static void finish_sex_letters(run *r)
{
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead || f->type != FT_SEX || !f->entry || !f->entry->value)
            continue;
        size_t at_age = f->first - (f->first > 0 && is_punct(r, f->first - 1, ','));
        unsigned char c = (unsigned char)r->d->text[r->d->tok[f->first].start];
        long a = draft_before(r, back(at_age, 8, 0), at_age, BIT(FT_AGE));
        if (!(c >= 'A' && c <= 'Z') || a < 0 || DR(a)->end != at_age)
            f->dead = 1;
    }
}

/* ---- dates of injury ---- */
static void find_dates_of_injury(run *r)
{
    const ex_doc *d = r->d;
    for (size_t k = 0; k < d->ndates; k++) {
        const ex_date *dt = &d->dates[k];
        int found = 0;
        /* a cue before the date, with no comma or other date in between */
        for (size_t i = dt->first; i-- > back(dt->first, 14, sent_first(r, dt->first));) {
            if (is_punct(r, i, ',') || (d->tok[i].flags & EX_F_DATE))
                break;
            const ex_match *m = at(r, i, EX_C_INJURY_CUE);
            if (m && m->end <= dt->first) {
                found = 1;
                break;
            }
        }
        /* or right after it: "on August 22, 2010, injuring both knees" */
        if (!found) {
            size_t j = dt->end + is_punct(r, dt->end, ',');
            found = j < d->ntok && same_sentence(r, dt->first, j) && at(r, j, EX_C_INJURY_CUE);
        }
        if (!found)
            continue;
        size_t f = add(r, FT_DOI, dt->first, dt->end, NULL);
        DR(f)->value = dt->iso;
        DR(f)->date = dt->iso;
    }
}

/* The date a fact in [first, end) refers to: the nearest date before it in the sentence,
 * else the first date after it in the clause, at most `max_after` tokens on. Dates of
 * injury do not count. */
static const char *nearest_date(run *r, size_t first, size_t end, size_t max_after)
{
    const ex_doc *d = r->d;
    size_t k = date_from(r, end);
    /* "a repeat urine drug screen on 3/2/15", "X-rays dated 5/1/2014" */
    if (k < d->ndates && d->dates[k].first <= end + 2 && same_sentence(r, first, d->dates[k].first) &&
        draft_starting(r, d->dates[k].first, BIT(FT_DOI)) < 0)
        return d->dates[k].iso;
    k = date_from(r, first);
    if (k > 0) {
        const ex_date *dt = &d->dates[k - 1];
        if (dt->end <= first && same_sentence(r, dt->first, first) &&
            draft_starting(r, dt->first, BIT(FT_DOI)) < 0)
            return dt->iso;
    }
    k = date_from(r, end);
    if (k < d->ndates) {
        const ex_date *dt = &d->dates[k];
        if (dt->first < clause_end(r, first) && dt->first <= end + max_after &&
            draft_starting(r, dt->first, BIT(FT_DOI)) < 0)
            return dt->iso;
    }
    return NULL;
}

/* ---- pain scores ---- */
static int slot_count(const run *r, const ex_entry *e)
{
    int n = 0;
    for (size_t w = 0; w < e->nwords; w++)
        n += ex_entry_word(r->v, e, w)->kind == EX_W_NUMBER;
    return n;
}

/* Read the scores of a pain-score pattern ("7-8/10" -> 7 and 8; the "10" is literal). */
static void pain_numbers(run *r, draft *f)
{
    const ex_doc *d = r->d;
    const ex_entry *e = f->entry;
    if (slot_count(r, e) == 0) {
        f->bare = 1;
        return;
    }
    double x[2];
    int n = 0;
    for (size_t w = 0; w < e->nwords; w++) {
        const ex_token *t = &d->tok[f->first + w];
        if (t->flags & EX_F_DATE) {
            f->dead = 1;
            return;
        }
        if (ex_entry_word(r->v, e, w)->kind == EX_W_NUMBER && n < 2)
            x[n++] = t->num;
    }
    /* a number glued on either side ("10/325", "5/10/15") means this is no score */
    if (f->first > 0 && !(d->tok[f->first].flags & EX_F_SPACE_BEFORE) &&
        (is_punct(r, f->first - 1, '/') || is_punct(r, f->first - 1, '-') ||
         is_punct(r, f->first - 1, '.') || d->tok[f->first - 1].kind == EX_NUMBER))
        n = 0;
    if (f->end < d->ntok && !(d->tok[f->end].flags & EX_F_SPACE_BEFORE) &&
        (is_punct(r, f->end, '/') || d->tok[f->end].kind == EX_NUMBER))
        n = 0;
    for (int k = 0; k < n; k++)
        if (!(x[k] >= 0 && x[k] <= 10))
            n = 0;
    if (n == 2 && x[1] <= x[0])
        n = 0;
    if (n == 0) {
        f->dead = 1;
        return;
    }
    f->score = n == 2 ? (x[0] + x[1]) / 2 : x[0];
    f->value = score_str(r, x, n);
}

/* The score-qualifier cue starting in [from, to): the first one, or the last one. A cue
 * that needs a drug ("with" in "5/10 with gabapentin") only counts before a drug name or
 * a reference to one. */
static const ex_entry *score_qualifier(run *r, size_t from, size_t to, int last)
{
    const ex_entry *found = NULL;
    for (size_t i = from; i < to; i++) {
        const ex_match *m = at(r, i, EX_C_SCORE_QUALIFIER);
        if (!m)
            continue;
        const ex_entry *e = entry_of(r, m);
        if (e->value) { /* "with gabapentin", "without it", "9/10 without." */
            size_t j = skip_filler(r, m->end, sent_end(r, i));
            int ends = j >= sent_end(r, i) || (r->d->tok[j].kind == EX_PUNCT && !is_punct(r, j, '(')) ||
                       at(r, j, EX_C_CONJUNCTION); /* "7/10 without and 3/10 with ..." */
            if (!ends && draft_starting(r, j, BIT(FT_MED) | BIT(FT_TRIAL)) < 0 && !at(r, j, EX_C_DRUG_REFERENCE))
                continue;
        }
        found = e;
        if (!last)
            return e;
    }
    return found;
}

/* The single body-part name of the text, or NULL when none or several. */
static const char *only_body_part(run *r)
{
    const char *site = NULL;
    FOR_DRAFTS(k) {
        const draft *b = DR(k);
        if (b->dead || b->type != FT_BODY || !b->name)
            continue;
        if (site && strcmp(site, b->name))
            return NULL;
        site = b->name;
    }
    return site;
}

/* The body part a score is tied to: one right after it ("6/10 pain in the neck"), else
 * the nearest one before it in the clause, else the only body part of the whole text. */
static const char *pain_site(run *r, const draft *f, const char *only_site)
{
    size_t ce = clause_end(r, f->first);
    int placed = 0; /* "in", "at": the words after the score say where */
    for (size_t i = f->end; i < ce && i <= f->end + 4; i++) {
        if (at(r, i, EX_C_SCORE_QUALIFIER) || at(r, i, EX_C_CLAUSE_START) || at(r, i, EX_C_CONJUNCTION))
            break;
        placed |= at(r, i, EX_C_LOCATIVE) != NULL;
        long b = draft_starting(r, i, BIT(FT_BODY));
        if (b >= 0 && placed)
            return DR(b)->name;
    }
    long b = draft_before(r, clause_start(r, f->first), f->first, BIT(FT_BODY));
    return b >= 0 ? DR(b)->name : only_site;
}

/* Between two scores joined by a change cue `c`, a qualifier keeps them apart ("5/10 with
 * medication and 8/10 without" is a pair, not a change), except one that dates the first
 * score as the new one before a backward cue ("4/10 after use versus 7/10"). */
static int qualifier_blocks(run *r, size_t from, const ex_match *c, size_t to)
{
    if (first_in(r, c->end, to, EX_C_SCORE_QUALIFIER))
        return 1;
    int reverse = entry_of(r, c)->name != NULL;
    for (size_t i = from; i < c->first; i++) {
        const ex_match *q = at(r, i, EX_C_SCORE_QUALIFIER);
        if (!q)
            continue;
        const char *n = entry_of(r, q)->name;
        if (!reverse || !n || (strcmp(n, "after") && strcmp(n, "current")))
            return 1;
    }
    return 0;
}

static void finish_pain_scores(run *r)
{
    FOR_DRAFTS(k) {
        if (!DR(k)->dead && DR(k)->type == FT_PAIN)
            pain_numbers(r, DR(k));
    }
    /* a change in one phrase: "was 7-8/10 and now 4-5/10", "from 6/10 to 2/10" (pain
     * drafts come from the term pass, so they are in token order) */
    long prev = -1;
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead || f->type != FT_PAIN || f->bare)
            continue;
        if (prev >= 0) {
            draft *p = DR(prev);
            const ex_match *c = NULL;
            if (!p->change && same_sentence(r, p->first, f->first) && f->first - p->end <= 6 &&
                (c = first_in(r, p->end, f->first, EX_C_SCORE_CHANGE)) &&
                !qualifier_blocks(r, p->end, c, f->first)) {
                if (entry_of(r, c)->name) { /* "4/10, down from 8/10": the second came first */
                    p->score2 = p->score;
                    p->score = f->score;
                    p->value = f->value;
                } else
                    p->score2 = f->score;
                p->end = p->aend = f->end;
                p->change = 1;
                f->dead = 1;
                continue;
            }
        }
        prev = (long)k;
    }
    const char *only_site = only_body_part(r);
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead || f->type != FT_PAIN || f->bare)
            continue;
        if (!f->change) {
            /* the qualifier after the score (up to the next score), else the one before
             * it (after the previous score) */
            size_t stop = clause_end(r, f->first), from = clause_start(r, f->first);
            long nx = draft_in(r, f->end, stop, BIT(FT_PAIN), -1);
            if (nx >= 0)
                stop = DR(nx)->first;
            const ex_entry *q = score_qualifier(r, f->end, stop, 0);
            if (!q) {
                long pv = draft_before(r, from, f->first, BIT(FT_PAIN));
                if (pv >= 0)
                    from = DR(pv)->end;
                q = score_qualifier(r, from, f->first, 1);
            }
            if (q)
                f->qualifier = q->name;
        }
        f->name = pain_site(r, f, only_site);
        f->date = nearest_date(r, f->first, f->end, 4);
    }
}

/* ---- medications: drug trials, durations, start dates ---- */
/* The outcome of a trial: the first cue in the sentence after the drug that says more than
 * "tried", else one before it in the clause. */
static const char *trial_outcome(run *r, const draft *f)
{
    size_t se = ahead(f->end, REACH, sent_end(r, f->first));
    for (size_t i = f->end; i < se; i++) {
        const ex_match *m = cue_at(r, i, EX_C_TRIAL);
        if (m && entry_of(r, m)->name && strcmp(entry_of(r, m)->name, "tried"))
            return entry_of(r, m)->name;
    }
    for (size_t i = clause_start(r, f->first); i < f->first; i++) {
        const ex_match *m = cue_at(r, i, EX_C_TRIAL);
        if (m && strcmp(entry_of(r, m)->name, "tried"))
            return entry_of(r, m)->name;
    }
    return NULL;
}

/* "She took amitriptyline but stopped it because of dry mouth": a trial cue later in the
 * sentence that points back at the drug ("it", "them"), with no other drug in between. */
static int trial_about_it(run *r, const draft *f)
{
    size_t se = ahead(f->end, REACH, sent_end(r, f->first));
    for (size_t i = f->end; i < se; i++) {
        if (draft_starting(r, i, BIT(FT_MED) | BIT(FT_TRIAL)) >= 0)
            return 0;
        const ex_match *m = cue_at(r, i, EX_C_TRIAL);
        if (!m)
            continue;
        for (size_t j = i; j < m->end + 2 && j < se; j++)
            if (at(r, j, EX_C_DRUG_REFERENCE))
                return 1;
    }
    return 0;
}

/* Append the words of [first, end) as written, single-spaced, "&" read as "and". */
static void phrase_text(run *r, size_t first, size_t end, imr_buf *b)
{
    const ex_doc *d = r->d;
    for (size_t i = first; i < end; i++) {
        const ex_token *t = &d->tok[i];
        if (i > first && (t->flags & EX_F_SPACE_BEFORE))
            imr_buf_putc(b, ' ');
        if (t->kind == EX_PUNCT && d->fold[t->fold] == '&')
            imr_buf_puts(b, "and");
        else
            imr_buf_append(b, d->text + t->start, t->end - t->start);
    }
}

/* What follows "since": a date, a month and year, or a year. Its end token, or 0. */
static size_t since_point(run *r, size_t i, size_t limit, const char **date)
{
    *date = NULL;
    if (i >= limit)
        return 0;
    const ex_date *dt = date_starting(r, i);
    if (dt) {
        *date = dt->iso;
        return dt->end;
    }
    int y;
    const ex_match *m = at(r, i, EX_C_MONTH);
    if (m && m->end < limit && tok_int(r, m->end, &y) && y >= 1900 && y <= 2100)
        return m->end + 1;
    if (tok_int(r, i, &y) && y >= 1900 && y <= 2100)
        return i + 1;
    return 0;
}

/* "<count|several|a> <unit>": its end token, or 0. */
static size_t length_phrase(run *r, size_t i, size_t limit)
{
    const ex_match *m;
    double n;
    size_t c;
    if ((m = at(r, i, EX_C_QUANTITY)) && m->end < limit)
        i = m->end;
    else if ((c = count_at(r, i, &n)))
        i += c;
    else
        return 0;
    if (i < limit && (m = at(r, i, EX_C_TIME_UNIT)) && m->end <= limit)
        return m->end;
    return 0;
}

/* A duration at token i ("since at least May 2015", "for several months"): its tokens in
 * [*first, end) and text; 0 when none. */
static size_t duration_at(run *r, size_t i, size_t *first, const char **date)
{
    const ex_match *m;
    size_t se = sent_end(r, i);
    *first = i;
    *date = NULL;
    if ((m = cue_at(r, i, EX_C_SINCE)))
        return since_point(r, m->end, se, date);
    if (!(m = cue_at(r, i, EX_C_FOR)))
        return 0;
    /* "for" itself is dropped; "over", "about", "the past" are kept */
    size_t j = i;
    const ex_match *q = m;
    while (q && !entry_of(r, q)->value) {
        j = q->end;
        q = j < se ? cue_at(r, j, EX_C_FOR) : NULL;
    }
    *first = j;
    while (q && entry_of(r, q)->value) {
        j = q->end;
        q = j < se ? cue_at(r, j, EX_C_FOR) : NULL;
    }
    return length_phrase(r, j, se);
}

static const char *drug_name(run *r, const imr_drug *dr)
{
    if (!dr)
        return NULL;
    if (dr->generics.n == 0)
        return dr->name;
    if (dr->generics.n == 1)
        return dr->generics.v[0];
    imr_buf b = IMR_BUF_INIT;
    for (size_t i = 0; i < dr->generics.n; i++) {
        if (i)
            imr_buf_putc(&b, '/');
        imr_buf_puts(&b, dr->generics.v[i]);
    }
    const char *s = imr_arena_strndup(r->a, b.data, b.len);
    imr_buf_free(&b);
    return s;
}

static void finish_medications(run *r)
{
    const ex_doc *d = r->d;
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead || (f->type != FT_MED && f->type != FT_TRIAL))
            continue;
        if (f->type == FT_MED) {
            f->name = drug_name(r, f->drug);
            f->qualifier = f->drug->drug_class;
        }
        /* a drug or a class named as tried, failed or not tolerated */
        if (first_cue(r, clause_start(r, f->first), clause_end(r, f->first), EX_C_TRIAL) ||
            trial_about_it(r, f)) {
            f->type = FT_TRIAL;
            f->qualifier = trial_outcome(r, f);
        } else if (f->type == FT_TRIAL)
            f->dead = 1; /* a drug class that was not tried is no fact */
    }
    /* how long: a duration after one or more drugs of its clause */
    imr_buf b = IMR_BUF_INIT;
    size_t prev_end = 0;
    for (size_t i = 0; i < d->ntok; i++) {
        size_t first;
        const char *date;
        size_t stop = duration_at(r, i, &first, &date);
        if (!stop)
            continue;
        const char *text = NULL;
        for (size_t j = back(i, REACH, clause_start(r, i) > prev_end ? clause_start(r, i) : prev_end); j < i; j++)
            for (int32_t k = r->w->head[j]; k >= 0; k = DR(k)->next) {
                draft *f = DR(k);
                if (f->dead || f->type != FT_MED || f->end > i || f->duration)
                    continue;
                if (!text) {
                    imr_buf_reset(&b);
                    phrase_text(r, first, stop, &b);
                    text = imr_arena_strndup(r->a, b.data, b.len);
                }
                f->duration = text;
                if (date)
                    f->date = date;
            }
        prev_end = stop;
        i = stop - 1;
    }
    imr_buf_free(&b);
    /* when it was started: "started gabapentin on 3/4/2013", "tramadol ..., started on
     * 4/20/2015" (the strength and dose may stand between) */
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead || f->type != FT_MED || f->date)
            continue;
        size_t se = sent_end(r, f->first), q = date_from(r, f->end);
        if (q >= d->ndates || d->dates[q].first >= se || d->dates[q].first > f->end + 8 ||
            draft_in(r, f->end, d->dates[q].first, TREATMENTS, -1) >= 0)
            continue;
        size_t at_date = d->dates[q].first;
        int cue = ending_at(r, back(f->first, 2, sent_first(r, f->first)), f->first, EX_C_START_CUE) ||
                  (f->first > 0 && at(r, f->first - 1, EX_C_START_CUE));
        if (cue && at_date <= f->end + 2)
            f->date = d->dates[q].iso;
        else if (first_in(r, back(at_date, 3, f->end), at_date, EX_C_START_CUE))
            f->date = d->dates[q].iso;
    }
}

/* ---- drug screens ---- */
/* The drugs the text names as taken, each with the first and last token it is named at,
 * so that a screen can tell a prescribed drug from one named only in the screen. */
typedef struct taken {
    const char *name; /* generic name(s), '/'-joined */
    size_t first, last;
} taken;

static size_t collect_taken(run *r, taken **out)
{
    taken *v = NULL;
    size_t n = 0, cap = 0;
    FOR_DRAFTS(k) {
        const draft *f = DR(k);
        if (f->dead || f->type != FT_MED || !f->drug)
            continue;
        const char *name = drug_name(r, f->drug);
        size_t j = 0;
        while (j < n && strcmp(v[j].name, name))
            j++;
        if (j == n) {
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                v = ex_xrealloc(v, cap * sizeof *v);
            }
            v[n++] = (taken){name, f->first, f->first};
        }
        if (f->first < v[j].first)
            v[j].first = f->first;
        if (f->first > v[j].last)
            v[j].last = f->first;
    }
    *out = v;
    return n;
}

/* 1 when two '/'-joined lists of generic names share a name. */
static int shares_name(const char *a, const char *b)
{
    for (const char *p = a; *p;) {
        size_t n = strcspn(p, "/");
        for (const char *q = b; *q;) {
            size_t m = strcspn(q, "/");
            if (n == m && !strncmp(p, q, n))
                return 1;
            q += m + (q[m] == '/');
        }
        p += n + (p[n] == '/');
    }
    return 0;
}

/* 1 when `sub` is a drug named as taken outside the tokens [first, end) of a screen. */
static int is_taken(const taken *t, size_t nt, const char *sub, size_t first, size_t end)
{
    for (size_t j = 0; j < nt; j++)
        if ((t[j].first < first || t[j].last >= end) && shares_name(t[j].name, sub))
            return 1;
    return 0;
}

/* A screen result the substances tell when the text gives none: a prescribed drug found
 * negative, or a drug not prescribed or an illicit substance found positive. */
static int unexpected_finding(int polarity, int illicit, int prescribed)
{
    if (polarity < 0)
        return !illicit && prescribed;
    if (polarity > 0)
        return illicit || !prescribed;
    return 0;
}

static void finish_drug_screens(run *r)
{
    imr_buf names = IMR_BUF_INIT;
    taken *tk = NULL;
    size_t ntk = collect_taken(r, &tk);
    FOR_DRAFTS(k) {
        if (DR(k)->dead || DR(k)->type != FT_UDS)
            continue;
        size_t first = DR(k)->first, end = DR(k)->end;
        size_t stop = ahead(end, REACH, sent_end(r, first));
        long nx = draft_in(r, end, stop, BIT(FT_UDS), (long)k);
        if (nx >= 0)
            stop = DR(nx)->first;
        const char *result = NULL;
        size_t last = end;
        int polarity = 0, unexpected = 0; /* -1 "negative for", 1 "positive for" */
        imr_buf_reset(&names);
        for (size_t i = end; i < stop; i++) {
            const ex_match *m = at(r, i, EX_C_SCREEN_RESULT);
            if (m && !result) {
                result = entry_of(r, m)->name;
                last = m->end;
            }
            if ((m = at(r, i, EX_C_SCREEN_POLARITY)))
                polarity = strcmp(entry_of(r, m)->name, "negative") ? 1 : -1;
            long md = draft_starting(r, i, BIT(FT_MED) | BIT(FT_TRIAL));
            const char *sub = NULL;
            size_t send = i + 1;
            int illicit = 0;
            if (md >= 0) { /* a drug found in the urine is no medication fact */
                sub = drug_name(r, DR(md)->drug);
                send = DR(md)->end;
                DR(md)->dead = 1;
            } else if ((m = at(r, i, EX_C_SUBSTANCE))) {
                sub = entry_of(r, m)->name;
                send = m->end;
                illicit = 1;
            }
            if (sub && unexpected_finding(polarity, illicit, is_taken(tk, ntk, sub, first, stop)))
                unexpected = 1;
            if (sub) {
                if (names.len)
                    imr_buf_putc(&names, '/');
                imr_buf_puts(&names, sub);
                last = send;
                i = send - 1;
            }
        }
        draft *f = DR(k);
        f->value = result ? result : unexpected ? "inconsistent" : "performed";
        f->name = names.len ? imr_arena_strndup(r->a, names.data, names.len) : NULL;
        if (last > f->aend)
            f->aend = (uint32_t)last;
        f->date = nearest_date(r, first, end, 4);
    }
    free(tk);
    imr_buf_free(&names);
}

/* ---- studies ---- */
/* "X-rays ... that day": the date a date reference points back to. */
static const char *date_reference(run *r, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (at(r, i, EX_C_DATE_REFERENCE)) {
            size_t q = date_from(r, i);
            return q > 0 ? r->d->dates[q - 1].iso : NULL;
        }
    return NULL;
}

static void finish_imaging(run *r)
{
    const ex_doc *d = r->d;
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead || f->type != FT_IMAGING)
            continue;
        size_t stop = ahead(f->end, REACH, clause_end(r, f->first));
        long nx = draft_in(r, f->end, stop, BIT(FT_IMAGING), (long)k);
        if (nx >= 0)
            stop = DR(nx)->first;
        /* the result: "showed ...", "was normal"; or before it, "confirmed by EMG" */
        const ex_match *m = first_in(r, f->end, stop, EX_C_FINDING_RESULT);
        if (m && m->end > f->aend)
            f->aend = m->end; /* "were negative" belongs to the study, not to a denial */
        if (!m)
            m = ending_at(r, back(f->first, 2, sent_first(r, f->first)), f->first, EX_C_FINDING_RESULT);
        f->value = m ? entry_of(r, m)->name : "performed";
        /* the body part imaged: "MRI of the left knee", "lumbar spine MRI", "lumbar MRI" */
        long b = draft_in(r, f->end, ahead(f->end, 5, stop), BIT(FT_BODY), -1);
        if (b < 0) {
            long p = draft_before(r, sent_first(r, f->first), f->first, BIT(FT_BODY));
            if (p >= 0 && DR(p)->end + 1 >= f->first)
                b = p;
        }
        if (b >= 0)
            f->qualifier = DR(b)->name;
        else if ((m = ending_at(r, back(f->first, 1, sent_first(r, f->first)), f->first, EX_C_REGION)))
            f->qualifier = entry_of(r, m)->name;
        /* the date: before it in the sentence, or right after it with only the body part
         * between ("MRI of the left knee on 6/12/2014") */
        f->date = nearest_date(r, f->first, f->end, 8);
        size_t q = date_from(r, f->end);
        if (f->date && q < d->ndates && !strcmp(d->dates[q].iso, f->date) &&
            draft_in(r, f->end, d->dates[q].first, ~(BIT(FT_BODY) | BIT(FT_IMAGING)), -1) >= 0)
            f->date = NULL;
        if (!f->date)
            f->date = date_reference(r, f->end, ahead(f->end, 8, stop));
    }
    /* "An EMG and nerve conduction study of the right arm were normal": the first study of
     * a pair shares the result, body part and date of the second */
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead || f->type != FT_IMAGING || strcmp(f->value, "performed"))
            continue;
        size_t j = f->end;
        if (j < d->ntok && at(r, j, EX_C_CONJUNCTION))
            j = at(r, j, EX_C_CONJUNCTION)->end;
        else if (is_punct(r, j, '/')) /* "EMG/NCV" */
            j++;
        j = skip_filler(r, j, sent_end(r, f->first));
        long g = draft_starting(r, j, BIT(FT_IMAGING));
        if (g < 0 || j == f->end)
            continue;
        f->value = DR(g)->value;
        if (!f->qualifier)
            f->qualifier = DR(g)->qualifier;
        if (!f->date)
            f->date = DR(g)->date;
        if (DR(g)->aend > f->aend)
            f->aend = DR(g)->aend;
    }
}

/* ---- improvements and functional gains ---- */
/* What an improvement is of: "in pain", "in pain or function", "in walking". */
typedef struct object {
    int pain;
    const char *function; /* name of the first function word other than "function" */
    int general;          /* "function" itself */
    size_t end;
} object;

static object improvement_object(run *r, size_t i)
{
    object o = {0};
    size_t limit = ahead(i, 10, sent_end(r, i));
    o.end = i;
    i = skip_filler(r, i, limit);
    while (i < limit) {
        const ex_match *m;
        if ((m = at(r, i, EX_C_PAIN_CUE))) {
            o.pain = 1;
        } else if ((m = at(r, i, EX_C_FUNCTION_WORD))) {
            const char *nm = entry_of(r, m)->name;
            if (!strcmp(nm, "general"))
                o.general = 1;
            else if (!o.function)
                o.function = nm;
        } else if (((m = at(r, i, EX_C_CONJUNCTION)) && !is_punct(r, i, ',') &&
                    !ex_clause_break(r->v, r->d, i)) ||
                   (m = at(r, i, EX_C_FILLER))) {
            i = m->end;
            continue;
        } else
            break;
        o.end = m->end;
        i = m->end;
    }
    return o;
}

/* The treatment named right after a gain: "relief since his injections", "with
 * chiropractic care", "on it"; -1 when none. */
static long source_after(run *r, size_t first, size_t end)
{
    size_t se = sent_end(r, first), ce = clause_end(r, end > first ? end - 1 : first);
    size_t j = skip_filler(r, end, se);
    const ex_match *link = j < ce ? cue_at(r, j, EX_C_LINK) : NULL;
    if (!link)
        return -1;
    size_t t = skip_filler(r, link->end, se);
    long s = draft_in(r, t, ahead(t, 3, ce), TREATMENTS, -1);
    if (s >= 0) {
        DR(s)->linked = 1;
        return s;
    }
    if (t < se && at(r, t, EX_C_DRUG_REFERENCE))
        return draft_before(r, sent_first(r, first), first, BIT(FT_MED) | BIT(FT_TRIAL));
    return -1;
}

/* The treatment a gain followed: the one named right after it; else the nearest before it
 * in its clause ("injections that gave three months of relief"); else, when its clause
 * names none ("... and reported temporary relief"), the first of the clause before; else
 * the nearest before it in the sentence, or in the sentence before. */
static long improvement_source(run *r, size_t first, size_t end)
{
    long s = source_after(r, first, end);
    if (s >= 0)
        return s;
    size_t cs = clause_start(r, first), sf = sent_first(r, first);
    if ((s = draft_before(r, cs, first, TREATMENTS)) >= 0)
        return s;
    if (cs > sf && (s = draft_in(r, back(cs, REACH, clause_start(r, cs - 1)), cs, TREATMENTS, -1)) >= 0)
        return s;
    if ((s = draft_before(r, sf, first, TREATMENTS)) >= 0)
        return s;
    if (sf > 0)
        return draft_before(r, sent_first(r, sf - 1), sf, TREATMENTS);
    return -1;
}

static const char *treatment_name(run *r, long s)
{
    if (s < 0)
        return NULL;
    const draft *t = DR(s);
    if (t->type == FT_PRIOR || !t->drug)
        return t->name;
    return drug_name(r, t->drug);
}

static void finish_improvements(run *r)
{
    size_t n = r->w->ndr;
    for (size_t k = 0; k < n; k++) {
        if (DR(k)->dead || DR(k)->type != FT_IMPROVE || DR(k)->name)
            continue;
        object o = improvement_object(r, DR(k)->end);
        if (o.end > DR(k)->end)
            DR(k)->end = DR(k)->aend = (uint32_t)o.end;
        if (o.pain) {
            DR(k)->name = "pain";
            if (o.general) { /* "improvement in pain or function": two facts, one span */
                size_t g = add(r, FT_IMPROVE, DR(k)->first, DR(k)->end, DR(k)->entry);
                DR(g)->name = "function";
            }
        } else if (o.function || o.general) {
            DR(k)->type = FT_FUNC;
            DR(k)->name = o.function ? o.function : "general";
        }
    }
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead || f->type != FT_IMPROVE)
            continue;
        f->source = (int32_t)improvement_source(r, f->first, f->end);
        f->attributed_to = treatment_name(r, f->source);
    }
    /* a functional gain reported with a treatment: "10 chiropractic visits with
     * documented functional improvement" */
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead || f->type != FT_FUNC)
            continue;
        long after = source_after(r, f->first, f->end); /* "improvement with tramadol" */
        if (after >= 0) {
            f->source = (int32_t)after;
            continue;
        }
        for (size_t i = back(f->first, 4, sent_first(r, f->first)); i < f->first; i++) {
            const ex_match *m = cue_at(r, i, EX_C_LINK);
            if (m && m->end + 2 >= f->first) { /* "visits with documented functional ..." */
                long s = draft_before(r, sent_first(r, f->first), i, TREATMENTS);
                if (s >= 0 && DR(s)->end + 3 >= i)
                    f->source = (int32_t)s;
                break;
            }
        }
    }
}

/* What kind of gain an item names: work ("type at work") before daily living ("dress")
 * before activity ("walk"); NULL when it names none. */
static const char *gain_kind(const run *r, size_t from, size_t to)
{
    static const char *const order[] = {"work", "adl", "activity", "general"};
    int best = 4;
    for (size_t i = from; i < to; i++) {
        const ex_match *m = at(r, i, EX_C_FUNCTION_WORD);
        if (!m || m->end > to)
            continue;
        for (int k = 0; k < best; k++)
            if (!strcmp(entry_of(r, m)->name, order[k]))
                best = k;
    }
    return best < 4 ? order[best] : NULL;
}

/* "able to walk 45 minutes and do household chores": one gain per item of the list that
 * names an activity, a daily-living task or work; neighbouring items of one kind make one
 * gain ("drive short distances and shop"). */
static void find_abilities(run *r)
{
    const ex_doc *d = r->d;
    for (size_t i = 0; i < d->ntok; i++) {
        const ex_match *cue = cue_at(r, i, EX_C_ABILITY);
        if (!cue)
            continue;
        size_t ce = clause_end(r, i), item = cue->end;
        long last = -1; /* the gain made from the previous item */
        for (size_t j = item; j <= ce && item < ce; j++) {
            const ex_match *c = j < ce ? at(r, j, EX_C_CONJUNCTION) : NULL;
            if (j < ce && !c && !is_punct(r, j, ';'))
                continue;
            if (j > item && at(r, item, EX_C_CLAUSE_START))
                break; /* "... and is working": a new clause, not an item */
            size_t stop = j;
            while (stop > item && r->d->tok[stop - 1].kind == EX_PUNCT)
                stop--; /* "do light housework." */
            const char *kind = stop > item ? gain_kind(r, item, stop) : NULL;
            if (kind && last >= 0 && !strcmp(DR(last)->name, kind)) {
                DR(last)->end = DR(last)->aend = (uint32_t)stop;
            } else if (kind && draft_in(r, item, stop, BIT(FT_FUNC), -1) < 0) {
                last = (long)add(r, FT_FUNC, item, stop, NULL);
                DR(last)->name = kind;
            } else
                last = -1;
            if (j >= ce)
                break;
            item = c ? c->end : j + 1;
            j = item - 1;
        }
        i = cue->end - 1;
    }
}

/* "he walks 45 minutes, up from 20 minutes": an activity measured in time or distance,
 * compared with before, is a gain (a measure alone may be a limit: "sits 20 minutes"). */
static void find_measured_gains(run *r)
{
    const ex_doc *d = r->d;
    for (size_t i = 0; i < d->ntok; i++) {
        const ex_match *w = cue_at(r, i, EX_C_FUNCTION_WORD);
        if (!w || strcmp(entry_of(r, w)->name, "activity") || draft_in(r, i, w->end, BIT(FT_FUNC), -1) >= 0)
            continue;
        size_t ce = clause_end(r, i), stop = 0;
        double n;
        for (size_t j = w->end; j < ahead(w->end, 5, ce) && !stop; j++) {
            size_t c = count_at(r, j, &n);
            const ex_match *u = c ? at(r, j + c, EX_C_TOLERANCE) : NULL;
            if (u)
                stop = u->end;
        }
        if (!stop || !first_cue(r, stop, ahead(stop, 8, ce), EX_C_COMPARISON))
            continue;
        size_t f = add(r, FT_FUNC, i, stop, NULL);
        DR(f)->name = "activity";
        i = stop - 1;
    }
}

/* ---- treatments: lists, counts, responses ---- */
/* 1 when a word at token i may stand between the items of a list: a conjunction, a filler,
 * a count, punctuation, or another fact ("X-rays"). Sets *next to the token after it. */
static int list_glue(const run *r, size_t i, size_t *next)
{
    const ex_match *m;
    double n;
    size_t c;
    long g;
    if ((m = at(r, i, EX_C_CONJUNCTION)) || (m = at(r, i, EX_C_FILLER))) {
        *next = m->end;
        return 1;
    }
    if ((c = count_at(r, i, &n))) {
        *next = i + c;
        return 1;
    }
    if (r->d->tok[i].kind == EX_PUNCT) {
        *next = i + 1;
        return 1;
    }
    if ((g = draft_starting(r, i, ~0u)) >= 0) {
        *next = DR(g)->end;
        return 1;
    }
    return 0;
}

/* "physical therapy, chiropractic care and medications": draft k has a treatment for a
 * neighbour in its list. */
static int in_treatment_list(run *r, size_t k)
{
    size_t first = DR(k)->first, end = DR(k)->end, ce = clause_end(r, first), cs = clause_start(r, first);
    for (size_t i = end, next; i < ahead(end, 12, ce) && list_glue(r, i, &next); i = next) {
        long g = draft_starting(r, i, BIT(FT_PRIOR));
        if (g >= 0 && (size_t)g != k && !(DR(g)->entry && DR(g)->entry->value))
            return 1;
    }
    /* backwards: the nearest treatment before, with only glue in between */
    long g = draft_before(r, back(first, 12, cs), first, BIT(FT_PRIOR));
    if (g < 0 || (DR(g)->entry && DR(g)->entry->value))
        return 0;
    for (size_t i = DR(g)->end, next; i < first; i = next)
        if (!list_glue(r, i, &next))
            return 0;
    return 1;
}

static void finish_treatments(run *r)
{
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead || f->type != FT_PRIOR)
            continue;
        /* "medications" is a treatment only in a list of treatments */
        if (f->entry && f->entry->value && !in_treatment_list(r, k)) {
            f->dead = 1;
            continue;
        }
        /* how many: "12 sessions of physical therapy", "two lumbar sympathetic blocks",
         * "10 chiropractic visits" */
        size_t cs = clause_start(r, f->first), ce = clause_end(r, f->first);
        double n;
        for (size_t i = f->first; i-- > back(f->first, 5, cs);) {
            size_t c = count_at(r, i, &n);
            if (c && (i + c + 2 >= f->first || first_in(r, i + c, f->first, EX_C_SESSION))) {
                f->score = n;
                break;
            }
        }
        if (isnan(f->score) && f->end < ce) {
            size_t c = count_at(r, f->end, &n);
            if (c && at(r, f->end + c, EX_C_SESSION))
                f->score = n;
        }
        /* the response: "without improvement" after it, or "failed ... including" before */
        const ex_match *m = first_cue(r, f->end, ahead(f->end, 5, ce), EX_C_RESPONSE);
        if (!m)
            for (size_t i = cs; i < f->first; i++) {
                const ex_match *q = cue_at(r, i, EX_C_RESPONSE);
                if (q && !strcmp(entry_of(r, q)->name, "failed"))
                    m = q;
            }
        if (m)
            f->qualifier = entry_of(r, m)->name;
    }
}

/* ---- terms: abbreviations in parentheses, findings that need an examination ---- */
static void finish_terms(run *r)
{
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead)
            continue;
        /* "physical therapy (PT)": one mention */
        if (is_punct(r, f->end, '(')) {
            for (int32_t g = r->w->head[f->end + 1]; g >= 0; g = DR(g)->next)
                if (DR(g)->type == f->type && same_name(DR(g)->name, f->name) && is_punct(r, DR(g)->end, ')'))
                    DR(g)->dead = 1;
        }
        /* "spasm" alone is an examination finding only in an examination */
        if (f->type == FT_EXAM && f->entry && f->entry->value &&
            !first_in(r, back(f->first, REACH, sent_first(r, f->first)), f->first, EX_C_EXAM_CUE))
            f->dead = 1;
    }
}

/* ---- indications, opinions, work status, operations, set values ---- */
static void finish_others(run *r)
{
    const ex_doc *d = r->d;
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead)
            continue;
        size_t sf = sent_first(r, f->first), se = sent_end(r, f->first);
        switch (f->type) {
        case FT_INDIC:
            if (f->entry && f->entry->value) { /* radiculopathy: shown on a study? */
                for (size_t j = back(f->first, REACH, sf); j < ahead(f->first, REACH, se); j++) {
                    long g = draft_starting(r, j, BIT(FT_IMAGING));
                    if (g >= 0 && DR(g)->entry && DR(g)->entry->value && strcmp(DR(g)->value, "normal")) {
                        f->qualifier = !strcmp(DR(g)->entry->value, "electrodiagnostic")
                                           ? "electrodiagnostic_corroborated"
                                           : "imaging_corroborated";
                        break;
                    }
                }
            }
            break;
        case FT_SECOND: {
            double n;
            for (size_t i = back(f->first, 2, sf); i < f->first; i++) {
                size_t c = count_at(r, i, &n);
                if (c && i + c == f->first && !at(r, i, EX_C_FILLER)) { /* "a" is no count */
                    f->score = n;
                    f->value = span_text(r, i, i + c);
                    move_first(r, k, i);
                    break;
                }
            }
            break;
        }
        case FT_WORK:
            f->value = f->name;
            f->name = NULL;
            /* "is working modified duty": a generic status yields to the one right after */
            if (f->entry && f->entry->value && f->end < se && r->d->tok[f->end].kind != EX_PUNCT &&
                draft_in(r, f->end, ahead(f->end, 2, se), BIT(FT_WORK), (long)k) >= 0)
                f->dead = 1;
            break;
        case FT_SEX:
            f->value = f->name;
            f->name = NULL;
            break;
        case FT_SURGERY: { /* "... repair on 4/28/2015" */
            size_t q = date_from(r, f->end);
            if (q < d->ndates && d->dates[q].first <= f->end + 2 && d->dates[q].first < se)
                f->date = d->dates[q].iso;
            break;
        }
        case FT_HOMEBOUND:
            f->value = "yes";
            break;
        case FT_GOALS:
            f->value = "set";
            break;
        case FT_AGREE:
            f->value = "signed";
            break;
        default:
            break;
        }
    }
}

/* "pain 4/10 during the trial versus 7/10", "while using it": a change whose sentence
 * refers back to a treatment gets the last treatment named in it or the two sentences
 * before. */
static long referred_treatment(run *r, const draft *f)
{
    size_t sf = sent_first(r, f->first), se = sent_end(r, f->first);
    if (!first_cue(r, sf, se, EX_C_TREATMENT_REFERENCE))
        return -1;
    uint32_t sent = r->d->tok[f->first].sent;
    for (size_t j = f->first; j-- > back(f->first, 4 * REACH, 0);) {
        if (r->d->tok[j].sent + 2 < sent)
            break;
        long t = draft_starting(r, j, BIT(FT_PRIOR));
        if (t >= 0)
            return t;
    }
    return -1;
}

/* Pain-score changes: what brought them. The treatment named in the phrase, else the one
 * an improvement reported in the same or the two sentences before was attributed to. */
static void attribute_score_changes(run *r)
{
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead || f->type != FT_PAIN || !f->change)
            continue;
        /* "pain fell from 6/10 to 2/10 with chiropractic care"; "after 6 sessions of
         * physical therapy her pain fell from ..." */
        long s = source_after(r, f->first, f->end);
        if (s < 0)
            s = draft_in(r, clause_start(r, f->first), f->first, TREATMENTS, -1);
        if (s < 0)
            s = draft_in(r, sent_first(r, f->first), f->first, TREATMENTS, -1);
        if (s < 0)
            s = referred_treatment(r, f);
        if (s >= 0) {
            f->source = (int32_t)s;
            f->attributed_to = treatment_name(r, s);
            continue;
        }
        uint32_t sent = r->d->tok[f->first].sent;
        for (size_t j = f->first; j-- > back(f->first, 2 * REACH, 0);) {
            if (r->d->tok[j].sent + 2 < sent)
                break;
            long g = draft_starting(r, j, BIT(FT_IMPROVE));
            if (g >= 0 && DR(g)->attributed_to) {
                f->attributed_to = DR(g)->attributed_to;
                break;
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------
 * 3. Assertions
 * ------------------------------------------------------------------------------------- */
/* 1 when a work status is stated as the present one: a cue that ends a history ("now",
 * "currently") in its span or the few words before it in the clause. */
static int work_status_now(run *r, const draft *f)
{
    for (size_t i = back(f->first, 4, clause_start(r, f->first)); i < f->end; i++) {
        const ex_match *m = at(r, i, EX_C_TERMINATION);
        if (m && entry_of(r, m)->category == IMR_ASSERT_HISTORICAL)
            return 1;
    }
    return 0;
}

/* A status that a later one does not end ("permanent and stationary"). */
static int lasting(const draft *f)
{
    return f->entry && f->entry->value && !strcmp(f->entry->value, "lasting");
}

/* "was placed on temporary total disability ... and is now working": a work status stated
 * as the present one makes the different statuses named before it history. */
static void date_work_statuses(run *r)
{
    long now = -1;
    FOR_DRAFTS(k) {
        const draft *f = DR(k);
        if (!f->dead && f->type == FT_WORK && f->assertion == IMR_ASSERT_AFFIRMED &&
            !lasting(f) && work_status_now(r, f))
            now = (long)k;
    }
    if (now < 0)
        return;
    const draft *cur = DR(now);
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead || f->type != FT_WORK || f->first >= cur->first ||
            f->assertion != IMR_ASSERT_AFFIRMED || same_name(f->value, cur->value) ||
            work_status_now(r, f) || lasting(f))
            continue;
        f->assertion = IMR_ASSERT_HISTORICAL;
    }
}

static void assert_all(run *r)
{
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (f->dead)
            continue;
        /* triggers inside the wider range (a drug screen "negative for ...") are part of
         * the fact */
        imr_assertion a = ex_context_assert(&r->w->ctx, f->first, f->aend);
        switch (f->type) {
        case FT_PRIOR:
        case FT_TRIAL:
        case FT_SURGERY: /* about the past by definition */
            if (a == IMR_ASSERT_HISTORICAL)
                a = IMR_ASSERT_AFFIRMED;
            break;
        case FT_BODY: /* a body part named in a denial, a request or a history is still the
                       * claimant's: only someone else's is not */
            if (a != IMR_ASSERT_OTHER_PERSON)
                a = IMR_ASSERT_AFFIRMED;
            break;
        case FT_AGE:
        case FT_SEX:
        case FT_DOI:
            if (a == IMR_ASSERT_HISTORICAL || a == IMR_ASSERT_HYPOTHETICAL)
                a = IMR_ASSERT_AFFIRMED;
            break;
        default:
            break;
        }
        /* a rating that gives its number is stated, whatever negation is near ("7/10
         * without and 3/10 with the medication"); only "pain scores are not documented"
         * is a negated rating */
        if (f->type == FT_PAIN && !f->bare && a == IMR_ASSERT_NEGATED)
            a = IMR_ASSERT_AFFIRMED;
        f->assertion = (int8_t)a;
        if (f->bare && a != IMR_ASSERT_NEGATED)
            f->dead = 1;
        if (f->type == FT_AGREE && a != IMR_ASSERT_AFFIRMED)
            f->value = NULL;
    }
    /* "no documentation of functional improvement with tramadol": the gain is denied, the
     * drug is taken */
    FOR_DRAFTS(k) {
        draft *f = DR(k);
        if (!f->dead && f->linked && f->assertion == IMR_ASSERT_NEGATED)
            f->assertion = IMR_ASSERT_AFFIRMED;
    }
    /* a treatment's response, when only the gain attributed to it tells */
    FOR_DRAFTS(k) {
        const draft *f = DR(k);
        if (f->dead || f->source < 0)
            continue;
        if (f->type == FT_PAIN && f->change) { /* pain fell after the treatments of the clause */
            if (!(f->score2 < f->score) || f->assertion != IMR_ASSERT_AFFIRMED)
                continue;
            for (size_t j = clause_start(r, f->first); j < f->first; j++) {
                long t = draft_starting(r, j, BIT(FT_PRIOR));
                if (t >= 0 && !DR(t)->qualifier)
                    DR(t)->qualifier = "improved";
            }
            if (DR(f->source)->type == FT_PRIOR && !DR(f->source)->qualifier)
                DR(f->source)->qualifier = "improved";
            continue;
        }
        if (f->type != FT_IMPROVE && f->type != FT_FUNC)
            continue;
        draft *t = DR(f->source);
        if (t->type != FT_PRIOR || t->qualifier || !same_sentence(r, f->first, t->first))
            continue;
        if (f->assertion == IMR_ASSERT_AFFIRMED)
            t->qualifier = "improved";
        else if (f->assertion == IMR_ASSERT_NEGATED)
            t->qualifier = "no_improvement";
    }
}

/* ---------------------------------------------------------------------------------------
 * Output
 * ------------------------------------------------------------------------------------- */
static int draft_less(const draft *a, size_t ia, const draft *b, size_t ib)
{
    if (a->first != b->first)
        return a->first < b->first;
    if (a->type != b->type)
        return a->type < b->type;
    return ia < ib;
}

/* Merge sort of draft indices by position (stable, n log n, no shared state). */
static void sort_drafts(const draft *dr, size_t *v, size_t *tmp, size_t n)
{
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                tmp[o++] = draft_less(&dr[v[j]], v[j], &dr[v[i]], v[i]) ? v[j++] : v[i++];
            while (i < mid)
                tmp[o++] = v[i++];
            while (j < hi)
                tmp[o++] = v[j++];
        }
        memcpy(v, tmp, n * sizeof *v);
    }
}

/* Room for `more` facts after the n of `out` (the array moves at most once per text). */
static void reserve_facts(imr_facts *out, imr_arena *a, size_t more)
{
    if (out->cap - out->n >= more)
        return;
    size_t cap = out->cap ? out->cap * 2 : 32;
    while (cap < out->n + more)
        cap *= 2;
    /* not zeroed: facts are written whole before they are read */
    imr_fact *v = imr_arena_alloc_raw(a, cap * sizeof *v);
    if (out->n)
        memcpy(v, out->v, out->n * sizeof *v);
    out->v = v;
    out->cap = cap;
}

static void push_fact(imr_facts *out, imr_arena *a, const imr_fact *f)
{
    reserve_facts(out, a, 1);
    out->v[out->n++] = *f;
}

static void emit(run *r, const char *source, imr_facts *out)
{
    work *w = r->w;
    const ex_doc *d = r->d;
    if (w->ndr > w->caporder) {
        w->caporder = w->ndr * 2;
        w->order = ex_xrealloc(w->order, w->caporder * sizeof *w->order);
        w->tmp = ex_xrealloc(w->tmp, w->caporder * sizeof *w->tmp);
    }
    size_t n = 0;
    for (size_t k = 0; k < w->ndr; k++)
        if (!w->dr[k].dead)
            w->order[n++] = k;
    sort_drafts(w->dr, w->order, w->tmp, n);
    reserve_facts(out, r->a, n);
    const char *src = imr_arena_strdup(r->a, source ? source : "text");
    const draft *prev = NULL;
    for (size_t q = 0; q < n; q++) {
        const draft *f = &w->dr[w->order[q]];
        /* the same fact twice on one span is reported once */
        if (prev && prev->first == f->first && prev->end == f->end && prev->type == f->type &&
            same_name(prev->name, f->name))
            continue;
        prev = f;
        imr_fact x;
        memset(&x, 0, sizeof x);
        x.type = TYPE_NAMES[f->type];
        x.name = imr_arena_strdup(r->a, f->name);
        x.value = imr_arena_strdup(r->a, f->value);
        x.qualifier = imr_arena_strdup(r->a, f->qualifier);
        x.date = imr_arena_strdup(r->a, f->date);
        x.duration = imr_arena_strdup(r->a, f->duration);
        x.attributed_to = imr_arena_strdup(r->a, f->attributed_to);
        x.score = f->score;
        x.score2 = f->score2;
        x.assertion = (imr_assertion)f->assertion;
        x.evidence.source = src;
        x.evidence.start = d->tok[f->first].start;
        x.evidence.end = d->tok[f->end - 1].end;
        x.evidence.text = span_text(r, f->first, f->end);
        if (!x.value && (BIT(f->type) & AS_WRITTEN))
            x.value = x.evidence.text; /* docs/facts.md: the value "as written" */
        push_fact(out, r->a, &x);
    }
}

int imr_extract(const char *text, size_t len, const char *source, const imr_lexicon *lx,
                imr_arena *a, imr_facts *out, imr_error *err)
{
    if (!a || !out)
        return imr_error_set(err, IMR_EX_SOFTWARE, source, 0, "imr_extract: no arena or output");
    const ex_vocab *v = ex_vocab_default(err);
    if (!v)
        return err ? err->status : IMR_EX_DATAERR;
    if (!text)
        len = 0;
    if (len > IMR_EXTRACT_MAX_BYTES)
        return imr_error_set(err, IMR_EX_DATAERR, source, 0,
                             "a text of %zu bytes is too long to extract facts from (at most %u)",
                             len, IMR_EXTRACT_MAX_BYTES);
    work *w = work_get();
    run r = {.v = v, .d = &w->doc, .w = w, .a = a, .lx = lx};
    for (int c = 0; c < EX_C_CLASS_COUNT; c++)
        if (is_fact_class(c) || c == EX_C_PSEUDO_TERM)
            r.term_classes |= 1ull << c;
    ex_doc_analyze(&w->doc, v, text ? text : "", len);
    ex_context_build(v, &w->doc, &w->ctx);
    prepare(&r);
    find_terms(&r);
    find_dates_of_injury(&r);
    finish_terms(&r);
    finish_body_parts(&r);
    finish_ages(&r);
    finish_sex_letters(&r);
    finish_medications(&r);
    finish_drug_screens(&r);
    finish_imaging(&r);
    finish_treatments(&r);
    finish_improvements(&r);
    find_abilities(&r);
    find_measured_gains(&r);
    finish_pain_scores(&r);
    finish_others(&r);
    attribute_score_changes(&r);
    assert_all(&r);
    date_work_statuses(&r);
    emit(&r, source, out);
    return IMR_OK;
}
