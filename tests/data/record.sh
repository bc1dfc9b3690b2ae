#!/usr/bin/env bash
# tests/data/record.sh KIND PORT [OUTDIR]
#
# Records real response bodies of the snapshot APIs from a fresh engine.
# Starts a scratch instance with scripts/engine.sh (wiping KIND-PORT first),
# seeds it with scripts/seed-demo.sh, then for each request writes
#   OUTDIR/NAME.json     the exact response body, byte for byte
#   OUTDIR/NAME.status   the HTTP status code
# and one line per request to OUTDIR/index.tsv:
#   NAME <TAB> STATUS <TAB> METHOD <TAB> PATH <TAB> REQUEST BODY <TAB> NOTE
# OUTDIR defaults to tests/data/<distribution>-<version>. The scratch
# instance is stopped and wiped at the end (ESFS_RECORD_KEEP=1 keeps it).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
engine="$top/scripts/engine.sh"

[ $# -ge 2 ] || { echo "usage: $0 KIND PORT [OUTDIR]" >&2; exit 2; }
KIND=$1 PORT=$2
URL="http://127.0.0.1:$PORT"

"$engine" stop "$KIND" "$PORT" --wipe >&2
"$engine" start "$KIND" "$PORT" >/dev/null
REPODIR=$("$engine" repo "$KIND" "$PORT")
if [ "${ESFS_RECORD_KEEP:-0}" != 1 ]; then
	trap '"$engine" stop "$KIND" "$PORT" --wipe >&2' EXIT
fi

nodeinfo=$(curl -fsS "$URL/_nodes/_local?filter_path=nodes.*.version,nodes.*.build_flavor,nodes.*.settings.node.name")
version=$(printf '%s' "$nodeinfo" | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
case "$KIND" in opensearch*) dist=opensearch ;; *) dist=elasticsearch ;; esac
OUT=${3:-$here/$dist-$version}
rm -rf "$OUT"
mkdir -p "$OUT"
printf 'name\tstatus\tmethod\tpath\trequest_body\tnote\n' >"$OUT/index.tsv"
echo "recording $dist $version from $URL into $OUT" >&2

STATUS="" BODY=""
# call METHOD PATH [BODY]: no recording
call() {
	local out args=(-sS --max-time 300 -o - -w '\n%{http_code}' -X "$1" "$URL$2")
	if [ $# -ge 3 ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$3")
	fi
	out=$(curl "${args[@]}")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
}

# rec NAME NOTE METHOD PATH [BODY]
rec() {
	local name=$1 note=$2 method=$3 path=$4 body=${5-}
	local args=(-sS --max-time 300 -o "$OUT/$name.json" -w '%{http_code}' -X "$method" "$URL$path")
	if [ $# -ge 5 ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$body")
	fi
	STATUS=$(curl "${args[@]}")
	BODY=$(cat "$OUT/$name.json")
	printf '%s\n' "$STATUS" >"$OUT/$name.status"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$STATUS" "$method" "$path" \
		"$(printf '%s' "$body" | tr '\n\t' '  ')" "$note" >>"$OUT/index.tsv"
	printf '%-48s %s\n' "$name" "$STATUS" >&2
}

wait_no_running_snapshots() {
	for _ in $(seq 1 240); do
		call GET /_snapshot/_status
		case "$BODY" in *'"snapshots":[]'*) return 0 ;; esac
		sleep 0.5
	done
	echo "snapshots still running: $BODY" >&2
	return 1
}

# ------------------------------------------------------------------ basics
rec root "cluster banner" GET /
rec cluster_health_green "health of a fresh node" GET /_cluster/health
rec get_snapshot_no_repos "no repository registered yet" GET /_snapshot

"$top/scripts/seed-demo.sh" "$URL" demo "$REPODIR/demo" >/dev/null
call PUT /_snapshot/demo-ro "{\"type\":\"fs\",\"settings\":{\"location\":\"$REPODIR/demo\",\"readonly\":true}}"
[ "$STATUS" = 200 ] || { echo "demo-ro: $STATUS $BODY" >&2; exit 1; }

rec get_snapshot_repos "2 repos: demo (fs) and demo-ro (fs, readonly, same location)" GET /_snapshot
rec get_snapshot_repo_all "same as above via _all" GET /_snapshot/_all
rec get_snapshot_repo_demo "one repo by name" GET /_snapshot/demo
rec get_snapshot_repo_wildcard "repos by wildcard" GET '/_snapshot/demo*'
rec cat_snapshots "cat, all columns" GET '/_cat/snapshots/demo?format=json'
rec cat_snapshots_h "cat, chosen columns" GET '/_cat/snapshots/demo?format=json&h=id,status,start_epoch,end_epoch,indices,successful_shards,failed_shards,total_shards'
rec cat_snapshots_no_repo "cat without a repository" GET '/_cat/snapshots?format=json'
rec get_snapshots_verbose_false "list, verbose=false" GET '/_snapshot/demo/_all?verbose=false'
rec get_snapshots_all "list, verbose" GET '/_snapshot/demo/_all'
rec get_snapshots_star "list with * instead of _all" GET '/_snapshot/demo/*?verbose=false'
rec get_snapshots_ro_repo "list of the readonly repo" GET '/_snapshot/demo-ro/_all?verbose=false'
rec get_snapshots_all_repos "list of every repo (_all/_all)" GET '/_snapshot/_all/_all?verbose=false'
rec get_snapshots_star_repos "list of every repo (*/_all)" GET '/_snapshot/*/_all?verbose=false'
rec get_snapshot_success "one SUCCESS snapshot" GET /_snapshot/demo/nightly-1
rec get_snapshot_success_verbose_false "one snapshot, verbose=false" GET '/_snapshot/demo/nightly-1?verbose=false'
rec get_snapshot_two "two snapshots by name" GET /_snapshot/demo/nightly-1,nightly-3
rec get_snapshot_status "status of a finished snapshot" GET /_snapshot/demo/nightly-1/_status
rec get_snapshot_current_none "_current with nothing running" GET /_snapshot/demo/_current
rec get_snapshot_status_none "_status with nothing running" GET /_snapshot/_status

# ------------------------------------------------------------------ paging (ES 7.13+)
rec get_snapshots_size1_sort_name "paging: size=1&sort=name (verbose)" GET '/_snapshot/demo/_all?size=1&sort=name'
after=$(sed -n 's/.*"next":"\([^"]*\)".*/\1/p' "$OUT/get_snapshots_size1_sort_name.json")
rec get_snapshots_size1_after "paging: next page via after=<next>" GET "/_snapshot/demo/_all?size=1&sort=name&after=${after:-none}"
rec get_snapshots_offset_order "paging: offset=1&order=desc&sort=start_time" GET '/_snapshot/demo/_all?offset=1&order=desc&sort=start_time'
rec get_snapshots_from_sort_value "paging: sort=name&from_sort_value=nightly-2" GET '/_snapshot/demo/_all?sort=name&from_sort_value=nightly-2'
rec get_snapshots_index_names_false "verbose list without index names" GET '/_snapshot/demo/_all?index_names=false'
rec get_snapshots_vf_size1_sort_name "paging with verbose=false" GET '/_snapshot/demo/_all?verbose=false&size=1&sort=name'
rec get_snapshots_vf_offset_order "offset/order with verbose=false" GET '/_snapshot/demo/_all?verbose=false&offset=1&order=desc'
rec get_snapshots_unknown_param "unknown query parameter" GET '/_snapshot/demo/_all?bogus=1'

# ------------------------------------------------------------------ PARTIAL
call PUT '/demo-red?wait_for_active_shards=0' '{"settings":{"number_of_shards":1,"number_of_replicas":0,"index.routing.allocation.require._name":"nonexistent"}}'
[ "$STATUS" = 200 ] || { echo "demo-red: $STATUS $BODY" >&2; exit 1; }
rec cluster_health_red "health with an unassigned primary" GET /_cluster/health
rec create_snapshot_red_not_partial "snapshot of a red index without partial" PUT '/_snapshot/demo/red-1?wait_for_completion=true' '{"indices":"demo-logs,demo-red","include_global_state":false}'
rec create_snapshot_partial "snapshot of a red index with partial:true" PUT '/_snapshot/demo/partial-1?wait_for_completion=true' '{"indices":"demo-logs,demo-red","include_global_state":false,"partial":true}'
rec get_snapshot_partial "one PARTIAL snapshot" GET /_snapshot/demo/partial-1
rec get_snapshot_partial_status "status of a PARTIAL snapshot" GET /_snapshot/demo/partial-1/_status
rec cat_snapshots_with_partial "cat with a PARTIAL row" GET '/_cat/snapshots/demo?format=json'
rec get_snapshots_verbose_false_partial "list, verbose=false, with PARTIAL" GET '/_snapshot/demo/_all?verbose=false'
call DELETE /demo-red

# ------------------------------------------------------------------ IN_PROGRESS
# A repository throttled to 100 kB/s keeps a ~4 MB snapshot running for ~40 s.
# On 2 cores the snapshot thread pool has 1 thread, so snapshots started
# meanwhile (same or other repository) stay queued IN_PROGRESS behind it.
call PUT /_snapshot/slow "{\"type\":\"fs\",\"settings\":{\"location\":\"$REPODIR/slow\",\"max_snapshot_bytes_per_sec\":\"100kb\"}}"
[ "$STATUS" = 200 ] || { echo "slow: $STATUS $BODY" >&2; exit 1; }
call PUT /demo-big '{"settings":{"number_of_shards":1,"number_of_replicas":0}}'
bulkf=$(mktemp)
# random base64 so Lucene's stored-field compression cannot shrink it
head -c 1500000 /dev/urandom | base64 -w 1000 |
	awk '{printf "{\"index\":{\"_index\":\"demo-big\",\"_id\":\"%d\"}}\n{\"n\":%d,\"pad\":\"%s\"}\n", NR, NR, $0}' >"$bulkf"
curl -fsS -o /dev/null -H 'Content-Type: application/x-ndjson' --data-binary "@$bulkf" "$URL/_bulk?refresh=true"
rm -f "$bulkf"
call POST /demo-big/_flush
rec create_snapshot_async "create, wait_for_completion=false" PUT /_snapshot/slow/big-1 '{"indices":"demo-big","include_global_state":false}'
sleep 1
rec get_snapshot_in_progress "one IN_PROGRESS snapshot" GET /_snapshot/slow/big-1
rec get_snapshot_in_progress_verbose_false "IN_PROGRESS in verbose=false list" GET '/_snapshot/slow/_all?verbose=false'
rec get_snapshot_current "_current while one runs" GET /_snapshot/slow/_current
rec get_snapshot_in_progress_status "_status of the running snapshot" GET /_snapshot/slow/big-1/_status
rec get_snapshot_status_running "_status of all running snapshots" GET /_snapshot/_status
rec cat_snapshots_in_progress "cat while one runs" GET '/_cat/snapshots/slow?format=json'
rec create_snapshot_same_name_running "create with the name of the running snapshot" PUT /_snapshot/slow/big-1 '{"indices":"demo-big"}'
rec create_snapshot_concurrent_same_repo "2nd snapshot in the same repo while one runs" PUT /_snapshot/slow/big-2 '{"indices":"demo-users","include_global_state":false}'
rec create_snapshot_concurrent_other_repo "snapshot in another repo while one runs" PUT /_snapshot/demo/during-slow '{"indices":"demo-users","include_global_state":false}'
sleep 1
rec get_snapshots_both_running "list while two run in the repo" GET '/_snapshot/slow/_all?verbose=false'
rec get_snapshot_other_repo_while_running "the other repo's queued snapshot" GET /_snapshot/demo/during-slow
rec get_snapshot_status_all_running "_status of all running snapshots (3)" GET /_snapshot/_status
rec cat_snapshots_two_in_progress "cat while two run in the repo" GET '/_cat/snapshots/slow?format=json'
rec delete_repo_in_use "delete a repo while snapshots run in it" DELETE /_snapshot/slow
if [ "$STATUS" = 200 ]; then   # allowed: register it again to clean up
	call PUT /_snapshot/slow "{\"type\":\"fs\",\"settings\":{\"location\":\"$REPODIR/slow\",\"max_snapshot_bytes_per_sec\":\"100kb\"}}"
fi
rec delete_snapshot_running "delete (abort) the running snapshot" DELETE /_snapshot/slow/big-1
wait_no_running_snapshots
rec get_snapshots_after_abort "list after the abort" GET '/_snapshot/slow/_all?verbose=false'
call DELETE /_snapshot/slow/big-2
call DELETE /_snapshot/slow
call DELETE /demo-big

# ------------------------------------------------------------------ restore + recovery
# shellcheck disable=SC2016 # $1: rename_replacement group
rec restore_rename "restore with rename, waiting" POST '/_snapshot/demo/nightly-1/_restore?wait_for_completion=true' '{"indices":"demo-logs,demo-users","rename_pattern":"demo-(.+)","rename_replacement":"restored-$1","include_global_state":false}'
rec recovery_all "recoveries after the restore" GET '/_recovery?active_only=false'
rec recovery_restored "recoveries of one restored index" GET '/restored-logs/_recovery'
# shellcheck disable=SC2016 # $1: rename_replacement group
rec restore_async "restore, not waiting" POST /_snapshot/demo/nightly-2/_restore '{"indices":"demo-metrics","rename_pattern":"demo-(.+)","rename_replacement":"async-$1"}'
# shellcheck disable=SC2016 # $1: rename_replacement group
rec restore_from_readonly "restore from the readonly repo" POST '/_snapshot/demo-ro/nightly-3/_restore?wait_for_completion=true' '{"indices":"demo-users","rename_pattern":"demo-(.+)","rename_replacement":"ro-$1"}'

# ------------------------------------------------------------------ errors
rec get_snapshot_missing_repo "repo missing" GET /_snapshot/nope
rec get_snapshot_missing_repo_snap "repo missing, with a snapshot name" GET /_snapshot/nope/x
rec get_snapshot_missing_repo_all "repo missing, _all" GET /_snapshot/nope/_all
rec get_snapshot_missing_repo_status "repo missing, _status" GET /_snapshot/nope/x/_status
rec cat_snapshots_missing_repo "cat of a missing repo" GET '/_cat/snapshots/nope?format=json'
rec get_snapshot_missing "snapshot missing" GET /_snapshot/demo/missing
rec get_snapshot_missing_and_present "one present, one missing" GET /_snapshot/demo/nightly-1,missing
rec get_snapshot_missing_ignore "missing with ignore_unavailable" GET '/_snapshot/demo/missing?ignore_unavailable=true'
rec get_snapshot_missing_status "_status of a missing snapshot" GET /_snapshot/demo/missing/_status
rec create_snapshot_uppercase "name with uppercase" PUT /_snapshot/demo/BadName '{"indices":"demo-users"}'
rec create_snapshot_underscore "name starting with _" PUT /_snapshot/demo/_bad '{"indices":"demo-users"}'
rec create_snapshot_exists "name already taken" PUT /_snapshot/demo/nightly-1 '{"indices":"demo-users"}'
rec create_snapshot_missing_index "indices that do not exist" PUT '/_snapshot/demo/noindex?wait_for_completion=true' '{"indices":"no-such-index"}'
rec delete_snapshot_missing "delete a missing snapshot" DELETE /_snapshot/demo/missing
rec restore_onto_open_index "restore over an existing open index" POST /_snapshot/demo/nightly-1/_restore '{"indices":"demo-logs"}'
rec restore_missing_snapshot "restore of a missing snapshot" POST /_snapshot/demo/missing/_restore '{}'
rec create_snapshot_readonly_repo "create in a readonly repo" PUT '/_snapshot/demo-ro/ro-1?wait_for_completion=true' '{"indices":"demo-users"}'
rec delete_snapshot_readonly_repo "delete in a readonly repo" DELETE /_snapshot/demo-ro/nightly-1
rec verify_repo "verify a writable repo" POST /_snapshot/demo/_verify
rec verify_repo_readonly "verify a readonly repo" POST /_snapshot/demo-ro/_verify
rec verify_repo_missing "verify a missing repo" POST /_snapshot/nope/_verify
rec put_repo_outside_path_repo "fs location outside path.repo" PUT /_snapshot/outside '{"type":"fs","settings":{"location":"/tmp/esfs-outside"}}'
rec put_repo_bad_type "unknown repository type" PUT /_snapshot/badtype '{"type":"nosuchtype","settings":{}}'
rec malformed_json_snapshot "malformed JSON body, create snapshot" PUT /_snapshot/demo/badjson '{"indices": '
rec malformed_json_repo "malformed JSON body, register repo" PUT /_snapshot/badjson '{"type":"fs",'
rec malformed_json_restore "malformed JSON body, restore" POST /_snapshot/demo/nightly-1/_restore '{oops}'

rec delete_snapshot "delete a snapshot" DELETE /_snapshot/demo/partial-1
rec cat_snapshots_final "cat at the end" GET '/_cat/snapshots/demo?format=json'
echo "done: $(($(wc -l <"$OUT/index.tsv") - 1)) responses in $OUT" >&2
