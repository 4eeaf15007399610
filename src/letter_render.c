/*
 * letter_render.c - imr_render: one entry point for every output format of a record
 * (text, HTML, PDF, or the record itself as JSON).
 */
#include "imr.h"

int imr_render(const imr_record *r, imr_format f, imr_buf *out, imr_error *err)
{
    switch (f) {
    case IMR_FORMAT_HTML: return imr_render_html(r, out, err);
    case IMR_FORMAT_PDF: return imr_render_pdf(r, out, err);
    case IMR_FORMAT_JSON: return imr_record_to_json(r, IMR_JSON_PRETTY, out, err);
    default: return imr_render_text(r, 0, out, err);
    }
}
