#!/usr/bin/env bash
# Deploy esfs-domain.yaml, then (with --mount) mount the domain with esfs,
# register the S3 snapshot repository and take a first snapshot.
set -euo pipefail

PROG=${0##*/}
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/../.." && pwd)
# shellcheck source=common.sh
. "$script_dir/common.sh"

usage() {
	cat <<EOF
Usage: $PROG --stack NAME --region REGION [options]

Deploys the esfs CloudFormation stack (OpenSearch domain, S3 snapshot
bucket, snapshot role, operator policy) and prints the domain endpoint.
With --mount it then mounts the domain with esfs (-o aws_sigv4), registers
the S3 snapshot repository and takes a first snapshot.

Options:
  --stack NAME            CloudFormation stack name (required)
  --region REGION         AWS region, e.g. eu-west-1 (required)
  --engine-version V      OpenSearch_2.19 (template default), Elasticsearch_7.10, ...
  --operator-arn ARN      IAM role/user ARN allowed in the domain access policy
                          (template default: the account root, i.e. IAM decides)
  --domain-name NAME      domain name (default on create: the stack name in
                          lowercase; changing it later replaces the domain)
  --parameter KEY=VALUE   any other template parameter (repeatable), e.g.
                          --parameter DataInstanceType=r7g.xlarge.search
  --mount DIR             mount point for esfs; without it the script stops
                          after the deploy and prints the next steps
  --repo NAME             snapshot repository to register (default: s3-snapshots)
  --dry-run               print every AWS call ("aws ...") and esfs step
                          ("esfs: ...") without running any of them
  -h, --help              this help

Credentials come from the standard AWS chain (environment, AWS_PROFILE and
the shared files, container credentials, EC2 IMDSv2), for the aws CLI and
for esfs alike. Never put keys on the command line.

Environment:
  ESFS_BIN                esfs binary (default: $repo_root/build/esfs)
  ESFS_SNAPSHOT_WAIT      seconds to wait for the first snapshot (default: 900)
EOF
}

stack='' region='' engine_version='' operator_arn='' domain_name=''
mount_dir='' repo=s3-snapshots
params=()
template=$script_dir/esfs-domain.yaml
esfs_bin=${ESFS_BIN:-$repo_root/build/esfs}
snapshot_wait=${ESFS_SNAPSHOT_WAIT:-900}

while [[ $# -gt 0 ]]; do
	case $1 in
	--stack) need_value "$@"; stack=$2; shift 2 ;;
	--region) need_value "$@"; region=$2; shift 2 ;;
	--engine-version) need_value "$@"; engine_version=$2; shift 2 ;;
	--operator-arn) need_value "$@"; operator_arn=$2; shift 2 ;;
	--domain-name) need_value "$@"; domain_name=$2; shift 2 ;;
	--parameter) need_value "$@"; params+=("$2"); shift 2 ;;
	--mount) need_value "$@"; mount_dir=$2; shift 2 ;;
	--repo) need_value "$@"; repo=$2; shift 2 ;;
	--dry-run) DRY_RUN=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage_error "unknown argument: $1" ;;
	esac
done

[[ -n $stack ]] || usage_error "--stack is required"
[[ -n $region ]] || usage_error "--region is required"
check_stack_name "$stack"
check_region "$region"
check_repo_name "$repo"
if [[ -n $engine_version && ! $engine_version =~ ^(OpenSearch|Elasticsearch)_[0-9]+\.[0-9]+$ ]]; then
	usage_error "invalid engine version: $engine_version (OpenSearch_X.Y or Elasticsearch_X.Y)"
fi
if [[ -n $operator_arn && ! $operator_arn =~ ^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+)$ ]]; then
	usage_error "invalid operator ARN: $operator_arn (an IAM role, user or root ARN)"
fi
if [[ -n $domain_name && ! $domain_name =~ ^[a-z][a-z0-9-]{2,27}$ ]]; then
	usage_error "invalid domain name: $domain_name (3-28 of a-z 0-9 -, starting with a letter)"
fi
for p in ${params[@]+"${params[@]}"}; do
	[[ $p =~ ^[A-Za-z0-9]+=.*$ ]] || usage_error "--parameter wants KEY=VALUE, got: $p"
done
if [[ -n $mount_dir && $mount_dir != /* ]]; then
	mount_dir=$PWD/$mount_dir
fi

if ! is_dry_run; then
	need_command aws "install the AWS CLI"
	if [[ -n $mount_dir && ! -x $esfs_bin ]]; then
		die "esfs binary not found at $esfs_bin (build it: meson setup build && ninja -C build, or set ESFS_BIN)"
	fi
fi

tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/esfs-deploy.XXXXXX")
trap 'rm -rf "$tmpdir"' EXIT

# --- 1. create or update the stack -----------------------------------------

status=NONE
if is_dry_run; then
	run_aws cloudformation describe-stacks --stack-name "$stack" --region "$region" \
		--query 'Stacks[0].StackStatus' --output text
	note "dry run: assuming stack $stack does not exist yet (create)"
elif status=$(run_aws cloudformation describe-stacks --stack-name "$stack" --region "$region" \
	--query 'Stacks[0].StackStatus' --output text 2>"$tmpdir/err"); then
	:
elif grep -q 'does not exist' "$tmpdir/err"; then
	status=NONE
else
	cat "$tmpdir/err" >&4
	die "cannot describe stack $stack (credentials? region?)"
fi

case $status in
NONE | REVIEW_IN_PROGRESS) mode=create ;;
ROLLBACK_COMPLETE)
	die "stack $stack is ROLLBACK_COMPLETE (its creation failed): see the stack events, run teardown.sh, then deploy again"
	;;
*_IN_PROGRESS) die "stack $stack is busy ($status); wait for it and retry" ;;
*) mode=update ;;
esac

overrides=()
if [[ $mode == create && -z $domain_name ]]; then
	domain_name=$(printf '%s' "$stack" | tr '[:upper:]' '[:lower:]' | cut -c1-28)
	domain_name=$(printf '%s' "$domain_name" | sed 's/-*$//')
	[[ $domain_name =~ ^[a-z][a-z0-9-]{2,27}$ ]] ||
		usage_error "cannot derive a domain name from stack $stack; pass --domain-name"
fi
[[ -n $domain_name ]] && overrides+=("DomainName=$domain_name")
[[ -n $engine_version ]] && overrides+=("EngineVersion=$engine_version")
[[ -n $operator_arn ]] && overrides+=("OperatorPrincipalArn=$operator_arn")
overrides+=(${params[@]+"${params[@]}"})

deploy_args=(cloudformation deploy --stack-name "$stack" --region "$region"
	--template-file "$template" --capabilities CAPABILITY_NAMED_IAM
	--no-fail-on-empty-changeset)
if [[ ${#overrides[@]} -gt 0 ]]; then
	deploy_args+=(--parameter-overrides "${overrides[@]}")
fi

note "$mode stack $stack in $region (a new domain takes 20-40 minutes)"
# The deploy output goes to stderr as it comes and to a file, to tell
# "No changes to deploy" apart.
run_aws "${deploy_args[@]}" | tee "$tmpdir/deploy.out" >&4

if [[ $mode == create ]]; then
	run_aws cloudformation wait stack-create-complete --stack-name "$stack" --region "$region"
elif grep -q 'No changes to deploy' "$tmpdir/deploy.out"; then
	note "no changes to deploy; stack $stack is up to date"
else
	run_aws cloudformation wait stack-update-complete --stack-name "$stack" --region "$region"
fi

# --- 2. outputs --------------------------------------------------------------

read_stack_outputs "$stack" "$region"
endpoint=$OUT_DomainEndpoint
bucket=$OUT_SnapshotBucketName
role_arn=$OUT_SnapshotRoleArn

printf 'endpoint: https://%s\n' "$endpoint"
printf 'domain ARN: %s\n' "$OUT_DomainArn"
printf 'snapshot bucket: %s\n' "$bucket"
printf 'snapshot role: %s\n' "$role_arn"
printf 'operator policy: %s (attach it to the IAM user or role that runs esfs)\n' "$OUT_OperatorPolicyArn"

if ! is_dry_run; then
	# These go into JSON unescaped: make sure they need no escaping.
	[[ $bucket =~ ^[a-z0-9][a-z0-9.-]+$ ]] || die "unexpected bucket name: $bucket"
	[[ $role_arn =~ ^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$ ]] ||
		die "unexpected role ARN: $role_arn"
fi
settings_json='{"type":"s3","settings":{"bucket":"'$bucket'","region":"'$region'","role_arn":"'$role_arn'","base_path":"esfs"}}'

if [[ -z $mount_dir ]]; then
	cat <<EOF

Next steps (or run again with --mount DIR):
  $(quote_cmd "$esfs_bin" -o "aws_sigv4,aws_region=$region" "https://$endpoint" /mnt/esfs)
  mkdir $(quote_word "/mnt/esfs/$repo")
  printf '%s\n' $(quote_word "$settings_json") > $(quote_word "/mnt/esfs/$repo/_settings.json")
  mkdir $(quote_word "/mnt/esfs/$repo/first")
EOF
	exit 0
fi

# --- 3. mount with esfs ---------------------------------------------------------

if ! is_dry_run && is_mounted "$mount_dir"; then
	note "$mount_dir is already a mount point; using it"
else
	esfs_run mkdir -p "$mount_dir"
	# Credentials: the AWS chain, read by esfs itself; nothing secret on argv.
	esfs_run "$esfs_bin" -o "aws_sigv4,aws_region=$region" "https://$endpoint" "$mount_dir"
	if ! is_dry_run; then
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			is_mounted "$mount_dir" && break
			sleep 1
		done
		is_mounted "$mount_dir" || die "esfs did not mount $mount_dir"
	fi
fi

# --- 4. register the snapshot repository --------------------------------------

if ! is_dry_run && [[ -d $mount_dir/$repo ]]; then
	note "repository $repo exists; updating its settings"
else
	esfs_run mkdir "$mount_dir/$repo"
fi
# OpenSearch checks iam:PassRole for role_arn against the esfs signer:
# it needs the operator policy (or equivalent).
esfs_write "$mount_dir/$repo/_settings.json" "$settings_json"

# --- 5. first snapshot --------------------------------------------------------

snapshot=first-$(date -u +%Y%m%d-%H%M%S)
esfs_run mkdir "$mount_dir/$repo/$snapshot"
esfs_run cat "$mount_dir/$repo/$snapshot/state"
if ! is_dry_run; then
	waited=0
	while grep -Eq 'IN_PROGRESS|STARTED|INIT' "$mount_dir/$repo/$snapshot/state" &&
		[[ $waited -lt $snapshot_wait ]]; do
		sleep 10
		waited=$((waited + 10))
		cat "$mount_dir/$repo/$snapshot/state"
	done
	printf 'snapshot: %s\n' "$mount_dir/$repo/$snapshot"
	if ! grep -q SUCCESS "$mount_dir/$repo/$snapshot/state"; then
		die "snapshot $snapshot is not SUCCESS (yet?): check $mount_dir/$repo/$snapshot/state"
	fi
fi
