/*
 * UTF-8 as the engines read it. A name or body that is not valid UTF-8 is
 * not refused by the engine: its decoder replaces each bad sequence with
 * U+FFFD, so the snapshot taken would not be the one asked for. esfs checks
 * first, and shows such bytes escaped wherever it prints a name.
 */
#ifndef ESFS_UTF8_H
#define ESFS_UTF8_H

#include <stddef.h>

/*
 * The offset of the first byte that does not start a valid UTF-8 sequence
 * (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF), or
 * len when all of text is valid.
 */
size_t utf8_invalid_at(const char *text, size_t len);

/*
 * Copies a NUL-terminated string into out (always terminated, truncated to
 * size), with every byte of an invalid sequence and every control character
 * written as \xNN, so that it prints as one line of valid UTF-8.
 */
void utf8_escape(char *out, size_t size, const char *in);

/*
 * Ends s before its first byte that is not valid UTF-8: a message cut to
 * its buffer's size by snprintf may end inside a sequence.
 */
void utf8_cut_invalid(char *s);

#endif
