/*
 * eligibility.c - screening an IMR application before any medical review (8 CCR 9792.10.1,
 * LC 4610.5): signed, filed in time after the UR decision (30 days, 5 more when the decision
 * was mailed), the UR decision attached, a dispute about medical necessity, not a conditional
 * non-certification, and not a second application for a dispute already before IMR. Each
 * check is stated in plain words from rules/process.tsv; the failed ones are the reasons
 * given to the parties, in the notice this file also writes.
 */
#include "service_internal.h"

#include <ctype.h>
#include <string.h>

static const char *long_date(imr_arena *a, const char *iso)
{
    if (!iso)
        return "(not stated)";
    char out[32];
    imr_date_long(iso, out);
    return imr_arena_strdup(a, out);
}

static void check(const svc_process *p, imr_arena *a, imr_eligibility *e, const char *name,
                  int passed, const char *const *vars)
{
    char key[64];
    snprintf(key, sizeof key, "check.%s.%s", name, passed ? "passed" : "failed");
    const char *sentence = svc_fill(a, svc_wording(p, key), vars);
    imr_strlist_push(&e->checks, a, imr_arena_printf(a, "%s: %s", passed ? "passed" : "failed", sentence));
    if (!passed) {
        imr_strlist_push(&e->reasons, a, sentence);
        e->eligible = 0;
    }
}

static int allowed_days(const svc_process *p, const svc_application *app)
{
    return p->filing_window_days + (app->ur_decision_mailed ? p->mail_extension_days : 0);
}

void svc_filing_deadline(const svc_process *p, const svc_application *app, char iso[11])
{
    iso[0] = '\0';
    if (app->ur_decision_date && imr_date_valid_iso(app->ur_decision_date))
        svc_date_from_days(imr_date_days(app->ur_decision_date) + allowed_days(p, app), iso);
}

static void check_timely(const svc_process *p, const svc_application *app, imr_arena *a,
                         imr_eligibility *e)
{
    if (!app->ur_decision_date || !app->application_received) {
        const char *s = svc_wording(p, "check.timely.unknown");
        imr_strlist_push(&e->checks, a, imr_arena_printf(a, "failed: %s", s));
        imr_strlist_push(&e->reasons, a, s);
        e->eligible = 0;
        return;
    }
    long elapsed = imr_date_days(app->application_received) - imr_date_days(app->ur_decision_date);
    int allowed = allowed_days(p, app);
    const char *vars[] = {"received", long_date(a, app->application_received),
                          "ur_date", long_date(a, app->ur_decision_date),
                          "elapsed", imr_arena_printf(a, "%ld", elapsed),
                          "allowed", imr_arena_printf(a, "%d", allowed), NULL};
    check(p, a, e, "timely", elapsed <= allowed, vars);
}

void svc_screen(const svc_process *p, const svc_application *app, imr_arena *a,
                imr_eligibility *e)
{
    memset(e, 0, sizeof *e);
    e->eligible = 1;
    const char *signed_vars[] = {"signed", long_date(a, app->application_signed), NULL};
    check(p, a, e, "signed", app->application_signed != NULL, signed_vars);
    check_timely(p, app, a, e);
    check(p, a, e, "ur_attached", app->ur_decision_attached, NULL);
    int necessity = !app->dispute_type || !strcmp(app->dispute_type, "medical_necessity");
    const char *dispute_vars[] = {"dispute_type", app->dispute_type ? app->dispute_type : "", NULL};
    check(p, a, e, "medical_necessity", necessity, dispute_vars);
    check(p, a, e, "not_cnc", !app->ur_conditional_noncertification, NULL);
    const char *dup_vars[] = {"duplicate_of", app->duplicate_of ? app->duplicate_of : "", NULL};
    if (app->duplicate_checked || app->duplicate_of)
        check(p, a, e, "not_duplicate", app->duplicate_of == NULL, dup_vars);
    else /* no employee or no UR date: nothing to compare; said so, not counted against */
        imr_strlist_push(&e->checks, a,
                         imr_arena_printf(a, "not checked: %s", svc_wording(p, "check.not_duplicate.unknown")));
    e->duplicate_of = app->duplicate_of ? imr_arena_strdup(a, app->duplicate_of) : NULL;
}

/* Letters and digits only, lower case: "Norco 10/325 mg #60" and "norco 10/325mg  #60"
 * are the same request. */
static void squeeze(imr_buf *b, const char *s)
{
    for (; s && *s; s++)
        if (isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80)
            imr_buf_putc(b, (char)tolower((unsigned char)*s));
}

const char *svc_dispute_key(const svc_process *p, const imr_case *c, size_t item, imr_arena *a)
{
    const char *who = NULL;
    for (size_t i = 0; i < c->n_parties && !who; i++) {
        const imr_party *pt = &c->parties[i];
        if (!pt->role || strcmp(pt->role, "employee"))
            continue;
        if (pt->id && *pt->id)
            who = imr_arena_printf(a, "id:%s", pt->id);
        else if (pt->name && *svc_name_key(p, pt->name, a))
            who = imr_arena_printf(a, "name:%s", svc_name_key(p, pt->name, a));
    }
    if (!who || !c->ur_decision_date || item >= c->n_items)
        return NULL;
    imr_buf b = IMR_BUF_INIT;
    imr_buf_printf(&b, "%s|%s|", who, c->ur_decision_date);
    squeeze(&b, c->items[item].request);
    const char *key = imr_arena_strdup(a, b.data);
    imr_buf_free(&b);
    return key;
}

static void html_escaped(imr_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': imr_buf_puts(b, "&amp;"); break;
        case '<': imr_buf_puts(b, "&lt;"); break;
        case '>': imr_buf_puts(b, "&gt;"); break;
        case '"': imr_buf_puts(b, "&quot;"); break;
        default: imr_buf_putc(b, *s);
        }
    }
}

void svc_ineligibility_notice(const svc_process *p, const svc_application *app,
                              const char *case_number, const char *date,
                              const imr_eligibility *e, imr_arena *a, const char **text,
                              const char **html)
{
    const char *vars[] = {"case", case_number, "received", long_date(a, app->application_received), NULL};
    const char *title = svc_wording(p, "notice.title");
    const char *intro = svc_fill(a, svc_wording(p, "notice.intro"), vars);
    const char *closing = svc_fill(a, svc_wording(p, "notice.closing"), vars);
    const char *when = long_date(a, date);

    imr_buf t = IMR_BUF_INIT;
    imr_buf_printf(&t, "%s\n%s\n\n%s\n\n%s\n\n", p->organization, title, when, intro);
    for (size_t i = 0; i < e->reasons.n; i++)
        imr_buf_printf(&t, "%zu. %s\n", i + 1, e->reasons.v[i]);
    imr_buf_printf(&t, "\n%s\n", closing);
    *text = imr_arena_strdup(a, t.data);
    imr_buf_free(&t);

    imr_buf h = IMR_BUF_INIT;
    imr_buf_puts(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    html_escaped(&h, title);
    imr_buf_puts(&h, "</title></head>\n<body>\n<p class=\"organization\">");
    html_escaped(&h, p->organization);
    imr_buf_puts(&h, "</p>\n<h1>");
    html_escaped(&h, title);
    imr_buf_puts(&h, "</h1>\n<p class=\"date\">");
    html_escaped(&h, when);
    imr_buf_puts(&h, "</p>\n<p>");
    html_escaped(&h, intro);
    imr_buf_puts(&h, "</p>\n<ol>\n");
    for (size_t i = 0; i < e->reasons.n; i++) {
        imr_buf_puts(&h, "<li>");
        html_escaped(&h, e->reasons.v[i]);
        imr_buf_puts(&h, "</li>\n");
    }
    imr_buf_puts(&h, "</ol>\n<p>");
    html_escaped(&h, closing);
    imr_buf_puts(&h, "</p>\n</body></html>\n");
    *html = imr_arena_strdup(a, h.data);
    imr_buf_free(&h);
}

static json_t *string_array(const imr_strlist *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(arr, json_string(l->v[i]));
    return arr;
}

json_t *svc_eligibility_json(const imr_eligibility *e, const char *screened_at)
{
    json_t *o = json_object();
    json_object_set_new(o, "eligible", json_boolean(e->eligible));
    json_object_set_new(o, "reasons", string_array(&e->reasons));
    json_object_set_new(o, "checks", string_array(&e->checks));
    json_object_set_new(o, "duplicate_of", svc_jstr(e->duplicate_of));
    json_object_set_new(o, "screened_at", svc_jstr(screened_at));
    return o;
}
