/*
 * error.c - filling and printing imr_error: every failure says what, where and which line.
 */
#include "imr.h"

#include <stdarg.h>
#include <string.h>

int imr_error_set(imr_error *err, int status, const char *where, int line, const char *fmt, ...)
{
    if (!err)
        return status;
    err->status = status;
    if (where)
        snprintf(err->where, sizeof err->where, "%s", where);
    err->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return status;
}

void imr_error_print(const imr_error *err, FILE *fp)
{
    fputs("imr: ", fp);
    if (err->where[0]) {
        fputs(err->where, fp);
        if (err->line > 0)
            fprintf(fp, ":%d", err->line);
        fputs(": ", fp);
    }
    fputs(err->message[0] ? err->message : "unknown error", fp);
    fputc('\n', fp);
}
