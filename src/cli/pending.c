/*
 * pending.c - TEMPORARY: placeholders for subcommands being written right now. Each
 * subcommand's author deletes its placeholder when cmd_<name>.c lands.
 */
#include "cli.h"

/* (no placeholder left) */

