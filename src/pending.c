/*
 * pending.c - TEMPORARY: placeholders for library functions whose stage is being written
 * right now, so that the tree links. Each stage's author deletes its placeholder here when
 * the real function lands. This file must be empty (and then removed) before a release.
 */
#include "imr.h"

#define PENDING(what) imr_error_set(err, IMR_EX_SOFTWARE, NULL, 0, "%s is not implemented yet", what)

/* letter_parse.c */
int imr_letter_parse(const char *text, size_t len, const char *where, imr_arena *a,
                     imr_record **out, imr_error *err)
{
    return PENDING("letter parsing");
}

/* letter_blocks.c */
int imr_letter_blocks(const imr_record *r, imr_arena *a, imr_letter_block **out, size_t *n,
                      imr_error *err)
{
    return PENDING("letter layout");
}

/* letter_render_text.c */
int imr_render_text(const imr_record *r, int width, imr_buf *out, imr_error *err)
{
    return PENDING("text rendering");
}

/* letter_render_html.c */
int imr_render_html(const imr_record *r, imr_buf *out, imr_error *err)
{
    return PENDING("HTML rendering");
}

/* letter_render_pdf.c */
int imr_render_pdf(const imr_record *r, imr_buf *out, imr_error *err)
{
    return PENDING("PDF rendering");
}

/* letter_pdf.c */
int imr_pdf_text(const char *data, size_t len, const char *where, imr_buf *out, imr_error *err)
{
    return PENDING("PDF reading");
}
int imr_is_pdf(const char *data, size_t len)
{
    return len >= 5 && data[0] == '%' && data[1] == 'P' && data[2] == 'D' && data[3] == 'F' && data[4] == '-';
}

/* letter_render.c (dispatch) */
int imr_render(const imr_record *r, imr_format f, imr_buf *out, imr_error *err)
{
    switch (f) {
    case IMR_FORMAT_HTML: return imr_render_html(r, out, err);
    case IMR_FORMAT_PDF: return imr_render_pdf(r, out, err);
    case IMR_FORMAT_JSON: return imr_record_to_json(r, IMR_JSON_PRETTY, out, err);
    default: return imr_render_text(r, 0, out, err);
    }
}

/* lexicon.c */
int imr_lexicon_load(const char *path, imr_lexicon **out, imr_error *err)
{
    return PENDING("the drug lexicon");
}
void imr_lexicon_free(imr_lexicon *lx) { (void)lx; }
size_t imr_lexicon_count(const imr_lexicon *lx) { return 0; }
const imr_drug *imr_lexicon_find(const imr_lexicon *lx, const char *name, size_t len) { return NULL; }
const imr_drug *imr_lexicon_match(const imr_lexicon *lx, const char *s, size_t len, size_t *match_len)
{
    return NULL;
}
const char *imr_rules_dir(void) { return "rules"; }
const imr_lexicon *imr_default_lexicon(imr_error *err)
{
    PENDING("the drug lexicon");
    return NULL;
}

/* request.c */
void imr_request_parse(const char *request, const imr_lexicon *lx, imr_arena *a, imr_treatment *out)
{
    imr_treatment_init(out);
    out->name = imr_arena_strdup(a, request);
}

/* extract.c, negation.c */
int imr_extract(const char *text, size_t len, const char *source, const imr_lexicon *lx,
                imr_arena *a, imr_facts *out, imr_error *err)
{
    return PENDING("clinical extraction");
}
imr_assertion imr_assertion_at(const char *text, size_t len, size_t start, size_t end)
{
    return IMR_ASSERT_AFFIRMED;
}
int imr_facts_to_json(const imr_facts *f, int flags, imr_buf *out, imr_error *err)
{
    return PENDING("facts as JSON");
}

/* kb.c */
int imr_kb_load(const char *dir, imr_kb **out, imr_error *err)
{
    return PENDING("the knowledge base");
}
void imr_kb_free(imr_kb *kb) { (void)kb; }
size_t imr_kb_entry_count(const imr_kb *kb) { return 0; }

/* engine.c */
int imr_review(const imr_case *c, const imr_kb *kb, const imr_lexicon *lx,
               const imr_review_options *opt, imr_arena *a, imr_record **out, imr_error *err)
{
    return PENDING("the guideline engine");
}
