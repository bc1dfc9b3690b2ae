/*
 * esfs: mount an Elasticsearch or OpenSearch cluster's snapshot repositories
 * as a directory tree.
 *
 *   esfs [options] URL[,URL...] MOUNTPOINT
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/aws/sign.h"
#include "client/api.h"
#include "client/client.h"
#include "client/credentials.h"
#include "client/log.h"
#include "client/sdnotify.h"
#include "client/statedir.h"
#include "client/sys.h"
#include "fs/notify.h"
#include "fs/ops.h"
#include "fs/service.h"
#include "fs/tree.h"

struct options {
	char *urls;
	char *credentials;
	char *cacert;
	char *connect_timeout;
	char *timeout;
	char *write_timeout;
	char *cache_ttl;
	char *aws_region;
	char *aws_service;
	char *log_level;
	char *logfile;
	char *state_dir;
	char *wait_for_cluster;
	char *compression;
	char *mountpoint;
	int aws_sigv4;
	int insecure;
	int nodelete;
	int read_only;
	int foreground;
	int debug;
	int show_help;
	int show_version;
	int positional;
	struct aws_signer *aws_signer;
	char *state_root;	/* state_dir made absolute, or the default */
	double wait_seconds;	/* wait_for_cluster; 0: mount at once */
};

enum { KEY_HELP, KEY_VERSION, KEY_RO, KEY_FOREGROUND, KEY_DEBUG };

#define OPT(t, p) { t, offsetof(struct options, p), 1 }
static const struct fuse_opt option_spec[] = {
	OPT("credentials=%s", credentials),
	OPT("cacert=%s", cacert),
	OPT("connect_timeout=%s", connect_timeout),
	OPT("timeout=%s", timeout),
	OPT("write_timeout=%s", write_timeout),
	OPT("nodelete", nodelete),
	OPT("cache_ttl=%s", cache_ttl),
	OPT("insecure", insecure),
	OPT("aws_sigv4", aws_sigv4),
	OPT("aws_region=%s", aws_region),
	OPT("aws_service=%s", aws_service),
	OPT("log_level=%s", log_level),
	OPT("logfile=%s", logfile),
	OPT("state_dir=%s", state_dir),
	OPT("wait_for_cluster=%s", wait_for_cluster),
	OPT("compression=%s", compression),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_KEY("ro", KEY_RO),
	FUSE_OPT_KEY("-f", KEY_FOREGROUND),
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_KEY("debug", KEY_DEBUG),
	FUSE_OPT_END
};

static void usage(const char *prog)
{
	printf("usage: %s [options] URL[,URL...] MOUNTPOINT\n\n"
	       "Mounts an Elasticsearch or OpenSearch cluster's snapshot repositories.\n"
	       "Several URLs are nodes of one cluster; a node that does not answer is skipped.\n\n"
	       "esfs options:\n"
	       "    -o credentials=FILE    user=, password= or api_key= lines; mode 0600 only\n"
	       "    -o cacert=FILE         CA certificates to verify the cluster's TLS certificate\n"
	       "    -o insecure            do not verify the cluster's TLS certificate\n"
	       "    -o connect_timeout=S   seconds to wait for a connection (default 3)\n"
	       "    -o timeout=S           seconds a read request may take in all (default 10)\n"
	       "    -o write_timeout=S     seconds a request that changes something may take (default 60)\n"
	       "    -o nodelete            refuse every delete (snapshot, repository, restore cancel)\n"
	       "    -o cache_ttl=S         seconds an answer is reused (default 2; 0 disables)\n"
	       "    -o compression=C       gzip, none, or auto (default): gzip from every node\n"
	       "                           but one on this machine's loopback\n"
	       "    -o attr_timeout=S      seconds the kernel keeps sizes and times (default cache_ttl)\n"
	       "    -o entry_timeout=S     seconds the kernel keeps names (default cache_ttl)\n"
	       "    -o ro                  refuse every change\n"
	       "    -o aws_sigv4           sign requests for Amazon OpenSearch Service with the\n"
	       "                           AWS credential chain (environment, ~/.aws, container,\n"
	       "                           instance metadata)\n"
	       "    -o aws_region=R        the domain's region (default: from the endpoint name)\n"
	       "    -o aws_service=S       es (default) or aoss\n"
	       "    -o log_level=L         error, warn, info or debug (every request); default info,\n"
	       "                           debug with -d\n"
	       "    -o logfile=FILE        log to FILE (appended to; reopened on SIGHUP) instead of\n"
	       "                           stderr with -f or syslog (identifier esfs) in the background\n"
	       "    -o wait_for_cluster=S  wait up to S seconds at start for a node to answer, else\n"
	       "                           exit 1 and mount nothing (default: mount at once, and\n"
	       "                           the tree reports a cluster that does not answer)\n"
	       "    -o state_dir=DIR       where _defaults.json, pending repositories, restore\n"
	       "                           records and snapshot start times are kept between\n"
	       "                           mounts, per cluster UUID\n"
	       "                           (default /var/lib/esfs for root, else\n"
	       "                           $XDG_STATE_HOME/esfs or ~/.local/state/esfs)\n\n"
	       "Under systemd, esfs -f in a Type=notify unit sends READY=1 once the mount answers.\n"
	       "SIGHUP reopens the log file and drops esfs's cache, as echo 1 > MOUNTPOINT/_esfs/flush does.\n\n"
	       "Credentials come from ESFS_USER and ESFS_PASSWORD, or ESFS_API_KEY, or the\n"
	       "credentials file; never from the command line.\n\n",
	       prog);
}

static int on_option(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct options *o = data;

	(void)outargs;
	switch (key) {
	case KEY_HELP:		o->show_help = 1; return 0;
	case KEY_VERSION:	o->show_version = 1; return 0;
	case KEY_RO:		o->read_only = 1; return 1;
	case KEY_FOREGROUND:	o->foreground = 1; return 1;
	case KEY_DEBUG:		o->debug = o->foreground = 1; return 1;
	case FUSE_OPT_KEY_NONOPT:
		/* The URLs, then the mount point, which FUSE keeps (and esfs notes, for readiness). */
		if (o->positional++ == 0) {
			o->urls = strdup(arg);
			return 0;
		}
		if (o->positional == 2)
			o->mountpoint = strdup(arg);
		return 1;
	default:
		return 1;
	}
}

/*
 * A number of seconds from min to a day. Timeouts have a minimum of 1: curl
 * takes 0 as "no timeout at all", and a shorter one fails every request.
 */
static int parse_seconds(const char *text, const char *name, double fallback, double min,
			 double *out)
{
	char *end;
	double value;

	if (!text) {
		*out = fallback;
		return 0;
	}
	errno = 0;
	value = strtod(text, &end);
	if (errno || end == text || *end || !(value >= min && value <= 86400)) {
		fprintf(stderr, "esfs: %s=%s: expected a number of seconds from %g to 86400\n", name,
			text, min);
		return -1;
	}
	*out = value;
	return 0;
}

/*
 * A file named by an option, made absolute now: once esfs runs in the
 * background its working directory is /, and a relative name would name
 * another file (or none) at the first request.
 */
static int make_absolute(char **path, const char *name)
{
	char *abs;

	if (!*path)
		return 0;
	abs = realpath(*path, NULL);
	if (!abs) {
		fprintf(stderr, "esfs: %s=%s: %s\n", name, *path, strerror(errno));
		return -1;
	}
	free(*path);
	*path = abs;
	return 0;
}

/* Splits URL[,URL...]; refuses credentials inside a URL, where ps would show them. */
static int parse_urls(char *list, struct http_config *hc)
{
	for (char *save = NULL, *url = strtok_r(list, ",", &save); url; url = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(url);
		char **grown;

		while (n && url[n - 1] == '/')
			url[--n] = '\0';
		if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
			fprintf(stderr, "esfs: %s: expected an http:// or https:// URL\n", url);
			return -1;
		}
		if (strchr(url + 8, '@')) {
			fprintf(stderr, "esfs: credentials do not belong in the URL; use ESFS_USER/ESFS_PASSWORD or -o credentials=FILE\n");
			return -1;
		}
		grown = realloc(hc->urls, sizeof(*hc->urls) * (size_t)(hc->nurls + 1));
		if (!grown)
			return -1;
		hc->urls = grown;
		hc->urls[hc->nurls++] = url;
	}
	if (hc->nurls == 0) {
		fprintf(stderr, "esfs: no cluster URL given\n");
		return -1;
	}
	return 0;
}

static int parse_compression(const char *value, enum http_compression *mode)
{
	static const char *const names[] = {
		[HTTP_COMPRESSION_AUTO] = "auto",
		[HTTP_COMPRESSION_GZIP] = "gzip",
		[HTTP_COMPRESSION_NONE] = "none",
	};

	if (!value)
		value = names[HTTP_COMPRESSION_AUTO];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(value, names[i])) {
			*mode = (enum http_compression)i;
			return 0;
		}
	fprintf(stderr, "esfs: compression=%s: expected auto, gzip or none\n", value);
	return -1;
}

/* -o log_level=, else debug with -d, else what esfs always logged. */
static int parse_log_level(const struct options *o, int *level)
{
	if (!o->log_level) {
		*level = o->debug ? LOG_DEBUG : LOG_LEVEL_DEFAULT;
		return 0;
	}
	*level = log_level_parse(o->log_level);
	if (*level >= 0)
		return 0;
	fprintf(stderr, "esfs: log_level=%s: expected error, warn, info or debug\n", o->log_level);
	return -1;
}

/*
 * The log goes where it will stay once mounted; before, the probe's line
 * went to the terminal. Opened now, so that a file esfs cannot write is an
 * error before mounting, not a log that is silently missing.
 */
static int start_logging(const struct options *o, int level)
{
	int rc = log_init(o->foreground, level, o->logfile);

	if (rc)
		fprintf(stderr, "esfs: logfile=%s: %s\n", o->logfile, strerror(-rc));
	return rc;
}

static int load_credentials(const struct options *o, struct credentials *cred)
{
	char why[512];

	credentials_from_env(cred);
	if (o->credentials && credentials_from_file(o->credentials, cred, why, sizeof(why))) {
		fprintf(stderr, "esfs: credentials: %s\n", why);
		return -1;
	}
	if (credentials_check(cred, why, sizeof(why))) {
		fprintf(stderr, "esfs: credentials: %s\n", why);
		return -1;
	}
	return 0;
}

/* Basic auth and API keys would send a second Authorization header beside SigV4's. */
static int setup_aws_signer(struct options *o, const struct credentials *cred, struct esfs_mount *m)
{
	char why[1024];

	if (!o->aws_sigv4) {
		if (!o->aws_region && !o->aws_service)
			return 0;
		fprintf(stderr, "esfs: aws_region and aws_service go with -o aws_sigv4\n");
		return -1;
	}
	if (cred->user || cred->api_key) {
		fprintf(stderr, "esfs: aws_sigv4 signs with AWS credentials; unset ESFS_USER/ESFS_API_KEY or drop them from the credentials file\n");
		return -1;
	}
	/* The request timeout bounds credential fetches too: each one holds up a request. */
	o->aws_signer = aws_signer_new(m->http.urls[0], o->aws_region, o->aws_service,
				       m->http.timeout_ms, why, sizeof(why));
	if (!o->aws_signer) {
		fprintf(stderr, "esfs: aws_sigv4: %s\n", why);
		return -1;
	}
	m->http.signer = aws_signer_hook(o->aws_signer);
	return 0;
}

/*
 * The state directory's root, absolute (the daemon's working directory is
 * /). Nothing is made here: only at the first change to keep, once the
 * cluster's UUID is known.
 */
static int choose_state_root(struct options *o)
{
	o->state_root = o->state_dir ? path_absolute(o->state_dir) : statedir_default_root();
	if (o->state_dir && !o->state_dir[0]) {
		fprintf(stderr, "esfs: state_dir= needs a directory\n");
		return -1;
	}
	if (!o->state_root)
		fprintf(stderr, "esfs: no state directory (no HOME): the state is kept in memory only\n");
	return 0;
}

/* The mount point as FUSE will see it, for the readiness check that stats a file in it. */
static void note_mountpoint(struct options *o, struct esfs_mount *m)
{
	char *abs = o->mountpoint ? realpath(o->mountpoint, NULL) : NULL;

	if (!abs && o->mountpoint)
		abs = path_absolute(o->mountpoint);
	if (abs) {
		free(o->mountpoint);
		o->mountpoint = abs;
	}
	m->mountpoint = o->mountpoint;
}

static int build_mount(struct options *o, struct credentials *cred, struct esfs_mount *m)
{
	double connect_timeout, timeout, write_timeout;

	if (parse_seconds(o->connect_timeout, "connect_timeout", 3, 1, &connect_timeout) ||
	    parse_seconds(o->timeout, "timeout", 10, 1, &timeout) ||
	    parse_seconds(o->write_timeout, "write_timeout", 60, 1, &write_timeout) ||
	    parse_seconds(o->cache_ttl, "cache_ttl", 2, 0, &m->cache_ttl) ||
	    parse_seconds(o->wait_for_cluster, "wait_for_cluster", 0, 1, &o->wait_seconds) ||
	    parse_compression(o->compression, &m->http.compression) ||
	    make_absolute(&o->cacert, "cacert") || make_absolute(&o->credentials, "credentials") ||
	    choose_state_root(o))
		return -1;
	m->http.connect_timeout_ms = (long)(connect_timeout * 1000);
	m->http.timeout_ms = (long)(timeout * 1000);
	m->http.write_timeout_ms = (long)(write_timeout * 1000);
	if (parse_urls(o->urls, &m->http) || load_credentials(o, cred) ||
	    setup_aws_signer(o, cred, m))
		return -1;
	m->nodelete = o->nodelete;
	m->http.user = cred->user;
	m->http.password = cred->password;
	m->http.api_key = cred->api_key;
	m->http.cacert = o->cacert;
	m->http.insecure = o->insecure;
	m->read_only = o->read_only;
	m->state_root = o->state_root;
	note_mountpoint(o, m);
	return 0;
}

/*
 * Timeouts no longer than what is left of the wait (at least 1 ms: curl
 * takes 0 as none); deadline 0: the usual ones. The client reads hc at each
 * request, so each request is cut to the time left when it starts.
 */
static void cap_timeouts(struct http_config *hc, const struct http_config *usual, double deadline)
{
	long left = (long)((deadline - monotonic_seconds()) * 1000);

	hc->connect_timeout_ms = usual->connect_timeout_ms;
	hc->timeout_ms = usual->timeout_ms;
	if (deadline <= 0)
		return;
	if (left < 1)
		left = 1;
	if (hc->connect_timeout_ms > left)
		hc->connect_timeout_ms = left;
	if (hc->timeout_ms > left)
		hc->timeout_ms = left;
}

/*
 * One attempt: the engine, then the cluster's UUID (the key of its state;
 * when it cannot be had now, the state is found later). deadline: when the
 * wait ends (monotonic seconds), 0 for none.
 */
static int probe_once(struct esfs_mount *m, double deadline, struct esfs_error *err)
{
	struct http_config hc = m->http;
	struct esfs_error uuid_err = { 0 };
	struct engine engine;
	struct client *cl;
	int rc;

	cap_timeouts(&hc, &m->http, deadline);
	/* A cache for the attempt's own requests: the UUID comes from the GET / that named the engine. */
	cl = client_new(&hc, 60);
	memset(err, 0, sizeof(*err));
	if (!cl) {
		errmap_set(err, ENOMEM, "out_of_memory", "cannot set up the HTTP client");
		return -ENOMEM;
	}
	rc = api_engine(cl, &engine, err);
	if (rc == 0) {
		m->engine = engine;
		log_info("%s %s at %s", engine_name(engine.kind), engine.version, client_node_url(cl));
		cap_timeouts(&hc, &m->http, deadline);
		if (m->state_root && api_cluster_uuid(cl, m->cluster_uuid, sizeof(m->cluster_uuid), &uuid_err))
			log_warn("the cluster's UUID is not known yet (%s: %s): its state is loaded once it is",
				 uuid_err.type, uuid_err.reason);
	}
	client_free(cl);
	return rc;
}

/* Says why the wait failed, on the terminal and to systemd (whose unit then fails). */
static void report_no_cluster(const struct options *o, const char *notify_socket,
			      const struct esfs_error *err)
{
	char status[800];

	snprintf(status, sizeof(status), "STATUS=no node answered within %g seconds: %s (%s: %s)",
		 o->wait_seconds, errmap_errno_name(err->err), err->type, err->reason);
	fprintf(stderr, "esfs: %s; nothing is mounted\n", status + 7);
	if (notify_socket)
		sdnotify_send(notify_socket, status);
}

/*
 * Requests before mounting, so that a wrong URL or password is said on the
 * terminal and the cluster's state is found. Without wait_for_cluster the
 * mount goes on regardless: a cluster may come back. With it, esfs asks
 * again (twice a second) until a node answers or the time is up, and no
 * request outlasts the time left: -1 then, and nothing is mounted.
 */
static int probe_cluster(const struct options *o, struct esfs_mount *m, const char *notify_socket)
{
	double deadline = o->wait_seconds > 0 ? monotonic_seconds() + o->wait_seconds : 0, left;
	struct esfs_error err;
	int rc;

	while ((rc = probe_once(m, deadline, &err)) && deadline > 0 &&
	       (left = deadline - monotonic_seconds()) > 0)
		usleep((useconds_t)((left < 0.5 ? left : 0.5) * 1e6));
	if (rc && o->wait_seconds > 0) {
		report_no_cluster(o, notify_socket, &err);
		return -1;
	}
	if (rc)
		log_warn("cluster not usable yet: %s (%s: %s)", errmap_errno_name(err.err), err.type,
			 err.reason);
	return 0;
}

static void print_version(void)
{
	printf("esfs %s\nlibfuse %s\n%s\ncJSON %s\n", ESFS_VERSION, fuse_pkgversion(),
	       curl_version(), cJSON_Version());
}

static int show_help(struct fuse_args *args)
{
	usage(args->argv[0]);
	/* libfuse lists its own options; an empty program name stops it repeating the usage line. */
	args->argv[0][0] = '\0';
	fuse_opt_add_arg(args, "--help");
	return fuse_main(args->argc, args->argv, &esfs_ops, NULL);
}

/*
 * Defaults go first so that the user's own -o options, later on the line,
 * win. Each is an argument of its own, so that no URL can push one out.
 * max_threads is set because the blocking reads (wait) hold a worker each:
 * fs/actions.c lets fewer than half of them block, so that the others stay
 * free for everything else, the kernel's interrupts (Ctrl-C) included.
 * max_idle_threads is set because libfuse 3.14 otherwise warns about its own
 * default ("Ignoring invalid max threads value"). default_permissions makes
 * the kernel apply the modes esfs shows, so that with allow_other only the
 * mounting user can start a restore or a delete. The kernel keeps names and
 * attributes as long as esfs keeps answers: -o entry_timeout= and
 * -o attr_timeout= (libfuse's own) set them apart.
 */
static int add_default_options(struct fuse_args *args, const char *url, double cache_ttl)
{
	static const char *const fixed[] = {
		"-odefault_permissions",
		"-osubtype=esfs",
		"-omax_threads=" ESFS_STRINGIFY(ESFS_MAX_THREADS) ",max_idle_threads=16",
	};
	char *fsname, *timeouts;
	int rc = 0;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && !rc; i++)
		rc = fuse_opt_insert_arg(args, (int)i + 1, fixed[i]);
	if (rc || asprintf(&timeouts, "-oentry_timeout=%g,attr_timeout=%g", cache_ttl, cache_ttl) < 0)
		return -1;
	rc = fuse_opt_insert_arg(args, 1, timeouts);
	free(timeouts);
	if (rc || asprintf(&fsname, "-ofsname=%s", url) < 0)
		return -1;
	rc = fuse_opt_insert_arg(args, 1, fsname);
	free(fsname);
	return rc;
}

/* SIGHUP is esfs's before fuse_main, or libfuse's handler would unmount on it (fs/service.h). */
static int serve(struct fuse_args *args, struct esfs_mount *m)
{
	int rc = service_signals_install();

	if (rc) {
		fprintf(stderr, "esfs: cannot take SIGHUP: %s\n", strerror(-rc));
		return 1;
	}
	if (esfs_mount_prepare(m)) {
		fprintf(stderr, "esfs: cannot set up the HTTP client: out of memory\n");
		return 1;
	}
	rc = fuse_main(args->argc, args->argv, &esfs_ops, m);
	/* systemctl stop (SIGTERM) is a clean end, not fuse_main's failure 8. */
	return rc == 8 && notify_stopped_by_signal() ? 0 : rc;
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = { 0 };
	struct credentials cred = { 0 };
	struct esfs_mount m = { 0 };
	/* Taken first, before any thread: nothing esfs starts inherits it. */
	char *notify_socket = sdnotify_take_socket();
	int rc = 1, level = LOG_LEVEL_DEFAULT;

	m.notify_socket = notify_socket;
	if (fuse_opt_parse(&args, &o, option_spec, on_option)) {
		free(notify_socket);
		return 1;
	}
	if (o.show_version) {
		print_version();
		rc = 0;
	} else if (o.show_help) {
		rc = show_help(&args);
	} else if (o.positional != 2) {
		usage(argv[0]);
	} else if (parse_log_level(&o, &level) == 0 && build_mount(&o, &cred, &m) == 0 &&
		   add_default_options(&args, m.http.urls[0], m.cache_ttl) == 0) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		log_init(1, level, NULL);
		if (probe_cluster(&o, &m, notify_socket) == 0 && start_logging(&o, level) == 0)
			rc = serve(&args, &m);
		esfs_mount_release(&m);
		curl_global_cleanup();
	}
	credentials_clear(&cred);
	free(m.http.urls);
	free(o.urls);
	free(o.credentials);
	free(o.cacert);
	free(o.connect_timeout);
	free(o.timeout);
	free(o.write_timeout);
	free(o.cache_ttl);
	aws_signer_free(o.aws_signer);
	free(o.aws_region);
	free(o.aws_service);
	free(o.log_level);
	free(o.logfile);
	free(o.state_dir);
	free(o.state_root);
	free(o.wait_for_cluster);
	free(o.compression);
	free(o.mountpoint);
	free(notify_socket);
	fuse_opt_free_args(&args);
	return rc;
}
