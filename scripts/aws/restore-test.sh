#!/usr/bin/env bash
# Restore test through an esfs mount: restore every non-system index of a
# snapshot under a "restored-" prefix, wait for the recoveries, compare
# document counts, delete the restored copies.
set -euo pipefail

PROG=${0##*/}
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$script_dir/common.sh"

usage() {
	cat <<EOF
Usage: $PROG --mount DIR --repo NAME --snapshot SNAP [options]

  1. writes DIR/REPO/SNAP/restore.json: every index except the dot (system)
     indices, renamed to restored-<index>, without the global state;
  2. waits until DIR/_recovery/restored-<index> shows DONE for every index
     in DIR/REPO/SNAP/indices (or, without that list, for every restored-*);
  3. compares the document count of each restored-<index> with <index>;
  4. deletes the restored-* copies.

esfs exposes neither document counts nor index deletion, so steps 3 and 4
use awscurl (pip install awscurl; it signs with the same AWS credential
chain) with --endpoint and --region. Without awscurl the script says so and
prints the requests to run; it does not pretend the counts were checked.
A count mismatch can also mean the original index changed after the
snapshot was taken.

Options:
  --mount DIR        esfs mount point (required)
  --repo NAME        snapshot repository (required)
  --snapshot SNAP    snapshot to restore (required)
  --endpoint URL     domain endpoint for awscurl, e.g. https://search-...es.amazonaws.com
  --region REGION    region for awscurl (default: \$AWS_REGION or \$AWS_DEFAULT_REGION)
  --timeout SECS     how long to wait for the recoveries (default: 3600)
  --keep-restored    do not delete the restored-* indices
  --dry-run          print every esfs step ("esfs: ...") and signed request
                     ("awscurl ...") without running any of them
  -h, --help         this help

Environment:
  ESFS_POLL_INTERVAL seconds between two looks at _recovery (default: 10)
EOF
}

# shellcheck disable=SC2016 # $1 is for OpenSearch's rename_replacement, not the shell
restore_json='{"indices":"*,-.*","rename_pattern":"(.+)","rename_replacement":"restored-$1","include_global_state":false}'
prefix=restored-

mount_dir='' repo='' snapshot='' endpoint='' region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
timeout=3600 keep_restored=0
poll=${ESFS_POLL_INTERVAL:-10}

while [[ $# -gt 0 ]]; do
	case $1 in
	--mount) need_value "$@"; mount_dir=$2; shift 2 ;;
	--repo) need_value "$@"; repo=$2; shift 2 ;;
	--snapshot) need_value "$@"; snapshot=$2; shift 2 ;;
	--endpoint) need_value "$@"; endpoint=$2; shift 2 ;;
	--region) need_value "$@"; region=$2; shift 2 ;;
	--timeout) need_value "$@"; timeout=$2; shift 2 ;;
	--keep-restored) keep_restored=1; shift ;;
	--dry-run) DRY_RUN=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage_error "unknown argument: $1" ;;
	esac
done

[[ -n $mount_dir ]] || usage_error "--mount is required"
[[ -n $repo ]] || usage_error "--repo is required"
[[ -n $snapshot ]] || usage_error "--snapshot is required"
[[ $repo =~ ^[a-z0-9][a-z0-9._-]*$ ]] || usage_error "invalid repository name: $repo"
check_snapshot_name "$snapshot"
[[ $timeout =~ ^[0-9]+$ ]] || usage_error "--timeout wants seconds"
[[ $poll =~ ^[0-9]+(\.[0-9]+)?$ ]] || usage_error "ESFS_POLL_INTERVAL wants seconds"
[[ -z $region ]] || check_region "$region"
if [[ -n $endpoint ]]; then
	[[ $endpoint == https://* ]] || endpoint=https://$endpoint
	endpoint=${endpoint%/}
fi

# Signed requests need awscurl, an endpoint and a region.
can_sign=0
missing=''
if ! command -v awscurl >/dev/null 2>&1; then
	missing='awscurl (pip install awscurl)'
elif [[ -z $endpoint || -z $region ]]; then
	missing='--endpoint and --region'
else
	can_sign=1
fi
is_dry_run && can_sign=1
shown_endpoint=${endpoint:-<endpoint>}
shown_region=${region:-<region>}

# signed METHOD PATH: one request through awscurl, body on stdout.
signed() {
	run_awscurl --service es --region "$shown_region" -X "$1" "$shown_endpoint$2"
}

if ! is_dry_run; then
	[[ -d $mount_dir/_recovery ]] || die "$mount_dir is not an esfs mount (no _recovery directory)"
	[[ -d $mount_dir/$repo/$snapshot ]] || die "no snapshot $mount_dir/$repo/$snapshot"
	grep -q SUCCESS "$mount_dir/$repo/$snapshot/state" 2>/dev/null ||
		note "warning: snapshot $snapshot is not in state SUCCESS; the restore may fail"
	shopt -s nullglob
	existing=("$mount_dir/_recovery/$prefix"*)
	shopt -u nullglob
	if [[ ${#existing[@]} -gt 0 ]]; then
		die "restored-* indices exist already (see $mount_dir/_recovery); delete them first"
	fi
fi

# --- 1. start the restore ---------------------------------------------------------

# The snapshot's index list (one per line) says which restored-* indices to
# expect; "*,-.*" leaves out the dot (system) indices.
snapdir=$mount_dir/$repo/$snapshot
expected=()
if is_dry_run; then
	esfs_run cat "$snapdir/indices"
elif [[ -r $snapdir/indices ]]; then
	while IFS= read -r name || [[ -n $name ]]; do
		if [[ -n $name && $name != .* ]]; then
			expected+=("$prefix$name")
		fi
	done <"$snapdir/indices"
	[[ ${#expected[@]} -gt 0 ]] || die "snapshot $snapshot has no non-system index to restore"
fi

esfs_write "$snapdir/restore.json" "$restore_json"

# --- 2. wait for the recoveries -------------------------------------------------------

# is_done FILE: the recovery file has a line saying DONE.
is_done() { grep -q DONE "$1" 2>/dev/null; }

indices=()
if is_dry_run; then
	esfs_run ls "$mount_dir/_recovery/"
	esfs_run grep DONE "$mount_dir/_recovery/$prefix<index>"
	note "dry run: the two steps above repeat every ${poll}s until every restored index shows DONE (timeout ${timeout}s)"
	indices=("$prefix<index>")
else
	deadline=$((SECONDS + timeout))
	stable=0
	while :; do
		files=()
		if [[ ${#expected[@]} -gt 0 ]]; then
			for name in "${expected[@]}"; do
				files+=("$mount_dir/_recovery/$name")
			done
		else
			# No index list: whatever restored-* recoveries show up; done
			# when all are DONE on two looks in a row (shards not yet
			# assigned have no recovery to show).
			shopt -s nullglob
			files=("$mount_dir/_recovery/$prefix"*)
			shopt -u nullglob
		fi
		pending=0
		for f in ${files[@]+"${files[@]}"}; do
			is_done "$f" || pending=$((pending + 1))
		done
		if [[ ${#files[@]} -gt 0 && $pending == 0 ]]; then
			stable=$((stable + 1))
			[[ ${#expected[@]} -eq 0 && $stable -lt 2 ]] || break
		else
			stable=0
		fi
		[[ $SECONDS -lt $deadline ]] ||
			die "recoveries not done after ${timeout}s: $pending of ${#files[@]} restored indices not DONE (see $mount_dir/_recovery)"
		note "waiting: $pending of ${#files[@]} restored indices not DONE yet"
		sleep "$poll"
	done
	for f in "${files[@]}"; do
		indices+=("${f##*/}")
	done
	note "restored and recovered: ${indices[*]}"
fi

# --- 3. compare document counts -------------------------------------------------------

status=0
if [[ $can_sign == 1 ]]; then
	is_dry_run || printf '%-40s %12s %12s\n' INDEX ORIGINAL RESTORED
	for r in "${indices[@]}"; do
		orig=${r#"$prefix"}
		if is_dry_run; then
			signed GET "/_cat/count/$orig?h=count"
			signed GET "/_cat/count/$r?h=count"
			continue
		fi
		c_orig=$(signed GET "/_cat/count/$orig?h=count" | tr -d '[:space:]')
		c_rest=$(signed GET "/_cat/count/$r?h=count" | tr -d '[:space:]')
		mark=''
		if [[ $c_orig != "$c_rest" ]]; then
			mark='  MISMATCH'
			status=1
		fi
		printf '%-40s %12s %12s%s\n' "$orig" "$c_orig" "$c_rest" "$mark"
	done
else
	printf 'document counts NOT compared: needs %s. The requests are:\n' "$missing"
	for r in "${indices[@]}"; do
		printf '  %s\n' "$(quote_cmd awscurl --service es --region "$shown_region" -X GET "$shown_endpoint/_cat/count/${r#"$prefix"}?h=count")"
		printf '  %s\n' "$(quote_cmd awscurl --service es --region "$shown_region" -X GET "$shown_endpoint/_cat/count/$r?h=count")"
	done
fi

# --- 4. delete the restored copies -------------------------------------------------------

if [[ $keep_restored == 1 ]]; then
	note "keeping ${indices[*]}"
elif [[ $can_sign == 1 ]]; then
	for r in "${indices[@]}"; do
		signed DELETE "/$r" >/dev/null
	done
else
	printf 'restored copies NOT deleted (needs %s). Delete them with:\n' "$missing"
	for r in "${indices[@]}"; do
		printf '  %s\n' "$(quote_cmd awscurl --service es --region "$shown_region" -X DELETE "$shown_endpoint/$r")"
	done
fi

if [[ $status != 0 ]]; then
	die "document counts differ (or the original indices changed since the snapshot)"
fi
