#!/usr/bin/env bash
# Tear down what deploy.sh built: unmount esfs, empty and delete the
# snapshot bucket (unless --keep-bucket), delete the stack.
set -euo pipefail

PROG=${0##*/}
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$script_dir/common.sh"

usage() {
	cat <<EOF
Usage: $PROG --stack NAME --region REGION [--keep-bucket] [--mount DIR] [--yes] [--dry-run]

Deletes the esfs stack: unmounts esfs (--mount DIR, or any esfs mount of the
domain endpoint found in /proc/mounts), empties the snapshot bucket (every
object version and delete marker) and deletes it, deletes the stack (the
domain, the snapshot role, the operator policy) and waits for that.

The stack keeps the bucket on deletion (DeletionPolicy: Retain), so
--keep-bucket simply leaves it and its snapshots in place.

Options:
  --stack NAME     CloudFormation stack name (required)
  --region REGION  AWS region (required)
  --keep-bucket    keep the snapshot bucket and its snapshots
  --mount DIR      esfs mount point of the domain to unmount first
  --yes            do not ask for confirmation (asked only on a terminal)
  --dry-run        print every AWS call ("aws ...") and esfs step
                   ("esfs: ...") without running any of them
  -h, --help       this help

THIS DELETES THE DOMAIN AND ITS DATA. Credentials come from the standard
AWS chain.
EOF
}

stack='' region='' keep_bucket=0 mount_dir='' assume_yes=0

while [[ $# -gt 0 ]]; do
	case $1 in
	--stack) need_value "$@"; stack=$2; shift 2 ;;
	--region) need_value "$@"; region=$2; shift 2 ;;
	--keep-bucket) keep_bucket=1; shift ;;
	--mount) need_value "$@"; mount_dir=$2; shift 2 ;;
	--yes) assume_yes=1; shift ;;
	--dry-run) DRY_RUN=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage_error "unknown argument: $1" ;;
	esac
done

[[ -n $stack ]] || usage_error "--stack is required"
[[ -n $region ]] || usage_error "--region is required"
check_stack_name "$stack"
check_region "$region"

if ! is_dry_run; then
	need_command aws "install the AWS CLI"
fi

tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/esfs-teardown.XXXXXX")
trap 'rm -rf "$tmpdir"' EXIT

read_stack_outputs "$stack" "$region"
bucket=$OUT_SnapshotBucketName
endpoint=$OUT_DomainEndpoint

# Termination protection would stop delete-stack after the bucket is
# emptied: check it before touching anything.
protected=$(run_aws cloudformation describe-stacks --stack-name "$stack" --region "$region" \
	--query 'Stacks[0].EnableTerminationProtection' --output text)
if [[ $protected == True || $protected == true ]]; then
	die "stack $stack has termination protection; disable it first: aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name $stack --region $region"
fi

if ! is_dry_run && [[ $assume_yes == 0 && -t 0 ]]; then
	printf 'Delete stack %s in %s, domain %s%s? Type the stack name: ' "$stack" "$region" "$endpoint" \
		"$([[ $keep_bucket == 1 ]] || printf ' and bucket %s' "$bucket")" >&4
	read -r answer
	[[ $answer == "$stack" ]] || die "not confirmed"
fi

# --- 1. unmount ----------------------------------------------------------------

unmount() {
	if command -v fusermount3 >/dev/null 2>&1; then
		esfs_run fusermount3 -u "$1"
	elif command -v fusermount >/dev/null 2>&1; then
		esfs_run fusermount -u "$1"
	else
		esfs_run umount "$1"
	fi
}

mounts=()
if [[ -n $mount_dir ]]; then
	if is_mounted "$mount_dir"; then
		mounts+=("$mount_dir")
	else
		note "$mount_dir is not mounted"
	fi
elif is_dry_run; then
	note "dry run: would unmount any esfs mount of https://$endpoint listed in /proc/mounts"
elif [[ -r /proc/mounts ]]; then
	# FUSE mounts whose source names the endpoint (esfs mounts the URL).
	while read -r source target fstype _; do
		if [[ $fstype == fuse* && $source == *"$endpoint"* ]]; then
			mounts+=("$(printf '%b' "${target//\\040/ }")")
		fi
	done </proc/mounts
fi
for m in ${mounts[@]+"${mounts[@]}"}; do
	unmount "$m"
done

# --- 2. empty the snapshot bucket ------------------------------------------------

if [[ $keep_bucket == 0 ]]; then
	run_aws s3 rm "s3://$bucket" --recursive --region "$region"
	# The bucket is versioned: remove every version and delete marker, at
	# most 1000 (one list page, one delete-objects call) at a time.
	previous=''
	while :; do
		batch=$(run_aws s3api list-object-versions --bucket "$bucket" --region "$region" \
			--no-paginate --output json \
			--query '[Versions, DeleteMarkers][].{Key: Key, VersionId: VersionId}')
		if is_dry_run; then
			run_aws s3api delete-objects --bucket "$bucket" --region "$region" \
				--delete 'file://<batch.json>'
			break
		fi
		compact=$(printf '%s' "$batch" | tr -d '[:space:]')
		if [[ -z $compact || $compact == null || $compact == '[]' ]]; then
			break
		fi
		[[ $compact != "$previous" ]] || die "could not delete the objects left in s3://$bucket"
		previous=$compact
		printf '{"Quiet": true, "Objects": %s}\n' "$batch" >"$tmpdir/batch.json"
		run_aws s3api delete-objects --bucket "$bucket" --region "$region" \
			--delete "file://$tmpdir/batch.json" >/dev/null
	done
else
	note "keeping s3://$bucket and its snapshots"
fi

# --- 3. delete the stack ------------------------------------------------------------

run_aws cloudformation delete-stack --stack-name "$stack" --region "$region"
run_aws cloudformation wait stack-delete-complete --stack-name "$stack" --region "$region"

# The template retains the bucket (and its policy) on stack deletion.
if [[ $keep_bucket == 0 ]]; then
	run_aws s3api delete-bucket --bucket "$bucket" --region "$region"
else
	note "s3://$bucket stays, no longer managed by a stack (empty it and delete it yourself when done)"
fi
if is_dry_run; then
	note "dry run: nothing was done"
else
	note "stack $stack deleted"
fi
