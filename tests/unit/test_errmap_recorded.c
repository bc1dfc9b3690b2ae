/*
 * client/errmap.c fed with every error answer (status >= 400) recorded from
 * real engines (tests/data): the errno a shell user sees for each.
 */
#include <cjson/cJSON.h>
#include <errno.h>

#include "client/errmap.h"
#include "unit.h"

static const char *const engines[] = { "opensearch-2.19.6", "elasticsearch-8.19.21" };
#define N_ENGINES 2

/*
 * Every recorded error answer, per engine (OpenSearch, Elasticsearch); 0 where
 * that engine answered 2xx. The group names the case that checks the row.
 */
static const struct expect {
	const char *group;
	const char *name;
	int err[N_ENGINES];
} expects[] = {
	/* A missing repository or snapshot, whatever asked for it. */
	{ "missing", "get_snapshot_missing_repo", { ENOENT, ENOENT } },
	{ "missing", "get_snapshot_missing_repo_snap", { ENOENT, ENOENT } },
	{ "missing", "get_snapshot_missing_repo_all", { ENOENT, ENOENT } },
	{ "missing", "get_snapshot_missing_repo_status", { ENOENT, ENOENT } },
	{ "missing", "cat_snapshots_missing_repo", { ENOENT, ENOENT } },
	{ "missing", "verify_repo_missing", { ENOENT, ENOENT } },
	{ "missing", "get_snapshot_missing", { ENOENT, ENOENT } },
	{ "missing", "get_snapshot_missing_and_present", { ENOENT, ENOENT } },
	{ "missing", "get_snapshot_missing_status", { ENOENT, ENOENT } },
	{ "missing", "delete_snapshot_missing", { ENOENT, ENOENT } },
	{ "missing", "create_snapshot_missing_index", { ENOENT, ENOENT } },
	/* OpenSearch: repository_missing_exception "[_all] missing" / "[*] missing". */
	{ "missing", "get_snapshots_all_repos", { ENOENT, 0 } },
	{ "missing", "get_snapshots_star_repos", { ENOENT, 0 } },
	/* OS invalid_snapshot_name_exception, ES snapshot_name_already_in_use_exception. */
	{ "taken", "create_snapshot_exists", { EEXIST, EEXIST } },
	{ "taken", "create_snapshot_same_name_running", { EEXIST, EEXIST } },
	{ "invalid", "create_snapshot_uppercase", { EINVAL, EINVAL } },
	{ "invalid", "create_snapshot_underscore", { EINVAL, EINVAL } },
	{ "invalid", "get_snapshots_unknown_param", { EINVAL, EINVAL } },
	{ "invalid", "get_snapshots_vf_size1_sort_name", { EINVAL, EINVAL } },
	{ "invalid", "get_snapshots_vf_offset_order", { EINVAL, EINVAL } },
	{ "invalid", "get_snapshots_size1_sort_name", { EINVAL, 0 } },
	{ "invalid", "get_snapshots_size1_after", { EINVAL, 0 } },
	{ "invalid", "get_snapshots_offset_order", { EINVAL, 0 } },
	{ "invalid", "get_snapshots_from_sort_value", { EINVAL, 0 } },
	{ "invalid", "get_snapshots_index_names_false", { EINVAL, 0 } },
	{ "invalid", "cat_snapshots_no_repo", { EINVAL, 0 } },
	/* "repository type [nosuchtype] does not exist": a typo. */
	{ "invalid", "put_repo_bad_type", { EINVAL, EINVAL } },
	/* OS 500 repository_exception, ES 400 illegal_argument_exception. */
	{ "readonly", "create_snapshot_readonly_repo", { EROFS, EROFS } },
	{ "readonly", "delete_snapshot_readonly_repo", { EROFS, EROFS } },
	/* 500 snapshot_restore_exception "... an open index with same name already exists". */
	{ "restore", "restore_onto_open_index", { EEXIST, EEXIST } },
	/* 500 snapshot_restore_exception "[demo:missing] snapshot does not exist". */
	{ "restore", "restore_missing_snapshot", { ENOENT, ENOENT } },
	/* OS 500 illegal_state_exception, ES 409 repository_conflict_exception: "currently used". */
	{ "busy", "delete_repo_in_use", { EBUSY, EBUSY } },
	/* OS json_parse_exception / json_e_o_f_exception, ES x_content_(e_o_f|parse)_exception. */
	{ "malformed", "malformed_json_snapshot", { EINVAL, EINVAL } },
	{ "malformed", "malformed_json_repo", { EINVAL, EINVAL } },
	{ "malformed", "malformed_json_restore", { EINVAL, EINVAL } },
	/* 500 snapshot_exception (red index without partial): the engine failed, EIO. */
	{ "other", "create_snapshot_red_not_partial", { EIO, EIO } },
	/* 500 repository_exception "failed to create repository", caused by path.repo: EIO. */
	{ "other", "put_repo_outside_path_repo", { EIO, EIO } },
	/* ES integ-test-zip: 405 {"error": "Incorrect HTTP method ..."}. */
	{ "other", "root", { 0, EOPNOTSUPP } },
};
#define N_EXPECTS (sizeof(expects) / sizeof(expects[0]))

/* The recorded status of ENGINE/NAME, from NAME.status. */
static long recorded_status(const char *engine, const char *name)
{
	char rel[256];
	char *text;
	long status;

	snprintf(rel, sizeof(rel), "%s/%s.status", engine, name);
	text = unit_read_data(rel);
	status = strtol(text, NULL, 10);
	free(text);
	return status;
}

static void mapped(struct esfs_error *e, const char *engine, const char *name, long status)
{
	char rel[256];
	char *body;

	snprintf(rel, sizeof(rel), "%s/%s.json", engine, name);
	body = unit_read_data(rel);
	errmap_from_response(e, status, body, strlen(body));
	free(body);
}

static void check_group(const char *group)
{
	int rows = 0;

	for (size_t i = 0; i < N_EXPECTS; i++) {
		if (strcmp(expects[i].group, group) != 0)
			continue;
		for (size_t k = 0; k < N_ENGINES; k++) {
			long status = recorded_status(engines[k], expects[i].name);
			struct esfs_error e;

			if (!expects[i].err[k]) {
				CHECK(status < 400);
				continue;
			}
			CHECK(status >= 400);
			mapped(&e, engines[k], expects[i].name, status);
			CHECK_INT(e.status, status);
			if (e.err != expects[i].err[k]) {
				fprintf(stderr, "%s/%s (%ld %s: %s): got %s, want %s\n", engines[k],
					expects[i].name, status, e.type, e.reason, errmap_errno_name(e.err),
					errmap_errno_name(expects[i].err[k]));
				unit_failures++;
			}
			rows++;
		}
	}
	CHECK(rows > 0);
}

static void missing_is_enoent(void) { check_group("missing"); }
static void taken_name_is_eexist(void) { check_group("taken"); }
static void invalid_request_is_einval(void) { check_group("invalid"); }
static void readonly_repo_is_erofs(void) { check_group("readonly"); }
static void restore_refusals(void) { check_group("restore"); }
static void repo_in_use_is_ebusy(void) { check_group("busy"); }
static void malformed_json_is_einval(void) { check_group("malformed"); }
static void other_errors(void) { check_group("other"); }

static const struct expect *find_expect(const char *name)
{
	for (size_t i = 0; i < N_EXPECTS; i++)
		if (!strcmp(expects[i].name, name))
			return &expects[i];
	return NULL;
}

/* index.tsv: every error answer of every engine has its row above, and no row is stale. */
static void every_recorded_error_has_a_row(void)
{
	int seen[N_EXPECTS][N_ENGINES];

	memset(seen, 0, sizeof(seen));
	for (size_t k = 0; k < N_ENGINES; k++) {
		char rel[256];
		char *tsv, *line, *save = NULL;
		int errors = 0;

		snprintf(rel, sizeof(rel), "%s/index.tsv", engines[k]);
		tsv = unit_read_data(rel);
		for (line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *tab = strchr(line, '\t');
			const struct expect *x;
			long status;

			if (!tab || !strncmp(line, "name\t", 5))
				continue;
			*tab = '\0';
			status = strtol(tab + 1, NULL, 10);
			CHECK_INT(recorded_status(engines[k], line), status);
			if (status < 400)
				continue;
			errors++;
			x = find_expect(line);
			if (!x || !x->err[k]) {
				fprintf(stderr, "%s/%s: error answer %ld without an expected errno\n",
					engines[k], line, status);
				unit_failures++;
				continue;
			}
			seen[x - expects][k] = 1;
		}
		CHECK(errors >= 30);
		free(tsv);
	}
	for (size_t i = 0; i < N_EXPECTS; i++)
		for (size_t k = 0; k < N_ENGINES; k++)
			if (expects[i].err[k] && !seen[i][k]) {
				fprintf(stderr, "%s/%s: not an error answer in index.tsv\n", engines[k],
					expects[i].name);
				unit_failures++;
			}
}

/* The engine's reason with line breaks made spaces and no trailing blank, as errmap keeps it. */
static void one_line(char *s)
{
	size_t n;

	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	for (n = strlen(s); n > 0 && s[n - 1] == ' '; n--)
		s[n - 1] = '\0';
}

/* Type and reason reach /_esfs/errors as the engine wrote them, on one line. */
static void type_and_reason_copied(void)
{
	for (size_t i = 0; i < N_EXPECTS; i++) {
		for (size_t k = 0; k < N_ENGINES; k++) {
			char rel[256];
			char *body, *reason;
			const cJSON *error;
			cJSON *root;
			struct esfs_error e;
			size_t n;

			if (!expects[i].err[k])
				continue;
			mapped(&e, engines[k], expects[i].name, recorded_status(engines[k], expects[i].name));
			CHECK(e.type[0] != '\0');
			CHECK(e.reason[0] != '\0');
			CHECK(!strpbrk(e.type, "\r\n"));
			if (strpbrk(e.reason, "\r\n")) {
				fprintf(stderr, "%s/%s: reason spans lines: %s\n", engines[k], expects[i].name,
					e.reason);
				unit_failures++;
			}

			snprintf(rel, sizeof(rel), "%s/%s.json", engines[k], expects[i].name);
			body = unit_read_data(rel);
			root = cJSON_Parse(body);
			free(body);
			CHECK(root != NULL);
			error = cJSON_GetObjectItemCaseSensitive(root, "error");
			if (cJSON_IsObject(error)) {
				CHECK_STR(e.type, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "type")));
				reason = strdup(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "reason")));
			} else {
				/* {"error": "text", "status": 405}: no type, the status stands for it. */
				CHECK(cJSON_IsString(error));
				CHECK_STR(e.type, "http_405");
				reason = strdup(cJSON_GetStringValue(error));
			}
			one_line(reason);
			n = strlen(reason);
			if (n > sizeof(e.reason) - 1)
				n = sizeof(e.reason) - 1;
			if (strncmp(e.reason, reason, n) != 0) {
				fprintf(stderr, "%s/%s: reason\n  got:  %s\n  want: %s\n", engines[k],
					expects[i].name, e.reason, reason);
				unit_failures++;
			}
			free(reason);
			cJSON_Delete(root);
		}
	}
}

/* The path.repo refusal says why only in caused_by: it is kept after the summary. */
static void cause_appended_to_reason(void)
{
	for (size_t k = 0; k < N_ENGINES; k++) {
		struct esfs_error e;

		mapped(&e, engines[k], "put_repo_outside_path_repo", 500);
		CHECK_STR(e.type, "repository_exception");
		CHECK_STR(e.reason, "[outside] failed to create repository; caused by: [outside] location "
				    "[/tmp/esfs-outside] doesn't match any of the locations specified by path.repo");
	}
}

static const struct unit_case cases[] = {
	{ "missing_is_enoent", missing_is_enoent },
	{ "taken_name_is_eexist", taken_name_is_eexist },
	{ "invalid_request_is_einval", invalid_request_is_einval },
	{ "readonly_repo_is_erofs", readonly_repo_is_erofs },
	{ "restore_refusals", restore_refusals },
	{ "repo_in_use_is_ebusy", repo_in_use_is_ebusy },
	{ "malformed_json_is_einval", malformed_json_is_einval },
	{ "other_errors", other_errors },
	{ "every_recorded_error_has_a_row", every_recorded_error_has_a_row },
	{ "type_and_reason_copied", type_and_reason_copied },
	{ "cause_appended_to_reason", cause_appended_to_reason },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
