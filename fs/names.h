/*
 * The names the engines accept for repositories, snapshots and indices, checked here
 * so that a name they would refuse costs no request and gets EINVAL at once.
 */
#ifndef ESFS_NAMES_H
#define ESFS_NAMES_H

#include <stddef.h>

/* 0, or -EINVAL with why filled in (why may be NULL). */
int name_check_snapshot(const char *name, char *why, size_t why_len);
int name_check_repository(const char *name, char *why, size_t why_len);
int name_check_index(const char *name, char *why, size_t why_len);
/* Whether name matches pattern as the engines' Regex.simpleMatch has it: '*' is the only wildcard. */
int name_simple_match(const char *pattern, const char *name);

#endif
