/*
 * What esfs asks of the system, in one place: the environment, the
 * monotonic clock, and wiping a secret before its memory goes back.
 */
#ifndef ESFS_SYS_H
#define ESFS_SYS_H

/* The variable's value, or NULL when it is unset or empty. */
const char *env_value(const char *name);
/* Seconds on the monotonic clock: for timeouts and ages, never for dates. */
double monotonic_seconds(void);
/*
 * path, made absolute against the working directory now (malloc'd; NULL
 * when out of memory): once esfs runs in the background its working
 * directory is /. The file need not exist yet (a token file that rotates).
 */
char *path_absolute(const char *path);
/* Overwrites the string, frees it and sets *s to NULL; NULL is fine. */
void secret_free(char **s);

#endif
