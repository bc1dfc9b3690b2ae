/*
 * The restore preflight's rules (see fs/restoreplan.h): the selection as the
 * engines' SnapshotUtils.filterIndices makes it, the rename as Java's
 * String.replaceAll does it, and the refusals of RestoreService and of the
 * index name checks, each with the reason the engine would give.
 */
#include "fs/restoreplan.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/utf8.h"
#include "fs/names.h"
#include "fs/path.h"

/* A rename's result past this is refused as too long by the name check anyway. */
#define TARGET_MAX (2 * NAME_MAX_BYTES)

struct row {
	const char *index;		/* in the snapshot */
	int selected;
	int named;			/* selected by its own name, not by a pattern */
	char target[TARGET_MAX + 1];
	const char *verdict;		/* restore, replace, skip, refuse */
	char reason[900];
	int err;			/* the errno of a refusal */
};

struct plan {
	const struct restore_inputs *in;
	struct row *rows;
	int n;
	int err;			/* the plan's errno: its first refusal's */
	char why[1000];
};

static int refuse_plan(struct plan *p, int err, const char *fmt, const char *arg)
{
	if (!p->err) {
		p->err = err;
		snprintf(p->why, sizeof(p->why), fmt, arg);
	}
	return -err;
}

/* ---- which indices: the body's "indices", as the engines expand it ---- */

static int is_member(const cJSON *array, const char *name)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, array)
		if (cJSON_IsString(item) && !strcmp(item->valuestring, name))
			return 1;
	return 0;
}

static int flag_of(const cJSON *body, const char *field, int fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, field);

	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v);
	if (cJSON_IsString(v))
		return !strcmp(v->valuestring, "true");
	return fallback;
}

/* The expressions of "indices" (a comma list or an array) into exprs, NULL-terminated; caller frees. */
static char **body_expressions(const cJSON *body)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "indices"), *item;
	struct buf joined = BUF_INIT;
	char **exprs, *save = NULL, *tok;
	size_t count = 1;

	if (cJSON_IsString(v))
		buf_append(&joined, v->valuestring, strlen(v->valuestring));
	const cJSON *array = cJSON_IsArray(v) ? v : NULL;

	cJSON_ArrayForEach(item, array)
		if (cJSON_IsString(item) && (buf_append(&joined, item->valuestring, strlen(item->valuestring)) ||
					     buf_append(&joined, ",", 1)))
			break;
	for (size_t i = 0; i < joined.len; i++)
		count += joined.data[i] == ',';
	exprs = calloc(count + 1, sizeof(*exprs));
	count = 0;
	for (tok = joined.len && exprs ? strtok_r(joined.data, ",", &save) : NULL; tok;
	     tok = strtok_r(NULL, ",", &save))
		if (*tok)
			exprs[count++] = strdup(tok);
	buf_free(&joined);
	return exprs;
}

static void free_expressions(char **exprs)
{
	for (size_t i = 0; exprs && exprs[i]; i++)
		free(exprs[i]);
	free(exprs);
}

static int selects_all(char *const *exprs)
{
	return !exprs[0] || (!exprs[1] && !strcmp(exprs[0], "_all"));
}

/* One pattern or name, added or taken away: 0, or -ENOENT when the engine would say no such index. */
static int apply_expression(struct plan *p, const char *expr, int add, int ignore_unavailable)
{
	const cJSON *streams = cJSON_GetObjectItemCaseSensitive(p->in->snapshot, "data_streams");
	int found = 0;

	for (int i = 0; i < p->n; i++)
		if (strchr(expr, '*') ? name_simple_match(expr, p->rows[i].index) : !strcmp(expr, p->rows[i].index)) {
			found = 1;
			p->rows[i].selected = add;
			if (add && !strchr(expr, '*'))
				p->rows[i].named = 1;
		}
	/* A data stream selects its backing indices, which the snapshot lists too. */
	if (found || strchr(expr, '*') || ignore_unavailable || is_member(streams, expr))
		return 0;
	return refuse_plan(p, ENOENT, "no such index [%s] in the snapshot", expr);
}

/* The engines' order: a leading '-' starts from every index; "+" and "-" add and take away. */
static int apply_expressions(struct plan *p, char *const *exprs, int ignore_unavailable)
{
	int rc = 0;

	if (selects_all(exprs)) {
		for (int i = 0; i < p->n; i++)
			p->rows[i].selected = 1;
		return 0;
	}
	for (int i = 0; exprs[i] && !rc; i++) {
		const char *e = exprs[i];
		int add = *e != '-';

		if (i == 0 && *e == '-')
			for (int k = 0; k < p->n; k++)
				p->rows[k].selected = 1;
		if ((*e == '-' || *e == '+') && !is_member(cJSON_GetObjectItemCaseSensitive(p->in->snapshot, "indices"), e))
			e++;
		rc = apply_expression(p, e, add, ignore_unavailable);
	}
	return rc;
}

/* The expressions with the exclusions moved last, as Elasticsearch 8 applies them; caller frees. */
static char **exclusions_last(char *const *exprs)
{
	size_t count = 0, k = 0;
	char **moved;

	while (exprs[count])
		count++;
	moved = calloc(count + 1, sizeof(*moved));
	for (int pass = 0; moved && pass < 2; pass++)
		for (size_t i = 0; i < count; i++)
			if ((*exprs[i] == '-') == pass)
				moved[k++] = exprs[i];
	return moved;
}

/* 1 when Elasticsearch 8's order (exclusions last) selects other indices than the body's own order. */
static int order_matters(struct plan *p, char *const *exprs, int ignore_unavailable)
{
	char **moved = exclusions_last(exprs);
	unsigned char *in_order = calloc((size_t)p->n + 1, 1);
	int differs = 0;

	for (int i = 0; moved && in_order && i < p->n; i++) {
		in_order[i] = (unsigned char)p->rows[i].selected;
		p->rows[i].selected = 0;
	}
	if (moved && in_order && apply_expressions(p, moved, ignore_unavailable) == 0)
		for (int i = 0; i < p->n; i++)
			differs |= in_order[i] != p->rows[i].selected;
	for (int i = 0; moved && in_order && i < p->n; i++)
		p->rows[i].selected = in_order[i];
	free(moved);
	free(in_order);
	return differs;
}

static int select_rows(struct plan *p)
{
	char **exprs = body_expressions(p->in->body);
	int ignore = flag_of(p->in->body, "ignore_unavailable", 0);
	int rc;

	if (!exprs)
		return -ENOMEM;
	rc = apply_expressions(p, exprs, ignore);
	if (!rc && order_matters(p, exprs, ignore))
		rc = refuse_plan(p, EOPNOTSUPP, "%s", "an exclusion before an inclusion selects differently "
				 "in Elasticsearch 8 and OpenSearch: put the exclusions last");
	free_expressions(exprs);
	return rc;
}

/* ---- the rename: rename_pattern is a Java regex, run through POSIX ERE where both agree ---- */

struct rename {
	regex_t re;
	int compiled;
	const char *replacement;
};

/* \d \w \s as POSIX classes; inside [...] without their brackets. */
static const char *class_escape(char c, int in_class)
{
	switch (c) {
	case 'd': return in_class ? "0-9" : "[0-9]";
	case 'w': return in_class ? "A-Za-z0-9_" : "[A-Za-z0-9_]";
	case 's': return in_class ? "[:space:]" : "[[:space:]]";
	case 'D': return in_class ? NULL : "[^0-9]";
	case 'W': return in_class ? NULL : "[^A-Za-z0-9_]";
	case 'S': return in_class ? NULL : "[^[:space:]]";
	default: return NULL;
	}
}

static int is_quantifier(char c)
{
	return c == '*' || c == '+' || c == '?' || c == '}';
}

/*
 * Java's syntax into ERE where they mean the same; -EOPNOTSUPP for what ERE
 * has not (groups with "(?", lazy and possessive quantifiers, back
 * references, \b \Q \p and the like) rather than a guess.
 */
static int java_to_ere(const char *java, struct buf *out, const char **unsupported)
{
	int in_class = 0, rc = 0;

	for (const char *s = java; *s && !rc; s++) {
		const char *cls;

		if (*s == '\\') {
			s++;
			if (!*s)
				break;	/* regcomp refuses the lone backslash, as Java does */
			if ((cls = class_escape(*s, in_class)))
				rc = buf_append(out, cls, strlen(cls));
			else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
				 (in_class && strchr("]^-", *s)))
				*unsupported = s - 1;
			else if (in_class)
				rc = buf_append(out, s, 1);	/* a bracket takes every character as itself */
			else
				rc = buf_append(out, s - 1, 2);
		} else if (in_class && *s == '[') {
			if (s[1] == ':')
				rc = buf_append(out, s, 1);
			else
				*unsupported = s;		/* a class in a class: a union */
		} else if (in_class && *s == '&' && s[1] == '&') {
			*unsupported = s;
		} else if (*s == '[') {
			in_class = 1;
			rc = buf_append(out, s, 1);
			if (s[1] == '^' && (rc = buf_append(out, ++s, 1)) == 0 && s[1] == ']')
				rc = buf_append(out, ++s, 1);
			else if (s[1] == ']')
				rc = buf_append(out, ++s, 1);
		} else if (in_class && *s == ']') {
			in_class = 0;
			rc = buf_append(out, s, 1);
		} else if (!in_class && ((*s == '(' && s[1] == '?') || (is_quantifier(*s) && (s[1] == '?' || s[1] == '+')))) {
			*unsupported = s;
		} else {
			rc = buf_append(out, s, 1);
		}
		if (*unsupported)
			return -EOPNOTSUPP;
	}
	return rc ? -ENOMEM : 0;
}

static int rename_compile(struct plan *p, struct rename *r)
{
	const char *pattern = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p->in->body, "rename_pattern"));
	struct buf ere = BUF_INIT;
	const char *unsupported = NULL;
	char why[200];
	int rc;

	r->replacement = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p->in->body, "rename_replacement"));
	/* The engines rename only when both are given. */
	if (!pattern || !r->replacement)
		return 0;
	rc = java_to_ere(pattern, &ere, &unsupported);
	if (rc == -EOPNOTSUPP) {
		snprintf(why, sizeof(why), "esfs cannot work out rename_pattern's [%.40s] as Java does: "
			 "the plan cannot say what the indices would be called", unsupported);
		rc = refuse_plan(p, EOPNOTSUPP, "%s", why);
	} else if (rc == 0 && regcomp(&r->re, ere.data ? ere.data : "", REG_EXTENDED) != 0) {
		rc = refuse_plan(p, EINVAL, "rename_pattern [%s] is not a valid pattern", pattern);
	} else if (rc == 0) {
		r->compiled = 1;
	}
	buf_free(&ere);
	return rc;
}

/* The group a "$" starts, as Java reads it: digits while they name a group. */
static int group_number(const char **s, size_t groups)
{
	int n = **s - '0';

	while ((*s)[1] >= '0' && (*s)[1] <= '9' && (size_t)(n * 10 + (*s)[1] - '0') <= groups) {
		n = n * 10 + (*s)[1] - '0';
		(*s)++;
	}
	return n;
}

/* Matcher.appendReplacement: "$n" a group, "\c" the character c. */
static int append_replacement(struct buf *out, const char *name, const regmatch_t *m, size_t groups,
			      const char *replacement, char *why, size_t why_len)
{
	for (const char *s = replacement; *s; s++) {
		int g;

		if (*s == '\\') {
			if (!*++s)
				return snprintf(why, why_len, "rename_replacement ends in a lone '\\'"), -EINVAL;
			if (buf_append(out, s, 1))
				return -ENOMEM;
			continue;
		}
		if (*s != '$') {
			if (buf_append(out, s, 1))
				return -ENOMEM;
			continue;
		}
		if (!*++s || *s < '0' || *s > '9')
			return snprintf(why, why_len, "rename_replacement has an illegal group reference "
					"(only $0 to $%zu)", groups), -EINVAL;
		g = group_number(&s, groups);
		if ((size_t)g > groups)
			return snprintf(why, why_len, "rename_replacement refers to group %d: rename_pattern "
					"has %zu", g, groups), -EINVAL;
		if (m[g].rm_so >= 0 && buf_append(out, name + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so)))
			return -ENOMEM;
	}
	return 0;
}

/* String.replaceAll: every match, left to right; an empty match moves on by one character. */
static int rename_index(const struct rename *r, const char *index, char *target, size_t size,
			char *why, size_t why_len)
{
	size_t len = strlen(index), pos = 0, groups = r->re.re_nsub;
	regmatch_t m[10 + 1];
	struct buf out = BUF_INIT;
	int rc = 0;

	if (groups > 9) {
		snprintf(why, why_len, "rename_pattern has more than 9 groups");
		return -EOPNOTSUPP;
	}
	while (!rc && pos <= len && regexec(&r->re, index + pos, groups + 1, m, pos ? REG_NOTBOL : 0) == 0) {
		size_t so = pos + (size_t)m[0].rm_so, eo = pos + (size_t)m[0].rm_eo;

		for (size_t g = 0; g <= groups; g++)
			if (m[g].rm_so >= 0) {
				m[g].rm_so += (regoff_t)pos;
				m[g].rm_eo += (regoff_t)pos;
			}
		rc = buf_append(&out, index + pos, so - pos) ? -ENOMEM : 0;
		if (!rc)
			rc = append_replacement(&out, index, m, groups, r->replacement, why, why_len);
		if (!rc && eo == so && so < len && buf_append(&out, index + so, 1))
			rc = -ENOMEM;
		pos = eo == so ? so + 1 : eo;
	}
	if (!rc && pos < len && buf_append(&out, index + pos, len - pos))
		rc = -ENOMEM;
	if (!rc)
		snprintf(target, size, "%s", out.data ? out.data : "");
	buf_free(&out);
	return rc;
}

/* ---- the checks, one selected index at a time ---- */

static const cJSON *snapshot_index_status(const struct plan *p, const char *index)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p->in->status, "indices"), index);
}

static int shards_in_snapshot(const struct plan *p, const char *index)
{
	const cJSON *shards = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(snapshot_index_status(p, index), "shards_stats"), "total");

	return cJSON_IsNumber(shards) ? shards->valueint : -1;
}

static void render_bytes(const struct plan *p, const char *index, char *out, size_t size)
{
	const cJSON *total = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
		snapshot_index_status(p, index), "stats"), "total");
	const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(total, "size_in_bytes");

	if (cJSON_IsNumber(bytes))
		snprintf(out, size, "%.0f", bytes->valuedouble);
	else
		snprintf(out, size, "-");
}

/* Elasticsearch 8 restores a system index only with its feature state, never by "indices". */
static int is_system_index(const struct plan *p, const char *index)
{
	const cJSON *feature;

	cJSON_ArrayForEach(feature, cJSON_GetObjectItemCaseSensitive(p->in->snapshot, "feature_states"))
		if (is_member(cJSON_GetObjectItemCaseSensitive(feature, "indices"), index))
			return 1;
	return 0;
}

/* The live index of that name (a _cat/indices row), or NULL. */
static const cJSON *live_index(const struct plan *p, const char *name)
{
	const cJSON *row;

	cJSON_ArrayForEach(row, p->in->indices) {
		const char *index = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "index"));

		if (index && !strcmp(index, name))
			return row;
	}
	return NULL;
}

static int live_alias(const struct plan *p, const char *name)
{
	const cJSON *row;

	cJSON_ArrayForEach(row, p->in->aliases) {
		const char *alias = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "alias"));

		if (alias && !strcmp(alias, name))
			return 1;
	}
	return 0;
}

static int refuse_row(struct plan *p, struct row *r, int err, const char *reason)
{
	r->verdict = "refuse";
	r->err = err;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	refuse_plan(p, err, "%s", r->reason);
	return -err;
}

/* A closed index of the target's name is replaced when its shard count is the snapshot's. */
static int check_live_target(struct plan *p, struct row *r)
{
	const cJSON *live = live_index(p, r->target);
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(live, "status"));
	const char *pri = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(live, "pri"));
	int want = shards_in_snapshot(p, r->index), have = pri ? atoi(pri) : -1;
	char why[sizeof(r->reason)];

	if (live_alias(p, r->target))
		return refuse_row(p, r, EEXIST, "an alias of that name exists in the cluster");
	if (!live)
		return 0;
	if (!status || strcmp(status, "close"))
		return refuse_row(p, r, EEXIST, "an open index of that name exists in the cluster: close "
				  "or delete it, or rename with rename_pattern and rename_replacement");
	if (want >= 0 && have >= 0 && want != have) {
		snprintf(why, sizeof(why), "the closed index of that name has %d shards, the snapshot's "
			 "index %d", have, want);
		return refuse_row(p, r, EEXIST, why);
	}
	r->verdict = "replace";
	snprintf(r->reason, sizeof(r->reason), "replaces the closed index of that name");
	return 0;
}

/* Two indices onto one name: the engine names the pair. */
static int check_unique_target(struct plan *p, struct row *r)
{
	char why[sizeof(r->reason)];

	for (struct row *o = p->rows; o < r; o++)
		if (o->selected && !strcmp(o->target, r->target) && strcmp(o->verdict, "skip")) {
			snprintf(why, sizeof(why), "indices [%.255s] and [%.255s] are renamed into the same index [%.255s]",
				 o->index, r->index, r->target);
			return refuse_row(p, r, EINVAL, why);
		}
	return 0;
}

static int check_row(struct plan *p, const struct rename *rn, struct row *r)
{
	char why[sizeof(r->reason)] = "";
	int rc;

	r->verdict = "restore";
	if (is_system_index(p, r->index)) {
		if (r->named)
			return refuse_row(p, r, EPERM, "a system index: restored only with its feature state "
					  "(\"feature_states\"), never by \"indices\"");
		r->verdict = "skip";
		snprintf(r->reason, sizeof(r->reason), "a system index: restored only with its feature state");
		return 0;
	}
	if (p->in->managed && !strcmp(r->index, ".opendistro_security"))
		return refuse_row(p, r, EPERM, "Amazon OpenSearch Service does not restore its security index");
	snprintf(r->target, sizeof(r->target), "%s", r->index);
	if (rn->compiled) {
		rc = rename_index(rn, r->index, r->target, sizeof(r->target), why, sizeof(why));
		if (rc == -ENOMEM)
			return rc;
		if (rc)
			return refuse_row(p, r, -rc, why);
	}
	if (name_check_index(r->target, why, sizeof(why)))
		return refuse_row(p, r, EINVAL, why);
	rc = check_unique_target(p, r);
	return rc ? rc : check_live_target(p, r);
}

/* ---- the plan ---- */

static int by_index(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->index, ((const struct row *)b)->index);
}

/* One row per index of the snapshot, in its order (the plan sorts them by name). */
static int make_rows(struct plan *p)
{
	const cJSON *indices = cJSON_GetObjectItemCaseSensitive(p->in->snapshot, "indices"), *item;

	p->rows = calloc((size_t)cJSON_GetArraySize(indices) + 1, sizeof(*p->rows));
	if (!p->rows)
		return -ENOMEM;
	cJSON_ArrayForEach(item, indices)
		if (cJSON_IsString(item))
			p->rows[p->n++].index = item->valuestring;
	return 0;
}

static int render_plan(const struct plan *p, struct buf *out)
{
	char index[4 * TARGET_MAX + 1], target[4 * TARGET_MAX + 1], reason[4 * sizeof(p->rows->reason) + 1];
	char *body = cJSON_PrintUnformatted(p->in->body), bytes[32];
	int selected = 0, refused = 0, rc = 0;

	for (int i = 0; i < p->n; i++) {
		selected += p->rows[i].selected;
		refused += p->rows[i].selected && p->rows[i].err;
	}
	utf8_escape(reason, sizeof(reason), p->why);
	if (p->err)
		rc = buf_printf(out, "# refused: %s\n", reason);
	else
		rc = buf_printf(out, "# accepted: the engine should take this restore\n");
	rc = rc ? rc : buf_printf(out, "# request: %s\n# %d of %d indices selected, %d refused\n"
				   "# verdict\tindex\ttarget\tbytes\treason\n", body ? body : "", selected,
				   p->n, refused);
	for (int i = 0; i < p->n && !rc; i++) {
		const struct row *r = &p->rows[i];

		if (!r->selected)
			continue;
		render_bytes(p, r->index, bytes, sizeof(bytes));
		/* Names may hold tabs and line breaks: escaped, a line stays one line of five fields. */
		utf8_escape(index, sizeof(index), r->index);
		utf8_escape(target, sizeof(target), r->target[0] ? r->target : "-");
		utf8_escape(reason, sizeof(reason), r->reason);
		rc = buf_printf(out, "%s\t%s\t%s\t%s\t%s\n", r->verdict ? r->verdict : "unchecked", index, target,
				bytes, reason);
	}
	cJSON_free(body);
	return rc ? -ENOMEM : 0;
}

int restore_plan_make(const struct restore_inputs *in, struct buf *out, char *why, size_t why_len)
{
	struct plan p = { .in = in };
	struct rename rn = { 0 };
	int rc = cJSON_IsObject(in->body) ? make_rows(&p) : refuse_plan(&p, EINVAL, "%s",
									 "a restore body is a JSON object");

	if (rc == 0)
		qsort(p.rows, (size_t)p.n, sizeof(*p.rows), by_index);

	if (rc == 0)
		rc = select_rows(&p);
	if (rc == 0)
		rc = rename_compile(&p, &rn);
	for (int i = 0; rc == 0 && i < p.n; i++)
		if (p.rows[i].selected && check_row(&p, &rn, &p.rows[i]) == -ENOMEM)
			rc = -ENOMEM;
	/* A refusal of the whole body still renders: the plan says why. */
	if (rc != -ENOMEM)
		rc = render_plan(&p, out);
	if (rn.compiled)
		regfree(&rn.re);
	free(p.rows);
	if (rc == 0 && p.err) {
		snprintf(why, why_len, "%s", p.why);
		rc = -p.err;
	}
	return rc;
}

int restore_select(const cJSON *body, const cJSON *snapshot, unsigned char *selected, char *why,
		   size_t why_len)
{
	struct restore_inputs in = { .body = body, .snapshot = snapshot };
	struct plan p = { .in = &in };
	int rc = make_rows(&p);

	if (rc == 0)
		rc = select_rows(&p);
	if (rc == 0)
		for (int i = 0; i < p.n; i++)
			selected[i] = (unsigned char)p.rows[i].selected;
	else if (rc != -ENOMEM)
		snprintf(why, why_len, "%s", p.why);
	free(p.rows);
	return rc;
}
