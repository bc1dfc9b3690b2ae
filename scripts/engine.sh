#!/usr/bin/env bash
# engine.sh - fetch, start and stop real single-node OpenSearch / Elasticsearch
# engines on loopback, for the esfs tests and demo.
#
#   scripts/engine.sh fetch KIND            download (mvn, Maven Central) + unpack
#   scripts/engine.sh start KIND PORT       start on 127.0.0.1:PORT, print URL
#   scripts/engine.sh stop  KIND PORT [--wipe]
#   scripts/engine.sh pid   KIND PORT       print the engine pid
#   scripts/engine.sh url   KIND PORT       print http://127.0.0.1:PORT (https:// if secure)
#   scripts/engine.sh dir   KIND PORT       print the instance folder
#   scripts/engine.sh repo  KIND PORT       print the path.repo folder
#   scripts/engine.sh versions              newest versions per major on Maven Central
#   scripts/engine.sh jdk   KIND            print the JAVA_HOME the engine runs with
#
# ESFS_ENGINE_PEERS=P1,P2,P3 (HTTP ports): the node at PORT is one member of
# a cluster of those nodes on loopback instead of a single node (start each;
# a start returns once the cluster is yellow, so start them side by side).
#
# ESFS_ENGINE_WAIT_STATUS=red: start waits only for the node to answer with a
# master elected, not for yellow (an engine restarted under a restore may keep
# an index red; tests/test_restart.py).
#
# ESFS_ENGINE_OFFLINE=1 (scripts/test.sh sets it in the tests' network
# namespace, where nothing can be downloaded): an engine, JDK or tool that is
# not here already is an error naming what was not fetched, never a download.
#
# KIND: opensearch (2.x), opensearch3 (3.x), elasticsearch (8.x), elasticsearch7 (7.x),
#       elasticsearch9 (9.x; not published as integ-test-zip, see below),
#       elasticsearch-secure (8.x with security: HTTPS and users, see below).
#
# Layout under ${ESFS_ENGINE_ROOT:-/var/tmp/esfs-engines}:
#   downloads/                 zips copied out of the local Maven repository
#   dist/<name>-<version>/     unpacked distributions (read-only, never modified)
#   KIND-PORT/{config,data,logs,tmp,repo,pid}   one folder per instance
#
# HTTP listens on 127.0.0.1:PORT, transport on 127.0.0.1:PORT+10000
# (override: ESFS_ENGINE_TRANSPORT_PORT).
#
# Engines refuse to run as root, so they run as the system user esfs-engine.
#
# elasticsearch-secure is the elasticsearch distribution with x-pack security
# on: HTTPS (and transport TLS) with a CA and node certificate made by openssl
# on the first start (SAN IP:127.0.0.1, DNS:localhost), and two file-realm
# users: esfs-admin (superuser) and esfs-reader (role esfs_snapshot_reader:
# cluster privileges monitor and monitor_snapshot only). Its url is https://.
# API keys live in the .security index, whose mapping needs the analysis
# components pattern_capture, unique and uax_url_email of the analysis-common
# module, which the integ-test-zip lacks (and which is not on Maven Central).
# So this kind runs on a copy of the dist, dist/<name>-<version>-secure/, with
# a small plugin compiled here (javac) that provides just those three from the
# Lucene classes the dist already ships.
#   <instance>/ca.pem      the CA certificate to trust
#   <instance>/users.env   mode 0600: ESFS_ADMIN_PASSWORD=, ESFS_READER_PASSWORD=,
#                          ESFS_ADMIN_API_KEY= (a fresh API key of esfs-admin on
#                          each start, the base64 "encoded" form)
set -euo pipefail

# Pinned versions. Chosen on 2026-11-21 as the newest release of each major
# line listed in Maven Central's maven-metadata.xml for the integ-test-zip
# artifacts (`scripts/engine.sh versions` shows it again):
#   org.opensearch.distribution.integ-test-zip:opensearch        2.x -> 2.19.6, 3.x -> 3.6.0
#   org.elasticsearch.distribution.integ-test-zip:elasticsearch  8.x -> 8.19.21, 9.x -> none
# Elastic has not published any 9.x integ-test-zip to Maven Central, so
# elasticsearch9 has no default; set ESFS_ELASTICSEARCH9_VERSION if one appears.
: "${ESFS_OPENSEARCH_VERSION:=2.19.6}"
: "${ESFS_OPENSEARCH3_VERSION:=3.6.0}"
: "${ESFS_ELASTICSEARCH_VERSION:=8.19.21}"
: "${ESFS_ELASTICSEARCH7_VERSION:=7.17.29}"
: "${ESFS_ELASTICSEARCH9_VERSION:=}"

: "${ESFS_ENGINE_ROOT:=/var/tmp/esfs-engines}"
: "${ESFS_ENGINE_USER:=esfs-engine}"
: "${ESFS_ENGINE_HEAP:=512m}"
: "${ESFS_ENGINE_TIMEOUT:=180}"          # seconds to wait for yellow
: "${ESFS_ENGINE_STOP_TIMEOUT:=60}"      # seconds between SIGTERM and SIGKILL

OS_GROUP=org.opensearch.distribution.integ-test-zip
ES_GROUP=org.elasticsearch.distribution.integ-test-zip
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.6.1

die() { echo "engine.sh: $*" >&2; exit 1; }
log() { echo "engine.sh: $*" >&2; }

usage() {
	sed -n '2,/^set -e/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2
	exit 2
}

# ---------------------------------------------------------------- helpers

need_root() {
	[ "$(id -u)" -eq 0 ] || die "must run as root (creates user $ESFS_ENGINE_USER, runs engines as it)"
}

# offline_refuse WHAT: dies when downloads are off (ESFS_ENGINE_OFFLINE=1).
offline_refuse() {
	[ -z "${ESFS_ENGINE_OFFLINE:-}" ] && return 0
	die "$1 was not fetched before the network was cut off (ESFS_ENGINE_OFFLINE=1): run scripts/engine.sh fetch first, outside the tests' namespace"
}

apt_install() {
	offline_refuse "Debian package(s) $*"
	log "installing $*"
	if [ -z "${ESFS_APT_UPDATED:-}" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || true
		ESFS_APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

ensure_tools() {
	local missing=() t
	for t in unzip curl; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
	if [ "${#missing[@]}" -gt 0 ]; then
		apt_install "${missing[@]}"
	fi
}

ensure_mvn() {
	command -v mvn >/dev/null 2>&1 && return 0
	apt_install maven
}

ensure_user() {
	id -u "$ESFS_ENGINE_USER" >/dev/null 2>&1 && return 0
	log "creating system user $ESFS_ENGINE_USER"
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$ESFS_ENGINE_USER"
}

# kind_info KIND -> sets NAME GROUP VERSION JMIN JPREF FLAVOR SECURE
kind_info() {
	SECURE=0
	case "$1" in
	opensearch)
		NAME=opensearch GROUP=$OS_GROUP VERSION=$ESFS_OPENSEARCH_VERSION
		JMIN=11 JPREF=17 FLAVOR=os ;;
	opensearch3)
		NAME=opensearch GROUP=$OS_GROUP VERSION=$ESFS_OPENSEARCH3_VERSION
		JMIN=21 JPREF=21 FLAVOR=os ;;
	elasticsearch)
		NAME=elasticsearch GROUP=$ES_GROUP VERSION=$ESFS_ELASTICSEARCH_VERSION
		JMIN=17 JPREF=17 FLAVOR=es ;;
	elasticsearch7)
		NAME=elasticsearch GROUP=$ES_GROUP VERSION=$ESFS_ELASTICSEARCH7_VERSION
		JMIN=11 JPREF=17 FLAVOR=es ;;
	elasticsearch-secure)
		NAME=elasticsearch GROUP=$ES_GROUP VERSION=$ESFS_ELASTICSEARCH_VERSION
		JMIN=17 JPREF=17 FLAVOR=es SECURE=1 ;;
	elasticsearch9)
		NAME=elasticsearch GROUP=$ES_GROUP VERSION=$ESFS_ELASTICSEARCH9_VERSION
		JMIN=21 JPREF=21 FLAVOR=es
		[ -n "$VERSION" ] || die "no Elasticsearch 9.x integ-test-zip is published on Maven Central; set ESFS_ELASTICSEARCH9_VERSION to try one" ;;
	*) die "unknown KIND '$1' (opensearch, opensearch3, elasticsearch, elasticsearch7, elasticsearch9, elasticsearch-secure)" ;;
	esac
	DIST="$ESFS_ENGINE_ROOT/dist/$NAME-$VERSION"
}

# java_major JAVA_HOME -> prints the feature version (17, 21, 25, ...)
java_major() {
	local v=""
	if [ -r "$1/release" ]; then
		v=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$1/release")
	fi
	if [ -z "$v" ]; then
		v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)
	fi
	v=${v#1.}
	echo "${v%%[.+-]*}"
}

# find_jdk MIN PREF -> prints a JAVA_HOME: $ESFS_JAVA_HOME if set, else the
# JDK of major PREF, else the lowest major >= MIN under /usr/lib/jvm.
find_jdk() {
	local min=$1 pref=$2 d m best="" bestm=999
	if [ -n "${ESFS_JAVA_HOME:-}" ]; then
		echo "$ESFS_JAVA_HOME"; return 0
	fi
	for d in /usr/lib/jvm/*; do
		[ -L "$d" ] && continue
		[ -x "$d/bin/java" ] || continue
		m=$(java_major "$d")
		[ -n "$m" ] || continue
		if [ "$m" -eq "$pref" ]; then echo "$d"; return 0; fi
		if [ "$m" -ge "$min" ] && [ "$m" -lt "$bestm" ]; then best=$d bestm=$m; fi
	done
	[ -n "$best" ] && { echo "$best"; return 0; }
	return 1
}

ensure_jdk() {
	local j
	if j=$(find_jdk "$JMIN" "$JPREF"); then echo "$j"; return 0; fi
	if [ "$JMIN" -le 17 ]; then
		apt_install openjdk-17-jdk-headless
		j=$(find_jdk "$JMIN" "$JPREF") && { echo "$j"; return 0; }
	fi
	die "no JDK >= $JMIN found under /usr/lib/jvm (set ESFS_JAVA_HOME)"
}

# ---------------------------------------------------------------- fetch

cmd_fetch() {
	[ $# -eq 1 ] || usage
	kind_info "$1"
	if [ -x "$DIST/bin/$NAME" ]; then
		log "$NAME $VERSION already in $DIST"
		return 0
	fi
	offline_refuse "$1 ($GROUP:$NAME:$VERSION, into $DIST)"
	need_root
	ensure_tools
	ensure_mvn
	# mvn needs a JDK; the engine's own is checked apart (cmd_jdk), so that a
	# machine without the newest JDK can still fetch every engine.
	find_jdk 11 17 >/dev/null || apt_install openjdk-17-jdk-headless
	local dl="$ESFS_ENGINE_ROOT/downloads" zip
	zip="$dl/$NAME-$VERSION.zip"
	mkdir -p "$dl" "$ESFS_ENGINE_ROOT/dist"
	# one fetch at a time (several sessions may share ESFS_ENGINE_ROOT)
	exec 9>"$ESFS_ENGINE_ROOT/.fetch.lock"
	flock 9
	if [ -x "$DIST/bin/$NAME" ]; then
		exec 9>&-
		return 0
	fi
	if [ ! -s "$zip" ]; then
		log "fetching $GROUP:$NAME:$VERSION:zip from Maven Central"
		# run from an empty folder so no stray pom.xml is picked up
		if ! (cd "$dl" && mvn -B -q -Dstyle.color=never "$DEP_PLUGIN:copy" \
			-Dartifact="$GROUP:$NAME:$VERSION:zip" \
			-DoutputDirectory="$dl" -Dmdep.overWriteReleases=true) >"$dl/mvn.log" 2>&1; then
			cat "$dl/mvn.log" >&2
			die "mvn could not fetch $GROUP:$NAME:$VERSION:zip"
		fi
	fi
	local tmp="$ESFS_ENGINE_ROOT/dist/.unpack.$$"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	unzip -q "$zip" -d "$tmp"
	[ -d "$tmp/$NAME-$VERSION" ] || die "unexpected layout in $zip"
	rm -rf "$DIST"
	mv "$tmp/$NAME-$VERSION" "$DIST"
	rm -rf "$tmp"
	chmod -R a+rX "$DIST"
	log "unpacked $NAME $VERSION into $DIST"
	exec 9>&-
}

# ---------------------------------------------------------------- versions

cmd_versions() {
	offline_refuse "the version list of Maven Central"
	ensure_mvn
	local ga g a meta tmp
	tmp=$(mktemp -d)
	for ga in "$OS_GROUP:opensearch" "$ES_GROUP:elasticsearch"; do
		g=${ga%%:*} a=${ga#*:}
		# LATEST makes Maven download (and cache) maven-metadata.xml
		if ! (cd "$tmp" && mvn -B -q -U -Dstyle.color=never "$DEP_PLUGIN:get" \
			-Dtransitive=false -Dartifact="$ga:LATEST:pom") >"$tmp/mvn.log" 2>&1; then
			cat "$tmp/mvn.log" >&2
			die "mvn could not resolve $ga"
		fi
		meta="$HOME/.m2/repository/${g//.//}/$a/maven-metadata-central.xml"
		[ -r "$meta" ] || die "no $meta"
		echo "$ga newest per major:"
		sed -n 's/.*<version>\([0-9.]*\)<\/version>.*/\1/p' "$meta" | sort -V |
			awk -F. '{last[$1]=$0} END {for (m in last) print "  " m ".x -> " last[m]}' | sort -V
	done
	rm -rf "$tmp"
}

# ---------------------------------------------------------------- instances

instance() {
	[ $# -ge 2 ] || usage
	kind_info "$1"
	PORT=$2
	if ! [[ "$PORT" =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65435 ]; then
		die "bad PORT '$PORT'"
	fi
	KIND=$1
	INST="$ESFS_ENGINE_ROOT/$KIND-$PORT"
	PIDFILE="$INST/pid"
	URL="http://127.0.0.1:$PORT"
	[ "$SECURE" -eq 0 ] || URL="https://127.0.0.1:$PORT"
	# transport (node-to-node) port: PORT+10000, away from the 92xx/93xx
	# ports people give to HTTP and below the ephemeral range.
	if [ -n "${ESFS_ENGINE_TRANSPORT_PORT:-}" ]; then
		TPORT=$ESFS_ENGINE_TRANSPORT_PORT
	elif [ "$PORT" -le 55535 ]; then
		TPORT=$((PORT + 10000))
	else
		TPORT=$((PORT - 10000))
	fi
}

# port_busy PORT: something accepts connections on 127.0.0.1:PORT
port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The pid in the pid file, if that process is this instance's engine: a pid
# file left by a machine that stopped may name some other process by now.
running_pid() {
	local p
	[ -r "$PIDFILE" ] || return 1
	p=$(tr -dc '0-9' <"$PIDFILE")
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$INST" || return 1
	echo "$p"
}

healthy() {
	if [ "$SECURE" -eq 1 ]; then
		admin_curl -o /dev/null --max-time 5 \
			"$URL/_cluster/health?wait_for_status=${ESFS_ENGINE_WAIT_STATUS:-yellow}&timeout=${1:-1s}" 2>/dev/null
		return
	fi
	curl -fsS -o /dev/null --max-time 5 \
		"$URL/_cluster/health?wait_for_status=${ESFS_ENGINE_WAIT_STATUS:-yellow}&timeout=${1:-1s}" 2>/dev/null
}

# ---------------------------------------------------------------- security

# users_env_get NAME: the value of NAME= in <instance>/users.env
users_env_get() {
	local v
	[ -r "$INST/users.env" ] || return 1
	v=$(sed -n "s/^$1=//p" "$INST/users.env" | head -n1)
	[ -n "$v" ] || return 1
	echo "$v"
}

# admin_curl ARGS...: curl as esfs-admin over verified TLS. The password goes
# through a config on stdin, never on a command line.
admin_curl() {
	local pw
	pw=$(users_env_get ESFS_ADMIN_PASSWORD) || return 1
	printf 'user = "esfs-admin:%s"\n' "$pw" |
		curl -fsS --cacert "$INST/ca.pem" -K - "$@"
}

# make_certs: a CA and a node certificate for 127.0.0.1/localhost, once per
# instance: config/certs/{ca.crt,node.crt,node.key}, and <instance>/ca.pem.
make_certs() {
	local certs="$INST/config/certs" tmp
	if [ -s "$certs/node.key" ] && [ -s "$certs/node.crt" ] && [ -s "$INST/ca.pem" ] &&
		cmp -s "$certs/ca.crt" "$INST/ca.pem"; then
		return 0
	fi
	command -v openssl >/dev/null 2>&1 || apt_install openssl
	mkdir -p "$certs"
	tmp=$(mktemp -d)
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
		-subj "/CN=esfs test CA $KIND-$PORT" -keyout "$tmp/ca.key" -out "$tmp/ca.crt" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		2>/dev/null || die "openssl could not make the CA"
	openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
		-keyout "$tmp/node.key" -out "$tmp/node.csr" 2>/dev/null || die "openssl could not make a CSR"
	printf '%s\n' "basicConstraints = CA:FALSE" \
		"keyUsage = critical, digitalSignature, keyEncipherment" \
		"extendedKeyUsage = serverAuth, clientAuth" \
		"subjectAltName = IP:127.0.0.1, DNS:localhost" >"$tmp/ext"
	openssl x509 -req -sha256 -days 3650 -in "$tmp/node.csr" -CA "$tmp/ca.crt" \
		-CAkey "$tmp/ca.key" -CAcreateserial -extfile "$tmp/ext" -out "$tmp/node.crt" \
		2>/dev/null || die "openssl could not sign the node certificate"
	install -m 0644 "$tmp/ca.crt" "$certs/ca.crt"
	install -m 0644 "$tmp/node.crt" "$certs/node.crt"
	install -m 0600 "$tmp/node.key" "$certs/node.key"
	install -m 0644 "$tmp/ca.crt" "$INST/ca.pem"
	rm -rf "$tmp"   # the CA key goes: nothing else is ever signed with it
	log "made a CA and a node certificate in $certs (CA: $INST/ca.pem)"
}

# security_config: the security and TLS lines of elasticsearch.yml
security_config() {
	printf '%s\n' \
		"xpack.security.enabled: true" \
		"xpack.security.enrollment.enabled: false" \
		"xpack.security.authc.api_key.enabled: true" \
		"xpack.security.http.ssl.enabled: true" \
		"xpack.security.http.ssl.key: certs/node.key" \
		"xpack.security.http.ssl.certificate: certs/node.crt" \
		"xpack.security.http.ssl.certificate_authorities: [certs/ca.crt]" \
		"xpack.security.transport.ssl.enabled: true" \
		"xpack.security.transport.ssl.verification_mode: certificate" \
		"xpack.security.transport.ssl.key: certs/node.key" \
		"xpack.security.transport.ssl.certificate: certs/node.crt" \
		"xpack.security.transport.ssl.certificate_authorities: [certs/ca.crt]"
}

# secure_dist JDK: DIST becomes the copy of DIST with the analysis shim plugin
# (see the head of this file), made once.
secure_dist() {
	local jdk=$1 base=$DIST plug=esfs-security-analysis tmp
	DIST="$base-secure"
	[ -f "$DIST/plugins/$plug/$plug.jar" ] && return 0
	[ -x "$jdk/bin/javac" ] || die "$jdk has no javac (set ESFS_JAVA_HOME to a JDK)"
	exec 9>"$ESFS_ENGINE_ROOT/.fetch.lock"
	flock 9
	if [ -f "$DIST/plugins/$plug/$plug.jar" ]; then
		exec 9>&-
		return 0
	fi
	log "making $DIST: $base with the $plug plugin"
	tmp="$ESFS_ENGINE_ROOT/dist/.secure.$$"
	rm -rf "$tmp"
	mkdir -p "$tmp/src/esfs" "$tmp/classes"
	shim_source >"$tmp/src/esfs/SecurityAnalysisPlugin.java"
	"$jdk/bin/javac" -nowarn --release 17 -cp "$base/lib/*" -d "$tmp/classes" \
		"$tmp/src/esfs/SecurityAnalysisPlugin.java" >&2 || die "javac failed on the $plug plugin"
	cp -a "$base" "$tmp/dist"
	mkdir -p "$tmp/dist/plugins/$plug"
	"$jdk/bin/jar" cf "$tmp/dist/plugins/$plug/$plug.jar" -C "$tmp/classes" . ||
		die "jar failed on the $plug plugin"
	printf '%s\n' "description=pattern_capture, unique and uax_url_email for the .security index (esfs tests)" \
		"version=$VERSION" "name=$plug" "classname=esfs.SecurityAnalysisPlugin" \
		"java.version=17" "elasticsearch.version=$VERSION" \
		>"$tmp/dist/plugins/$plug/plugin-descriptor.properties"
	chmod -R a+rX "$tmp/dist"
	rm -rf "$DIST"
	mv "$tmp/dist" "$DIST"
	rm -rf "$tmp"
	exec 9>&-
}

shim_source() {
	cat <<'JAVA'
package esfs;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.email.UAX29URLEmailTokenizer;
import org.apache.lucene.analysis.miscellaneous.RemoveDuplicatesTokenFilter;
import org.apache.lucene.analysis.pattern.PatternCaptureGroupTokenFilter;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/** What the .security index mapping needs from the analysis-common module. */
public class SecurityAnalysisPlugin extends Plugin implements AnalysisPlugin {
    private static TokenFilterFactory filter(String name, UnaryOperator<TokenStream> f) {
        return new TokenFilterFactory() {
            public String name() { return name; }
            public TokenStream create(TokenStream in) { return f.apply(in); }
        };
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of(
            "pattern_capture", (is, env, name, s) -> {
                List<Pattern> ps = new ArrayList<>();
                for (String p : s.getAsList("patterns")) ps.add(Pattern.compile(p));
                boolean keep = s.getAsBoolean("preserve_original", true);
                Pattern[] arr = ps.toArray(new Pattern[0]);
                return filter(name, in -> new PatternCaptureGroupTokenFilter(in, keep, arr));
            },
            "unique", (is, env, name, s) -> filter(name, RemoveDuplicatesTokenFilter::new));
    }

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return Map.of("uax_url_email",
            (is, env, name, s) -> TokenizerFactory.newFactory(name, UAX29URLEmailTokenizer::new));
    }
}
JAVA
}

# es_tool NAME ARGS...: a bin/ tool of the distribution, as the engine user
es_tool() {
	local tool=$1
	shift
	(cd "$INST" && runuser -u "$ESFS_ENGINE_USER" -- env -i PATH=/usr/bin:/bin HOME="$INST" \
		ES_JAVA_HOME="$JDK" ES_PATH_CONF="$INST/config" ES_TMPDIR="$INST/tmp" \
		"$DIST/bin/$tool" "$@" </dev/null >>"$INST/logs/tools.log" 2>&1)
}

# make_users: roles.yml and the file-realm users, once per instance (the
# users file lives in the instance config, which survives restarts).
make_users() {
	local conf="$INST/config" admin_pw reader_pw
	printf '%s\n' "# written by scripts/engine.sh" "esfs_snapshot_reader:" \
		"  cluster: [monitor, monitor_snapshot]" >"$conf/roles.yml"
	if users_env_get ESFS_ADMIN_PASSWORD >/dev/null && users_env_get ESFS_READER_PASSWORD >/dev/null &&
		grep -q '^esfs-admin:' "$conf/users" 2>/dev/null &&
		grep -q '^esfs-reader:' "$conf/users" 2>/dev/null; then
		return 0
	fi
	admin_pw=$(openssl rand -hex 16)
	reader_pw=$(openssl rand -hex 16)
	: >"$conf/users"
	: >"$conf/users_roles"
	chown -R "$ESFS_ENGINE_USER:$ESFS_ENGINE_USER" "$INST"
	# the tool takes the password only as -p (a test node on loopback)
	es_tool elasticsearch-users useradd esfs-admin -p "$admin_pw" -r superuser ||
		fail_start "elasticsearch-users useradd esfs-admin failed (see $INST/logs/tools.log)"
	es_tool elasticsearch-users useradd esfs-reader -p "$reader_pw" -r esfs_snapshot_reader ||
		fail_start "elasticsearch-users useradd esfs-reader failed (see $INST/logs/tools.log)"
	(umask 077 && printf 'ESFS_ADMIN_PASSWORD=%s\nESFS_READER_PASSWORD=%s\n' \
		"$admin_pw" "$reader_pw" >"$INST/users.env")
	chmod 0600 "$INST/users.env"
	log "users esfs-admin and esfs-reader made; passwords in $INST/users.env"
}

# make_api_key: a fresh API key of esfs-admin into users.env (ESFS_ADMIN_API_KEY)
make_api_key() {
	local answer key
	answer=$(admin_curl --max-time 30 -X POST -H 'Content-Type: application/json' \
		-d '{"name":"esfs-admin-key"}' "$URL/_security/api_key") ||
		fail_start "POST _security/api_key failed"
	key=$(printf '%s' "$answer" | sed -n 's/.*"encoded" *: *"\([^"]*\)".*/\1/p')
	[ -n "$key" ] || fail_start "no encoded API key in the answer of POST _security/api_key"
	sed -i '/^ESFS_ADMIN_API_KEY=/d' "$INST/users.env"
	echo "ESFS_ADMIN_API_KEY=$key" >>"$INST/users.env"
	chmod 0600 "$INST/users.env"
}

# repo_dir: the node's path.repo (a cluster's members share one).
repo_dir() {
	if [ -n "${ESFS_ENGINE_PEERS:-}" ]; then
		echo "$ESFS_ENGINE_ROOT/$KIND-cluster-${ESFS_ENGINE_PEERS%%,*}-repo"
	else
		echo "$INST/repo"
	fi
}

# cluster_config: the settings of one node of a cluster on loopback.
# ESFS_ENGINE_PEERS lists the HTTP ports of every member (this one too);
# each member's transport port is its HTTP port + 10000, the cluster is
# named after the first, and its members share one path.repo, as the nodes
# of a real cluster share their fs repository's mount.
cluster_config() {
	local first=${ESFS_ENGINE_PEERS%%,*} seeds="" names="" p
	for p in ${ESFS_ENGINE_PEERS//,/ }; do
		seeds="$seeds${seeds:+, }\"127.0.0.1:$((p + 10000))\""
		names="$names${names:+, }\"esfs-$KIND-$p\""
	done
	local repo
	repo=$(repo_dir)
	mkdir -p "$repo"
	chown "$ESFS_ENGINE_USER:" "$repo"
	chmod 2775 "$repo"
	echo "cluster.name: esfs-$KIND-cluster-$first"
	echo "discovery.seed_hosts: [$seeds]"
	if [ "$FLAVOR" = es ]; then
		echo "cluster.initial_master_nodes: [$names]"
	else
		echo "cluster.initial_cluster_manager_nodes: [$names]"
	fi
	echo "path.repo: [\"$repo\"]"
}

# write_config: per-instance copy of the dist config, then our settings.
write_config() {
	local conf="$INST/config" yml jvm tport=$TPORT
	if [ ! -f "$INST/.dist" ] || [ "$(cat "$INST/.dist")" != "$DIST" ]; then
		if [ -d "$INST/data" ] && [ -f "$INST/.dist" ]; then
			die "$INST was made by $(cat "$INST/.dist"), not $DIST; stop with --wipe first"
		fi
		rm -rf "$conf"
		cp -a "$DIST/config" "$conf"
		echo "$DIST" >"$INST/.dist"
	fi
	yml="$conf/$NAME.yml"
	cat >"$yml" <<EOF
# written by scripts/engine.sh; edits are overwritten on each start
node.name: esfs-$KIND-$PORT
network.host: 127.0.0.1
http.port: $PORT
transport.port: $tport
path.data: $INST/data
path.logs: $INST/logs
cluster.routing.allocation.disk.threshold_enabled: false
EOF
	if [ -n "${ESFS_ENGINE_PEERS:-}" ]; then
		cluster_config >>"$yml"
	else
		printf 'cluster.name: esfs-%s-%s\ndiscovery.type: single-node\npath.repo: ["%s"]\n' \
			"$KIND" "$PORT" "$INST/repo" >>"$yml"
	fi
	if [ "$SECURE" -eq 1 ]; then
		security_config >>"$yml"
	elif [ "$FLAVOR" = es ] && [ -d "$DIST/modules/x-pack-security" ]; then
		cat >>"$yml" <<EOF
xpack.security.enabled: false
EOF
	fi
	if [ "$FLAVOR" = es ] && [ -d "$DIST/modules/ingest-geoip" ]; then
		echo "ingest.geoip.downloader.enabled: false" >>"$yml"
	fi
	# jvm.options of the dist: drop heap, heap dump and gc log lines (they use
	# paths relative to the dist, which the engine user may not write).
	jvm="$conf/jvm.options"
	grep -vE '^[0-9-]*:?-(Xms|Xmx|Xlog|Xloggc|XX:\+HeapDumpOnOutOfMemoryError|XX:HeapDumpPath|XX:ErrorFile|XX:\+PrintGC|XX:\+PrintTenuring|XX:\+UseGCLogFileRotation|XX:NumberOfGCLogFiles|XX:GCLogFileSize)' \
		"$DIST/config/jvm.options" >"$jvm"
	mkdir -p "$conf/jvm.options.d"
	cat >"$conf/jvm.options.d/esfs.options" <<EOF
# written by scripts/engine.sh: small heap, fast start-up for a test node
-Xms$ESFS_ENGINE_HEAP
-Xmx$ESFS_ENGINE_HEAP
-XX:ErrorFile=$INST/logs/hs_err_pid%p.log
-XX:-UsePerfData
-XX:TieredStopAtLevel=1
-XX:+UseSerialGC
-XX:-AlwaysPreTouch
${ESFS_ENGINE_JVM_OPTS:-}
EOF
	# C1 only, serial GC, no heap pre-touch: measured on 2 cores, OpenSearch
	# starts in ~4.8s instead of ~6.5s, Elasticsearch in ~7.5s instead of ~11s.
	# ESFS_ENGINE_JVM_OPTS (one option per line) is appended last and wins.
	sed -i '/-XX:+UseG1GC/d; /-XX:G1ReservePercent/d; /-XX:InitiatingHeapOccupancyPercent/d' "$jvm"
}

cmd_start() {
	[ $# -eq 2 ] || usage
	instance "$@"
	need_root
	local p
	if p=$(running_pid); then
		if healthy 30s; then
			log "$KIND already running on $URL (pid $p)"
			echo "$URL"
			return 0
		fi
		die "$KIND-$PORT has pid $p but $URL is not healthy; stop it first"
	fi
	port_busy "$PORT" && die "something else already listens on 127.0.0.1:$PORT"
	port_busy "$TPORT" && die "transport port 127.0.0.1:$TPORT is taken (set ESFS_ENGINE_TRANSPORT_PORT)"
	cmd_fetch "$KIND"
	ensure_tools
	ensure_user
	local jdk
	jdk=$(ensure_jdk)
	JDK=$jdk
	case "$ESFS_ENGINE_ROOT" in /*) ;; *) die "ESFS_ENGINE_ROOT must be absolute" ;; esac
	# The engine runs as $ESFS_ENGINE_USER, who must reach its folders under
	# the root: one made by mktemp -d is 0700.
	chmod go+x "$ESFS_ENGINE_ROOT"
	[ "$SECURE" -eq 0 ] || secure_dist "$jdk"
	mkdir -p "$INST"/{data,logs,tmp,repo}
	write_config
	if [ "$SECURE" -eq 1 ]; then
		[ -d "$DIST/modules/x-pack-security" ] || die "$DIST has no x-pack-security module"
		make_certs
		make_users
	fi
	chown -R "$ESFS_ENGINE_USER:$ESFS_ENGINE_USER" "$INST"
	# users.env (0600) and ca.pem stay root's
	[ ! -e "$INST/users.env" ] || chown root:root "$INST/users.env"
	[ ! -e "$INST/ca.pem" ] || chown root:root "$INST/ca.pem"
	chmod 0755 "$INST"
	chmod 2775 "$INST/repo"
	runuser -u "$ESFS_ENGINE_USER" -- test -w "$INST/repo" ||
		die "$ESFS_ENGINE_USER cannot write $INST/repo (is a parent folder closed?)"
	rm -f "$PIDFILE"

	local t0 envs=()
	t0=$(date +%s.%N)
	if [ "$FLAVOR" = os ]; then
		envs=(OPENSEARCH_JAVA_HOME="$jdk" OPENSEARCH_PATH_CONF="$INST/config"
			OPENSEARCH_TMPDIR="$INST/tmp")
	else
		envs=(ES_JAVA_HOME="$jdk" ES_PATH_CONF="$INST/config" ES_TMPDIR="$INST/tmp")
	fi
	log "starting $NAME $VERSION on $URL (java $(java_major "$jdk") from $jdk)"
	# -d: the launcher daemonizes the engine and -p makes it write its pid.
	if ! (cd "$INST" && runuser -u "$ESFS_ENGINE_USER" -- env -i PATH=/usr/bin:/bin \
		HOME="$INST" "${envs[@]}" "$DIST/bin/$NAME" -d -p "$PIDFILE" \
		</dev/null >>"$INST/logs/launcher.log" 2>&1); then
		fail_start "launcher failed"
	fi
	local deadline=$((SECONDS + ESFS_ENGINE_TIMEOUT))
	while :; do
		if healthy 1s; then break; fi
		if [ -s "$PIDFILE" ] && ! running_pid >/dev/null; then
			fail_start "engine exited"
		fi
		[ "$SECONDS" -lt "$deadline" ] || fail_start "not ${ESFS_ENGINE_WAIT_STATUS:-yellow} after ${ESFS_ENGINE_TIMEOUT}s"
		sleep 0.25
	done
	[ "$SECURE" -eq 0 ] || make_api_key
	log "$KIND up on $URL (pid $(running_pid || echo '?')) in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s; path.repo=$(repo_dir)"
	echo "$URL"
}

fail_start() {
	log "start of $KIND on $URL failed: $1"
	local f
	for f in "$INST/logs/launcher.log" "$INST/logs/esfs-$KIND-$PORT.log"; do
		[ -s "$f" ] || continue
		echo "----- tail $f" >&2
		tail -n 40 "$f" >&2
	done
	exit 1
}

cmd_stop() {
	local wipe=0 args=() a
	for a in "$@"; do
		case "$a" in --wipe) wipe=1 ;; *) args+=("$a") ;; esac
	done
	[ "${#args[@]}" -eq 2 ] || usage
	instance "${args[@]}"
	local p n
	if p=$(running_pid); then
		kill -TERM "$p"
		n=0
		while kill -0 "$p" 2>/dev/null; do
			if [ "$n" -ge $((ESFS_ENGINE_STOP_TIMEOUT * 4)) ]; then
				log "pid $p still alive after ${ESFS_ENGINE_STOP_TIMEOUT}s, SIGKILL"
				kill -KILL "$p" 2>/dev/null || true
				break
			fi
			sleep 0.25
			n=$((n + 1))
		done
		log "stopped $KIND-$PORT (pid $p)"
	else
		log "$KIND-$PORT is not running"
	fi
	rm -f "$PIDFILE"
	if [ "$wipe" -eq 1 ]; then
		rm -rf "$INST"
		log "wiped $INST"
	fi
}

cmd_pid() {
	[ $# -eq 2 ] || usage
	instance "$@"
	running_pid || die "$KIND-$PORT is not running"
}

main() {
	[ $# -ge 1 ] || usage
	local cmd=$1
	shift
	case "$cmd" in
	fetch) cmd_fetch "$@" ;;
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	pid) cmd_pid "$@" ;;
	url) [ $# -eq 2 ] || usage; instance "$@"; echo "$URL" ;;
	dir) [ $# -eq 2 ] || usage; instance "$@"; echo "$INST" ;;
	repo) [ $# -eq 2 ] || usage; instance "$@"; repo_dir ;;
	versions) cmd_versions ;;
	jdk) [ $# -eq 1 ] || usage; kind_info "$1"; ensure_jdk ;;
	-h | --help | help) usage ;;
	*) usage ;;
	esac
}

main "$@"
