/*
 * pending.c - TEMPORARY: placeholders for library functions whose stage is being written
 * right now, so that the tree links. Each stage's author deletes its placeholder here when
 * the real function lands. This file must be empty (and then removed) before a release.
 */
#include "imr.h"

#define PENDING(what) imr_error_set(err, IMR_EX_SOFTWARE, NULL, 0, "%s is not implemented yet", what)


