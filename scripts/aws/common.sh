# shellcheck shell=bash
# Helpers shared by the esfs AWS kit scripts (deploy.sh, restore-test.sh,
# teardown.sh). Sourced, never run. Written for bash 3.2+ (no associative
# arrays), so --dry-run also works with macOS's /bin/bash.
#
# Conventions:
#   - every AWS CLI call goes through run_aws, every awscurl call through
#     run_awscurl, every file operation on the esfs mount through esfs_run or
#     esfs_write;
#   - with --dry-run (DRY_RUN=1) they print the command, one per line, to
#     the original stdout (fd 3, so it shows even inside $(...)) and run
#     nothing: "aws ...", "awscurl ...", "esfs: ...";
#   - values that would come from AWS answers are printed as placeholders
#     such as <SnapshotRoleArn>;
#   - otherwise each command is logged as "+ ..." on stderr (fd 4) and run.

DRY_RUN=0
# Never page AWS CLI v2 output in a script.
export AWS_PAGER=""

exec 3>&1 4>&2

note() { printf '%s: %s\n' "$PROG" "$*" >&4; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&4; exit 1; }
usage_error() {
	printf "%s: %s\nTry '%s --help'.\n" "$PROG" "$*" "$PROG" >&4
	exit 2
}

# need_value "$@" (at an option that takes a value): the value must be there.
need_value() {
	if [[ $# -lt 2 || $2 == --* ]]; then
		usage_error "$1 needs a value"
	fi
}

# quote_word WORD: WORD as shell input. Words made only of characters that
# need no quoting are printed bare; "<" and ">" are left bare too so that
# dry-run placeholders read <LikeThis>.
quote_word() {
	local w=$1 safe='^[A-Za-z0-9_@%+=:,./<>-]+$' sq="'"
	if [[ $w =~ $safe ]]; then
		printf '%s' "$w"
	else
		printf "'%s'" "${w//$sq/$sq\\$sq$sq}"
	fi
}

# quote_cmd WORD...: the words as one shell command line.
quote_cmd() {
	local out='' w
	for w in "$@"; do
		out+="${out:+ }$(quote_word "$w")"
	done
	printf '%s' "$out"
}

is_dry_run() { [[ $DRY_RUN == 1 ]]; }

# run_aws ARGS...: the only way these scripts call the AWS CLI.
run_aws() {
	if is_dry_run; then
		printf 'aws %s\n' "$(quote_cmd "$@")" >&3
		return 0
	fi
	printf '+ aws %s\n' "$(quote_cmd "$@")" >&4
	aws "$@"
}

# run_awscurl ARGS...: signed HTTP calls to the domain (awscurl, optional).
run_awscurl() {
	if is_dry_run; then
		printf 'awscurl %s\n' "$(quote_cmd "$@")" >&3
		return 0
	fi
	printf '+ awscurl %s\n' "$(quote_cmd "$@")" >&4
	awscurl "$@"
}

# esfs_run CMD...: a local command on the esfs mount (mount, mkdir, cat...).
esfs_run() {
	if is_dry_run; then
		printf 'esfs: %s\n' "$(quote_cmd "$@")" >&3
		return 0
	fi
	printf '+ %s\n' "$(quote_cmd "$@")" >&4
	"$@"
}

# esfs_write FILE CONTENT: write CONTENT plus a newline to FILE on the mount.
# cat does the write so that an error esfs reports when the file is closed
# (the cluster refused the request) fails the script; a shell redirection
# of the printf builtin would ignore it.
esfs_write() {
	local file=$1 content=$2
	local shown
	shown="printf '%s\\n' $(quote_word "$content") | cat > $(quote_word "$file")"
	if is_dry_run; then
		printf 'esfs: %s\n' "$shown" >&3
		return 0
	fi
	printf '+ %s\n' "$shown" >&4
	printf '%s\n' "$content" | cat >"$file"
}

# Stack outputs of esfs-domain.yaml, read into OUT_<Key> by read_stack_outputs.
STACK_OUTPUT_KEYS="DomainEndpoint DomainArn SnapshotBucketName SnapshotRoleArn OperatorPolicyArn Region"
# shellcheck disable=SC2034 # used by the scripts that source this file
OUT_DomainEndpoint='' OUT_DomainArn='' OUT_SnapshotBucketName='' OUT_SnapshotRoleArn='' OUT_OperatorPolicyArn='' OUT_Region=''

# read_stack_outputs STACK REGION: sets OUT_<Key> for each stack output
# (placeholders <Key> in dry-run mode).
read_stack_outputs() {
	local stack=$1 region=$2 out key value
	for key in $STACK_OUTPUT_KEYS; do
		printf -v "OUT_$key" '%s' ''
	done
	if is_dry_run; then
		run_aws cloudformation describe-stacks --stack-name "$stack" --region "$region" \
			--query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text
		for key in $STACK_OUTPUT_KEYS; do
			printf -v "OUT_$key" '<%s>' "$key"
		done
		return 0
	fi
	out=$(run_aws cloudformation describe-stacks --stack-name "$stack" --region "$region" \
		--query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text) ||
		die "cannot read the outputs of stack $stack in $region"
	while IFS=$'\t' read -r key value; do
		case " $STACK_OUTPUT_KEYS " in
		*" $key "*) printf -v "OUT_$key" '%s' "$value" ;;
		esac
	done <<<"$out"
	for key in $STACK_OUTPUT_KEYS; do
		value=OUT_$key
		[[ -n ${!value} ]] || die "stack $stack has no output $key (not an esfs-domain.yaml stack?)"
	done
}

check_stack_name() {
	[[ $1 =~ ^[A-Za-z][-A-Za-z0-9]{0,127}$ ]] || usage_error "invalid stack name: $1"
}

check_region() {
	[[ $1 =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || usage_error "invalid region: $1"
}

# check_repo_name NAME: a repository directory esfs can manage.
check_repo_name() {
	[[ $1 =~ ^[a-z0-9][a-z0-9._-]*$ ]] ||
		usage_error "invalid repository name: $1 (lowercase letters, digits, '.', '_', '-')"
	case $1 in
	cs-automated*) usage_error "$1 is the domain's automated snapshot repository: read-only (EROFS)" ;;
	esac
}

check_snapshot_name() {
	[[ $1 =~ ^[a-z0-9][a-z0-9._+-]*$ ]] || usage_error "invalid snapshot name: $1"
}

need_command() {
	command -v "$1" >/dev/null 2>&1 || die "$1 not found in PATH${2:+ ($2)}"
}

is_mounted() {
	command -v mountpoint >/dev/null 2>&1 && mountpoint -q -- "$1"
}
