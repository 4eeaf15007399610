/*
 * extract_internal.h - private to clinical extraction (extract_lex.c, extract_vocab.c,
 * negation.c, extract.c): the token stream of one text, the extraction vocabulary loaded
 * from the .tsv files of rules/extract/, and phrase matches of that vocabulary over the
 * tokens.
 *
 * A text is cut once into tokens (words, numbers, punctuation) with a folded form
 * (lower case, plural and possessive endings removed) that phrase lookup compares against.
 * The vocabulary is one table of phrases, each with a class (what the phrase is for:
 * a body part, a negation trigger, a time unit ...), a normalized name and a value.
 * Everything per text lives in one ex_doc whose arrays are reused between calls; the
 * vocabulary is loaded once per process and read-only afterwards.
 */
#ifndef IMR_EXTRACT_INTERNAL_H
#define IMR_EXTRACT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "imr.h"

/* The longest text extraction reads: token and fact indexes are 32-bit. */
#define IMR_EXTRACT_MAX_BYTES (256u * 1024 * 1024)

/* ----------------------------------------------------------------------------------------
 * Tokens (extract_lex.c)
 * -------------------------------------------------------------------------------------- */
enum { EX_WORD = 1, EX_NUMBER, EX_PUNCT };

/* token flags */
enum {
    EX_F_UPPER = 1,      /* a word written in capitals, two letters or more ("MS", "TENS") */
    EX_F_CAPITAL = 2,    /* a word starting with a capital letter */
    EX_F_SPACE_BEFORE = 4,
    EX_F_DATE = 8,       /* part of a date expression (see ex_doc.dates) */
    EX_F_INTEGER = 16    /* a number without a decimal point */
};

typedef struct ex_token {
    uint32_t start, end; /* bytes in the text, end exclusive */
    uint32_t fold;       /* offset of the folded form in ex_doc.fold */
    uint16_t flen;       /* length of the folded form */
    uint8_t kind;        /* EX_WORD, EX_NUMBER, EX_PUNCT */
    uint8_t flags;
    uint32_t sent;       /* index of the sentence holding the token */
    uint32_t first;      /* first vocabulary match starting here (index in ex_doc.matches) */
    uint16_t nmatch;     /* number of matches starting here */
    uint32_t hash;       /* of the folded form */
    uint64_t classes;    /* bit per ex_class of the matches starting here */
    double num;          /* numbers: the value */
} ex_token;

typedef struct ex_sentence {
    uint32_t first, end; /* token range */
} ex_sentence;

/* A date found in the text: tokens [first, end) and its ISO form. */
typedef struct ex_date {
    uint32_t first, end;
    char iso[11];
} ex_date;

typedef struct ex_match {
    uint32_t entry; /* index in the vocabulary */
    uint32_t first; /* token range [first, end) */
    uint32_t end;
    uint32_t cls;   /* the entry's ex_class, kept here for the finders' many tests */
} ex_match;

typedef struct ex_vocab ex_vocab;

/* Everything known about one text. Arrays grow and are kept for the next text. */
typedef struct ex_doc {
    const char *text;
    size_t len;
    ex_token *tok;
    size_t ntok, captok;
    char *fold; /* folded forms, back to back */
    size_t foldcap;
    ex_sentence *sent;
    size_t nsent, capsent;
    ex_date *dates;
    size_t ndates, capdates;
    ex_match *matches;
    size_t nmatches, capmatches;
    unsigned char *nl; /* per token: newlines in the space before it (at most 255) */
    size_t capnl;
} ex_doc;

/* realloc that aborts with a message when memory runs out (extract_vocab.c). */
void *ex_xrealloc(void *p, size_t n);

void ex_doc_free(ex_doc *d);
/* Cut `text` into tokens and sentences, match the vocabulary and find the dates. */
void ex_doc_analyze(ex_doc *d, const ex_vocab *v, const char *text, size_t len);
/* Fold a word the way the tokenizer does (for loading phrases); returns the folded length. */
size_t ex_fold_word(const char *s, size_t n, char *out);
/* Cut a phrase of the vocabulary into tokens (no sentences, no dates, no matches). */
void ex_tokenize(ex_doc *d, const char *text, size_t len);
static inline const char *ex_fold_of(const ex_doc *d, size_t i) { return d->fold + d->tok[i].fold; }
/* 1 when token i's folded form is `w` (a NUL-terminated lower-case word). */
int ex_tok_is(const ex_doc *d, size_t i, const char *w);

/* ----------------------------------------------------------------------------------------
 * Vocabulary (extract_vocab.c). Format: docs/facts.md, "The extraction vocabulary".
 * -------------------------------------------------------------------------------------- */
typedef enum {
    EX_C_NONE = 0,
    /* terms that make a fact of their own */
    EX_C_BODY_PART,
    EX_C_DIAGNOSIS,
    EX_C_INDICATION,
    EX_C_TREATMENT,
    EX_C_DRUG_CLASS,
    EX_C_EXAM_FINDING,
    EX_C_IMAGING,
    EX_C_RED_FLAG,
    EX_C_SIDE_EFFECT,
    EX_C_ABERRANT,
    EX_C_WORK_STATUS,
    EX_C_SEX,
    EX_C_PSYCHOSOCIAL,
    EX_C_OPIOID_AGREEMENT,
    EX_C_DRUG_SCREEN,
    EX_C_FUNCTION,
    EX_C_IMPROVEMENT,
    EX_C_HOMEBOUND,
    EX_C_GOALS,
    EX_C_SECOND_OPINION,
    EX_C_SURGERY,
    /* patterns with number slots */
    EX_C_AGE,
    EX_C_PAIN_SCORE,
    /* ConText */
    EX_C_TRIGGER,
    EX_C_PSEUDO,
    EX_C_TERMINATION,
    /* cues the finders consult */
    EX_C_ABBREVIATION,
    EX_C_MONTH,
    EX_C_NUMBER,
    EX_C_QUANTITY,
    EX_C_TIME_UNIT,
    EX_C_LATERALITY,
    EX_C_SINCE,
    EX_C_FOR,
    EX_C_INJURY_CUE,
    EX_C_SCORE_QUALIFIER,
    EX_C_SCORE_CHANGE,
    EX_C_PAIN_CUE,
    EX_C_LINK,
    EX_C_RESPONSE,
    EX_C_TRIAL,
    EX_C_SCREEN_RESULT,
    EX_C_SUBSTANCE,
    EX_C_SESSION,
    EX_C_CLAUSE_START,
    EX_C_FINDING_RESULT,
    EX_C_ABILITY,
    EX_C_FUNCTION_WORD,
    EX_C_START_CUE,
    EX_C_FILLER,
    EX_C_DRUG_REFERENCE,
    EX_C_CONJUNCTION,
    EX_C_PSEUDO_TERM,
    EX_C_REGION,
    EX_C_DATE_REFERENCE,
    EX_C_EXAM_CUE,
    EX_C_LOCATIVE,
    EX_C_TOLERANCE,
    EX_C_COMPARISON,
    EX_C_TREATMENT_REFERENCE, /* "during the trial", "while using", "with the unit" */
    EX_C_SCREEN_POLARITY,     /* "negative for", "positive for" in a drug screen */
    EX_C_CLASS_COUNT
} ex_class;

_Static_assert(EX_C_CLASS_COUNT <= 64, "ex_token.classes has one bit per class");

/* ConText categories (the `name` of trigger entries) map onto imr_assertion values. */
/* EX_DIR_HEADING: a section heading ("Plan:") that modifies the words after it and the
 * items that follow it after semicolons, up to the end of the section (negation.c). */
enum { EX_DIR_PRE = 1, EX_DIR_POST = 2, EX_DIR_BOTH = 3, EX_DIR_HEADING = 4 };
/* Category of a termination that ends only the items of a heading ("continue Norco"). */
#define EX_TERM_SECTION (-2)

typedef struct ex_entry {
    const char *phrase;   /* as written in the file */
    const char *name;     /* normalized name (column 3) or NULL */
    const char *value;    /* column 4 or NULL */
    const char *file;     /* base name of the rules file, for messages */
    int line;
    uint16_t cls;         /* ex_class */
    uint16_t nwords;
    uint32_t words;       /* index of the first word in ex_vocab.words */
    int16_t category;     /* triggers: imr_assertion; terminations: -1 = every category,
                           EX_TERM_SECTION = heading items only */
    uint8_t direction;    /* triggers: EX_DIR_* */
    uint8_t pad;
    double number;        /* numbers: the value (column 3) */
} ex_entry;

/* One word of a phrase: folded text, or a wildcard. */
enum { EX_W_LITERAL = 0, EX_W_NUMBER = 1, EX_W_GAP = 2 };
/* A gap ("..." in a phrase) skips up to this many words. */
#define EX_GAP_WORDS 3
typedef struct ex_word {
    uint32_t off;  /* folded text in ex_vocab.pool */
    uint32_t hash; /* of the folded text (ex_hash) */
    uint16_t len;
    uint8_t kind;  /* EX_W_* */
    uint8_t upper; /* 1: must match a word written in capitals */
} ex_word;

/* The hash of folded words (FNV-1a, never 0). */
static inline uint32_t ex_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h ? h : 1;
}

/* Load every *.tsv file under `dir` into a new vocabulary (errors name file:line). */
int ex_vocab_load(const char *dir, ex_vocab **out, imr_error *err);
void ex_vocab_free(ex_vocab *v);
/* The process-wide vocabulary under <rules dir>/extract, loaded once (pthread_once).
 * NULL when loading failed; `err` (may be NULL) then says why. */
const ex_vocab *ex_vocab_default(imr_error *err);
const ex_entry *ex_vocab_entry(const ex_vocab *v, size_t i);
size_t ex_vocab_count(const ex_vocab *v);
const char *ex_class_name(ex_class c);
/* Append to d->matches every phrase that matches at each token (all lengths, all classes),
 * and set tok[i].first / nmatch. */
void ex_vocab_match(const ex_vocab *v, ex_doc *d);
/* 1 when token i starts an abbreviation of the vocabulary (used to cut sentences). */
int ex_vocab_is_abbreviation(const ex_vocab *v, const ex_doc *d, size_t i);

/* Word w of an entry's phrase. */
const ex_word *ex_entry_word(const ex_vocab *v, const ex_entry *e, size_t w);

/* The longest match of class `cls` starting at token i, or NULL (inline: it is asked for
 * at most tokens, and most calls end at the token's class bits). */
static inline const ex_match *ex_match_at(const ex_vocab *v, const ex_doc *d, size_t i, ex_class cls)
{
    (void)v;
    if (i >= d->ntok || !(d->tok[i].classes & (1ull << cls)))
        return NULL;
    const ex_token *t = &d->tok[i];
    for (size_t k = 0; k < t->nmatch; k++)
        if (d->matches[t->first + k].cls == (uint32_t)cls)
            return &d->matches[t->first + k];
    return NULL;
}

/* ----------------------------------------------------------------------------------------
 * ConText (negation.c)
 * -------------------------------------------------------------------------------------- */
/* A trigger with its scope, in tokens. */
typedef struct ex_trigger {
    uint32_t first, end;             /* the trigger itself */
    uint32_t scope_first, scope_end; /* the tokens it modifies */
    int16_t category;                /* imr_assertion */
} ex_trigger;

typedef struct ex_context {
    ex_trigger *v;
    size_t n, cap;
    void *marks; /* scratch: the triggers and terminations of one sentence */
    size_t nmarks, capmarks;
} ex_context;

/* Find the triggers of a matched text and the scope of each. */
void ex_context_build(const ex_vocab *v, const ex_doc *d, ex_context *c);
/* 1 when token i is a conjunction ("and", ",", "but") that opens a new clause: the next
 * word (after another conjunction, as in ", and") starts a clause ("is", "reports", "he"). */
int ex_clause_break_at(const ex_vocab *v, const ex_doc *d, size_t i); /* token i is a conjunction */
static inline int ex_clause_break(const ex_vocab *v, const ex_doc *d, size_t i)
{
    return i < d->ntok && (d->tok[i].classes >> EX_C_CONJUNCTION & 1) && ex_clause_break_at(v, d, i);
}
/* 1 when a clause-start word (a verb, an auxiliary, a subject pronoun) is in [from, to). */
int ex_has_clause_start(const ex_vocab *v, const ex_doc *d, size_t from, size_t to);

/* Assertion of the token range [first, end): triggers inside the range do not count. */
imr_assertion ex_context_assert(const ex_context *c, size_t first, size_t end);
void ex_context_free(ex_context *c);

/* 0 when imr_date_parse cannot read a date of digits at s[0..len): it needs 1 or 2 digits
 * then "-" or "/", or 4 digits then "-". A cheap test that spares most numbers the parse. */
static inline int ex_numeric_date_shape(const char *s, size_t len)
{
    size_t k = 0;
    while (k < len && k < 5 && s[k] >= '0' && s[k] <= '9')
        k++;
    if (k >= len)
        return 0;
    return ((k == 1 || k == 2) && (s[k] == '-' || s[k] == '/')) || (k == 4 && s[k] == '-');
}

#endif
