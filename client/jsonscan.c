#include "client/jsonscan.h"

#include <string.h>

/* Deeper nesting than any request body needs; cJSON itself stops at 1000. */
#define SCAN_MAX_DEPTH 200

enum { SCAN_OK, SCAN_MORE, SCAN_BAD };

struct scan {
	const char *s;
	size_t len;
	size_t pos;
	int depth;
};

static int scan_value(struct scan *sc);

static void skip_space(struct scan *sc)
{
	while (sc->pos < sc->len && strchr(" \t\r\n", sc->s[sc->pos]) && sc->s[sc->pos])
		sc->pos++;
}

/* The next byte after white space, or -1 at the end of the text so far. */
static int peek(struct scan *sc)
{
	skip_space(sc);
	return sc->pos < sc->len ? (unsigned char)sc->s[sc->pos] : -1;
}

static int is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int scan_escape(struct scan *sc)
{
	int c;

	if (++sc->pos >= sc->len)
		return SCAN_MORE;
	c = (unsigned char)sc->s[sc->pos++];
	if (strchr("\"\\/bfnrt", c) && c)
		return SCAN_OK;
	if (c != 'u')
		return sc->pos--, SCAN_BAD;
	for (int i = 0; i < 4; i++, sc->pos++) {
		if (sc->pos >= sc->len)
			return SCAN_MORE;
		if (!is_hex((unsigned char)sc->s[sc->pos]))
			return SCAN_BAD;
	}
	return SCAN_OK;
}

static int scan_string(struct scan *sc)
{
	sc->pos++;	/* the opening quote */
	while (sc->pos < sc->len) {
		unsigned char c = (unsigned char)sc->s[sc->pos];
		int rc;

		if (c == '"') {
			sc->pos++;
			return SCAN_OK;
		}
		if (c < 0x20)
			return SCAN_BAD;
		if (c != '\\') {
			sc->pos++;
			continue;
		}
		rc = scan_escape(sc);
		if (rc != SCAN_OK)
			return rc;
	}
	return SCAN_MORE;
}

static int scan_literal(struct scan *sc, const char *word)
{
	for (; *word; word++, sc->pos++) {
		if (sc->pos >= sc->len)
			return SCAN_MORE;
		if (sc->s[sc->pos] != *word)
			return SCAN_BAD;
	}
	return SCAN_OK;
}

static int scan_digits(struct scan *sc)
{
	size_t start = sc->pos;

	while (sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9')
		sc->pos++;
	if (sc->pos == sc->len)
		return SCAN_MORE;	/* inside an object a number can always go on */
	return sc->pos > start ? SCAN_OK : SCAN_BAD;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(struct scan *sc)
{
	int rc;

	if (sc->s[sc->pos] == '-' && ++sc->pos >= sc->len)
		return SCAN_MORE;
	if (sc->s[sc->pos] == '0')
		rc = ++sc->pos < sc->len ? SCAN_OK : SCAN_MORE;
	else
		rc = scan_digits(sc);
	if (rc == SCAN_OK && sc->s[sc->pos] == '.') {
		sc->pos++;
		rc = scan_digits(sc);
	}
	if (rc == SCAN_OK && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
		if (++sc->pos >= sc->len)
			return SCAN_MORE;
		if (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-')
			sc->pos++;
		rc = scan_digits(sc);
	}
	return rc;
}

/* Members or elements up to the closing bracket; the opening one is consumed. */
static int scan_container(struct scan *sc, int close)
{
	int is_object = close == '}';
	int c, rc;

	if (++sc->depth > SCAN_MAX_DEPTH)
		return SCAN_BAD;
	sc->pos++;
	if ((c = peek(sc)) == close) {
		sc->pos++;
		sc->depth--;
		return SCAN_OK;
	}
	for (;;) {
		if (is_object) {
			if ((c = peek(sc)) < 0)
				return SCAN_MORE;
			if (c != '"')
				return SCAN_BAD;
			if ((rc = scan_string(sc)) != SCAN_OK)
				return rc;
			if ((c = peek(sc)) != ':')
				return c < 0 ? SCAN_MORE : SCAN_BAD;
			sc->pos++;
		}
		if ((rc = scan_value(sc)) != SCAN_OK)
			return rc;
		if ((c = peek(sc)) < 0)
			return SCAN_MORE;
		sc->pos++;
		if (c == close) {
			sc->depth--;
			return SCAN_OK;
		}
		if (c != ',')
			return sc->pos--, SCAN_BAD;
	}
}

static int scan_value(struct scan *sc)
{
	int c = peek(sc);

	switch (c) {
	case -1:	return SCAN_MORE;
	case '{':	return scan_container(sc, '}');
	case '[':	return scan_container(sc, ']');
	case '"':	return scan_string(sc);
	case 't':	return scan_literal(sc, "true");
	case 'f':	return scan_literal(sc, "false");
	case 'n':	return scan_literal(sc, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return scan_number(sc);
		return SCAN_BAD;
	}
}

enum json_scan json_scan_object(const char *text, size_t len, size_t *error_at)
{
	struct scan sc = { text, len, 0, 0 };
	int c = peek(&sc);
	int rc;

	*error_at = 0;
	if (c < 0)
		return JSON_INCOMPLETE;
	rc = c == '{' ? scan_value(&sc) : SCAN_BAD;
	if (rc == SCAN_OK && peek(&sc) >= 0)
		rc = SCAN_BAD;	/* something after the object */
	if (rc == SCAN_BAD) {
		*error_at = sc.pos;
		return JSON_INVALID;
	}
	return rc == SCAN_MORE ? JSON_INCOMPLETE : JSON_COMPLETE;
}
