#!/usr/bin/env bash
# seed-demo.sh URL [REPO_NAME] [LOCATION]
#
# Seeds a running OpenSearch / Elasticsearch engine with demo data for esfs:
#   - an `fs` snapshot repository REPO_NAME (default: demo) at LOCATION
#     (default: $ESFS_REPO_LOCATION, else <first path.repo of the node>/REPO_NAME)
#   - 3 small indices demo-logs, demo-metrics, demo-users (1 shard, 0 replicas)
#   - 3 snapshots (wait_for_completion=true):
#       nightly-1  all three indices
#       nightly-2  demo-logs, demo-metrics (after more documents were added)
#       nightly-3  demo-users
# Re-running is safe: existing indices, documents (fixed ids) and snapshots
# are kept as they are. Needs only bash and curl.
#
#   scripts/engine.sh start opensearch 9201
#   scripts/seed-demo.sh http://127.0.0.1:9201
set -euo pipefail

die() { echo "seed-demo.sh: $*" >&2; exit 1; }
log() { echo "seed-demo.sh: $*" >&2; }

{ [ $# -ge 1 ] && [ $# -le 3 ]; } || die "usage: seed-demo.sh URL [REPO_NAME] [LOCATION]"
URL=${1%/}
REPO=${2:-demo}
LOCATION=${3:-${ESFS_REPO_LOCATION:-}}
command -v curl >/dev/null 2>&1 || die "curl is required"

BODY=""
STATUS=""
# req METHOD PATH [JSON|@FILE] -> sets STATUS and BODY
req() {
	local out args=(-sS -o - -w '\n%{http_code}' -X "$1" "$URL$2")
	if [ $# -ge 3 ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$3")
	fi
	out=$(curl "${args[@]}") || die "$1 $2: curl failed"
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
}

# must METHOD PATH [BODY] -- accepts 2xx only
must() {
	req "$@"
	case "$STATUS" in 2??) ;; *) die "$1 $2 -> $STATUS: $BODY" ;; esac
}

req GET /
case "$STATUS" in
2??|405) ;;   # 405: Elasticsearch integ-test-zip has no GET / handler
*) die "no engine answering at $URL (status $STATUS)" ;;
esac

if [ -z "$LOCATION" ]; then
	must GET "/_nodes/_local/settings?filter_path=nodes.*.settings.path.repo"
	# {"nodes":{"ID":{"settings":{"path":{"repo":["/a","/b"]}}}}} or "repo":"/a"
	first=$(printf '%s' "$BODY" | sed -n 's/.*"repo":\[\{0,1\}"\([^"]*\)".*/\1/p')
	[ -n "$first" ] || die "the node has no path.repo; give LOCATION"
	LOCATION="$first/$REPO"
fi

req GET "/_snapshot/$REPO"
if [ "$STATUS" = 200 ]; then
	log "repository $REPO already registered"
else
	must PUT "/_snapshot/$REPO" "{\"type\":\"fs\",\"settings\":{\"location\":\"$LOCATION\",\"compress\":true}}"
	log "registered fs repository $REPO at $LOCATION"
fi

index() {
	local name=$1 mapping=$2
	req PUT "/$name" "{\"settings\":{\"number_of_shards\":1,\"number_of_replicas\":0},\"mappings\":{\"properties\":$mapping}}"
	case "$STATUS" in
	200) log "created index $name" ;;
	400) case "$BODY" in *resource_already_exists_exception*) ;; *) die "PUT /$name -> $STATUS: $BODY" ;; esac ;;
	*) die "PUT /$name -> $STATUS: $BODY" ;;
	esac
}

bulk() {
	must POST "/_bulk?refresh=true" "$1"
	case "$BODY" in *'"errors":false'*) ;; *) die "bulk failed: $BODY" ;; esac
}

snapshot() {
	local name=$1 indices=$2
	req GET "/_snapshot/$REPO/$name"
	if [ "$STATUS" = 200 ]; then
		log "snapshot $REPO/$name already exists"
		return 0
	fi
	must PUT "/_snapshot/$REPO/$name?wait_for_completion=true" \
		"{\"indices\":\"$indices\",\"include_global_state\":false,\"metadata\":{\"taken_by\":\"seed-demo.sh\"}}"
	case "$BODY" in *'"state":"SUCCESS"'*) ;; *) die "snapshot $name not SUCCESS: $BODY" ;; esac
	log "snapshot $REPO/$name of [$indices] done"
}

index demo-logs '{"@timestamp":{"type":"date"},"level":{"type":"keyword"},"message":{"type":"text"}}'
index demo-metrics '{"@timestamp":{"type":"date"},"host":{"type":"keyword"},"cpu":{"type":"float"}}'
index demo-users '{"name":{"type":"keyword"},"email":{"type":"keyword"},"age":{"type":"integer"}}'

bulk '{"index":{"_index":"demo-logs","_id":"1"}}
{"@timestamp":"2024-01-01T00:00:00Z","level":"info","message":"service started"}
{"index":{"_index":"demo-logs","_id":"2"}}
{"@timestamp":"2024-01-01T00:05:00Z","level":"warn","message":"disk 80% full"}
{"index":{"_index":"demo-logs","_id":"3"}}
{"@timestamp":"2024-01-01T00:10:00Z","level":"error","message":"request timed out"}
{"index":{"_index":"demo-metrics","_id":"1"}}
{"@timestamp":"2024-01-01T00:00:00Z","host":"web-1","cpu":0.25}
{"index":{"_index":"demo-metrics","_id":"2"}}
{"@timestamp":"2024-01-01T00:00:00Z","host":"web-2","cpu":0.5}
{"index":{"_index":"demo-users","_id":"alice"}}
{"name":"alice","email":"alice@example.org","age":34}
{"index":{"_index":"demo-users","_id":"bob"}}
{"name":"bob","email":"bob@example.org","age":27}
'
snapshot nightly-1 "demo-logs,demo-metrics,demo-users"
sleep 1 # start times are kept in seconds: a second apart, "ls -lt" shows the order

bulk '{"index":{"_index":"demo-logs","_id":"4"}}
{"@timestamp":"2024-01-02T00:00:00Z","level":"info","message":"nightly job done"}
{"index":{"_index":"demo-metrics","_id":"3"}}
{"@timestamp":"2024-01-02T00:00:00Z","host":"web-1","cpu":0.75}
'
snapshot nightly-2 "demo-logs,demo-metrics"
sleep 1

bulk '{"index":{"_index":"demo-users","_id":"carol"}}
{"name":"carol","email":"carol@example.org","age":41}
'
snapshot nightly-3 "demo-users"

must GET "/_cat/snapshots/$REPO?v&h=id,status,indices,total_shards"
printf '%s\n' "$BODY"
