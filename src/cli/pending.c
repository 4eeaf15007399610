/*
 * pending.c - TEMPORARY: placeholders for subcommands being written right now. Each
 * subcommand's author deletes its placeholder when cmd_<name>.c lands.
 */
#include "cli.h"

#include <stdio.h>

static int pending(const char *name)
{
    fprintf(stderr, "imr: %s is not implemented yet\n", name);
    return IMR_EX_SOFTWARE;
}

int cmd_request(int argc, char **argv) { return pending("request"); }
int cmd_extract(int argc, char **argv) { return pending("extract"); }
int cmd_review(int argc, char **argv) { return pending("review"); }
