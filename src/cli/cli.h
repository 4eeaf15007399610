/*
 * cli.h - the imr command's subcommands (one file each) and the few helpers they share.
 * Subcommands return a sysexits status; main() exits with it.
 */
#ifndef IMR_CLI_H
#define IMR_CLI_H

#include "imr.h"

int cmd_parse(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_request(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_review(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* Largest input a subcommand reads, in bytes: letters and case files are small; anything
 * larger is refused with a clear message rather than read into memory. */
#define IMR_MAX_LETTER_BYTES (16u * 1024 * 1024)
#define IMR_MAX_PDF_BYTES (64u * 1024 * 1024)
#define IMR_MAX_JSON_BYTES (64u * 1024 * 1024)

/* Print an error and return its status. */
int cli_fail(const imr_error *err);
/* Print "imr: <msg>" and return IMR_EX_USAGE. */
int cli_usage(const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Write `out` to `path` (NULL or "-" = stdout) atomically. */
int cli_write(const char *path, const imr_buf *out);

#endif
