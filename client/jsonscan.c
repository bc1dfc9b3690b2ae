/*
 * An incremental JSON object scanner: each byte is looked at once, however
 * many writes a body comes in, so a 1 MiB body written a byte at a time
 * costs 1 MiB of scanning, not half a terabyte.
 */
#include "client/jsonscan.h"

#include <errno.h>
#include <string.h>

enum {
	S_START,		/* white space, then the opening '{' */
	S_KEY_OR_END,		/* just after '{': a key or '}' */
	S_KEY,			/* after ',' in an object */
	S_COLON,
	S_VALUE_OR_END,		/* just after '[': a value or ']' */
	S_VALUE,
	S_AFTER_VALUE,		/* ',' or the closing bracket */
	S_DONE,			/* the object closed: only white space may follow */
	S_STRING,
	S_ESCAPE,		/* after a backslash */
	S_HEX,			/* in \uXXXX */
	S_LITERAL,		/* in true, false or null */
	S_MINUS,		/* a number's '-': a digit must follow */
	S_ZERO,			/* a leading 0: no more digits before '.' or 'e' */
	S_INT,
	S_DOT,			/* a digit must follow */
	S_FRAC,
	S_EXP,			/* after 'e': a sign or a digit */
	S_EXP_SIGN,		/* a digit must follow */
	S_EXP_DIGITS,
	S_BAD,
};

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int open_container(struct json_scanner *sc, char bracket)
{
	if (sc->depth == JSON_SCAN_MAX_DEPTH)
		return S_BAD;
	sc->stack[sc->depth++] = bracket;
	return bracket == '{' ? S_KEY_OR_END : S_VALUE_OR_END;
}

/* A closing bracket: right only when it closes the innermost container. */
static int close_container(struct json_scanner *sc, int c)
{
	if (!sc->depth || c != (sc->stack[sc->depth - 1] == '{' ? '}' : ']'))
		return S_BAD;
	sc->depth--;
	return sc->depth ? S_AFTER_VALUE : S_DONE;
}

static int start_literal(struct json_scanner *sc, const char *word)
{
	sc->literal = word;
	sc->literal_at = 1;
	return S_LITERAL;
}

/* The first byte of a value. */
static int start_value(struct json_scanner *sc, int c)
{
	switch (c) {
	case '{':	return open_container(sc, '{');
	case '[':	return open_container(sc, '[');
	case '"':	sc->in_key = 0; return S_STRING;
	case 't':	return start_literal(sc, "true");
	case 'f':	return start_literal(sc, "false");
	case 'n':	return start_literal(sc, "null");
	case '-':	return S_MINUS;
	case '0':	return S_ZERO;
	default:	return is_digit(c) ? S_INT : S_BAD;
	}
}

static int after_string(const struct json_scanner *sc)
{
	return sc->in_key ? S_COLON : S_AFTER_VALUE;
}

static int in_string(struct json_scanner *sc, int c)
{
	switch (sc->state) {
	case S_STRING:
		if (c == '"')
			return after_string(sc);
		if (c < 0x20)
			return S_BAD;
		return c == '\\' ? S_ESCAPE : S_STRING;
	case S_ESCAPE:
		if (c == 'u') {
			sc->hex_left = 4;
			return S_HEX;
		}
		return c && strchr("\"\\/bfnrt", c) ? S_STRING : S_BAD;
	default:	/* S_HEX */
		if (!is_hex(c))
			return S_BAD;
		return --sc->hex_left ? S_HEX : S_STRING;
	}
}

/* -1: the number ended before c, which the state after the value must take. */
static int in_number(int state, int c)
{
	switch (state) {
	case S_MINUS:		return c == '0' ? S_ZERO : is_digit(c) ? S_INT : S_BAD;
	case S_ZERO:		return c == '.' ? S_DOT : (c == 'e' || c == 'E') ? S_EXP : -1;
	case S_INT:		return is_digit(c) ? S_INT : c == '.' ? S_DOT : (c == 'e' || c == 'E') ? S_EXP : -1;
	case S_DOT:		return is_digit(c) ? S_FRAC : S_BAD;
	case S_FRAC:		return is_digit(c) ? S_FRAC : (c == 'e' || c == 'E') ? S_EXP : -1;
	case S_EXP:		return is_digit(c) ? S_EXP_DIGITS : (c == '+' || c == '-') ? S_EXP_SIGN : S_BAD;
	case S_EXP_SIGN:	return is_digit(c) ? S_EXP_DIGITS : S_BAD;
	default:		return is_digit(c) ? S_EXP_DIGITS : -1;	/* S_EXP_DIGITS */
	}
}

static int step(struct json_scanner *sc, int c)
{
	int next;

	if (sc->state >= S_STRING && sc->state <= S_HEX)
		return in_string(sc, c);
	if (sc->state == S_LITERAL) {
		if (c != sc->literal[sc->literal_at])
			return S_BAD;
		return sc->literal[++sc->literal_at] ? S_LITERAL : S_AFTER_VALUE;
	}
	if (sc->state >= S_MINUS && sc->state <= S_EXP_DIGITS) {
		next = in_number(sc->state, c);
		if (next >= 0)
			return next;
		sc->state = S_AFTER_VALUE;	/* the byte after a number belongs to what follows */
	}
	if (is_space(c))
		return sc->state;
	switch (sc->state) {
	case S_START:		return c == '{' ? open_container(sc, '{') : S_BAD;
	case S_KEY_OR_END:	if (c == '}')
					return close_container(sc, c);
				/* fall through */
	case S_KEY:		sc->in_key = 1;
				return c == '"' ? S_STRING : S_BAD;
	case S_COLON:		return c == ':' ? S_VALUE : S_BAD;
	case S_VALUE_OR_END:	if (c == ']')
					return close_container(sc, c);
				/* fall through */
	case S_VALUE:		return start_value(sc, c);
	case S_AFTER_VALUE:	if (c == ',')
					return sc->stack[sc->depth - 1] == '{' ? S_KEY : S_VALUE;
				return close_container(sc, c);
	default:		return S_BAD;	/* S_DONE: something after the object */
	}
}

void json_scanner_init(struct json_scanner *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->state = S_START;
}

enum json_scan json_scanner_feed(struct json_scanner *sc, const char *data, size_t len,
				 size_t *error_at)
{
	for (size_t i = 0; i < len && sc->state != S_BAD; i++) {
		sc->state = step(sc, (unsigned char)data[i]);
		if (sc->state != S_BAD)
			sc->pos++;
	}
	if (sc->state == S_BAD) {
		*error_at = sc->pos;
		return JSON_INVALID;
	}
	*error_at = 0;
	return sc->state == S_DONE ? JSON_COMPLETE : JSON_INCOMPLETE;
}

enum json_scan json_scan_object(const char *text, size_t len, size_t *error_at)
{
	struct json_scanner sc;

	json_scanner_init(&sc);
	return json_scanner_feed(&sc, text, len, error_at);
}

/*
 * The walk below runs on text json_scan_object found complete, so it only
 * tells strings from structure: every bracket, comma and colon is where the
 * grammar allows, and no index runs past len.
 */
static size_t skip_space(const char *t, size_t len, size_t i)
{
	while (i < len && is_space((unsigned char)t[i]))
		i++;
	return i;
}

/* From a string's opening quote to just past its closing one. */
static size_t skip_string(const char *t, size_t len, size_t i)
{
	for (i++; i < len && t[i] != '"'; i++)
		if (t[i] == '\\')
			i++;
	return i + 1;
}

/* From a value's first byte to just past its last. */
static size_t skip_value(const char *t, size_t len, size_t i)
{
	int depth = 0;

	while (i < len) {
		char c = t[i];

		if (c == '"') {
			i = skip_string(t, len, i);
			if (!depth)
				return i;
		} else if (c == '{' || c == '[') {
			depth++, i++;
		} else if (c == '}' || c == ']') {
			if (!depth)
				return i;	/* the end of the container a scalar is in */
			if (!--depth)
				return i + 1;
			i++;
		} else if (!depth && (c == ',' || is_space((unsigned char)c))) {
			return i;
		} else {
			i++;
		}
	}
	return i;
}

static int each_element(const char *t, size_t len, size_t i,
			int (*each)(const char *, size_t, void *), void *ctx)
{
	for (i = skip_space(t, len, i + 1); t[i] != ']';) {
		size_t start = i;
		int rc;

		i = skip_value(t, len, i);
		rc = each(t + start, i - start, ctx);
		if (rc)
			return rc;
		i = skip_space(t, len, i);
		if (t[i] == ',')
			i = skip_space(t, len, i + 1);
	}
	return 0;
}

int json_array_each(const char *text, size_t len, const char *member,
		    int (*each)(const char *element, size_t element_len, void *ctx), void *ctx)
{
	size_t at, mlen = strlen(member), i;

	if (json_scan_object(text, len, &at) != JSON_COMPLETE)
		return -EPROTO;
	for (i = skip_space(text, len, skip_space(text, len, 0) + 1); text[i] == '"';) {
		size_t key = i;
		int named;

		i = skip_string(text, len, i);
		named = i - key == mlen + 2 && !memcmp(text + key + 1, member, mlen);
		i = skip_space(text, len, skip_space(text, len, i) + 1);	/* past the ':' */
		if (named)
			return text[i] == '[' ? each_element(text, len, i, each, ctx) : -EPROTO;
		i = skip_space(text, len, skip_value(text, len, i));
		if (text[i] == ',')
			i = skip_space(text, len, i + 1);
	}
	return 0;
}
