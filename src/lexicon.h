/*
 * lexicon.h - private to lexicon.c and request.c: the request vocabulary that is loaded
 * with the drug lexicon (rules/requests.tsv), and the phrase matching both share.
 * Everything here points into the imr_lexicon and lives as long as it.
 */
#ifndef IMR_LEXICON_H
#define IMR_LEXICON_H

#include "imr.h"

/* Longest name or phrase the tables accept, in bytes once normalized. */
#define LEX_MAX_PHRASE 120

/* What one phrase of rules/requests.tsv [phrases] states. NULL / -1: states nothing. */
typedef struct request_term {
    const char *phrase;     /* as listed */
    int kind;               /* imr_treatment_kind, or -1 */
    const char *procedure;
    const char *body_part;
    const char *laterality;
    const char *dose_form;
    const char *frequency;
    const char *drug_class;
    int topical;            /* route=topical */
    int oral;               /* route=oral */
} request_term;

/* The longest drug name (as imr_lexicon_match finds it) and the longest phrase of the request
 * vocabulary starting at s[0] (which the caller puts on a word boundary), both found in one
 * walk; each with its length in bytes of s. NULL and 0 when none. */
typedef struct lexicon_match {
    const imr_drug *drug;
    size_t drug_len;
    const request_term *term;
    size_t term_len;
} lexicon_match;
void lexicon_longest(const imr_lexicon *lx, const char *s, size_t len, lexicon_match *out);
/* Body part named by a spinal level's letter ('L' -> "lumbar spine"), or NULL. */
const char *lexicon_level_region(const imr_lexicon *lx, char letter);
/* The class a drug of `drug_class` takes when applied to the skin, or NULL. */
const char *lexicon_topical_class(const imr_lexicon *lx, const char *drug_class);

/* Character classes shared by the matcher and the request tokenizer. Bytes of multi-byte
 * UTF-8 sequences count as letters, so words are never cut inside a character. */
enum { LEX_LETTER = 1, LEX_DIGIT = 2, LEX_SPACE = 4 };
extern const unsigned char LEX_CLASS[256]; /* LEX_* bits of every byte */
static inline int lex_is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int lex_is_letter(unsigned char c) { return LEX_CLASS[c] & LEX_LETTER; }
static inline int lex_is_alnum(unsigned char c) { return LEX_CLASS[c] & (LEX_LETTER | LEX_DIGIT); }
/* ' ', '\t', '\n', '\r', '\f', '\v' */
static inline int lex_is_space(unsigned char c) { return LEX_CLASS[c] & LEX_SPACE; }
static inline unsigned char lex_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

#endif
