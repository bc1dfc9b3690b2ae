/* UTF-8 validation as strict as the engines' decoder, and escaping for printing. */
#include "client/utf8.h"

#include <stdio.h>
#include <string.h>

/* The length of the valid sequence at s (at most left bytes), or 0 when it is not one. */
static size_t sequence_length(const unsigned char *s, size_t left)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;	/* a continuation byte, an overlong lead (c0, c1) or past U+10FFFF */
	/* The second byte's range is what rules out overlong forms, surrogates and > U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (left < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

size_t utf8_invalid_at(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t at = 0;

	while (at < len) {
		size_t n = sequence_length(s + at, len - at);

		if (!n)
			return at;
		at += n;
	}
	return len;
}

void utf8_escape(char *out, size_t size, const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t left = strlen(in), used = 0;

	if (!size)
		return;
	while (left) {
		size_t n = sequence_length(s, left);
		int printable = n > 1 || (n == 1 && s[0] >= 0x20 && s[0] != 0x7f);

		if (!printable)
			n = 1;
		if (used + (printable ? n : 4) >= size)
			break;
		if (printable)
			memcpy(out + used, s, n);
		else
			snprintf(out + used, 5, "\\x%02x", s[0]);
		used += printable ? n : 4;
		s += n;
		left -= n;
	}
	out[used] = '\0';
}

void utf8_cut_invalid(char *s)
{
	s[utf8_invalid_at(s, strlen(s))] = '\0';
}
