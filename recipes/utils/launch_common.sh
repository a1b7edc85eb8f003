#!/usr/bin/env bash
# Shared by run_local.sh and run_slurm.sh (sourced, not run): the Kaldi run.pl command line
#
#   LAUNCHER [options] [JOB=A:B] LOGFILE COMMAND [ARGS...]
#
# With JOB=A:B the command runs once per job id A..B, with every "JOB" in LOGFILE and in the
# arguments replaced by the id. Options common to both back-ends:
#   --max-jobs-run N   at most N jobs at once (local default: number of CPUs; Slurm: no limit)
#   --done-dir DIR     skip job K when DIR/K.done exists, write it when job K succeeds, so a
#                      re-run after a failure redoes only the failed jobs
#   --num-threads N    threads per job: Slurm --cpus-per-task; locally OMP_NUM_THREADS and
#                      friends (default: the cores divided among the jobs running at once)
#   --mem M, --gpu N, --time T, --partition P: resources for Slurm (the local back-end accepts
#                      and ignores them so cmd.sh can switch freely)
# Exit status 0 when every job succeeded; otherwise 1, naming each failed job's log and printing
# its tail (`LAUNCH_TAIL_LINES`, default 20).

launch_name=$(basename "$0")
max_jobs_run=""
done_dir=""
num_threads=""
mem=""
gpu=0
time_limit=""
partition=""
extra_opts=""

launch_usage() {
    sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

launch_die() {
    echo "$launch_name: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
        --max-jobs-run|--done-dir|--num-threads|--mem|--gpu|--time|--partition|--extra-opts)
            [ $# -ge 2 ] || launch_die "option $1 needs a value"
            case "$1" in
                --max-jobs-run) max_jobs_run=$2 ;;
                --done-dir) done_dir=$2 ;;
                --num-threads) num_threads=$2 ;;
                --mem) mem=$2 ;;
                --gpu) gpu=$2 ;;
                --time) time_limit=$2 ;;
                --partition) partition=$2 ;;
                --extra-opts) extra_opts=$2 ;;
            esac
            shift 2
            ;;
        --help|-h)
            launch_usage
            exit 0
            ;;
        --*)
            launch_die "unknown option $1"
            ;;
        *)
            break
            ;;
    esac
done

job_var=""
job_ids=()
if [[ $# -gt 0 && $1 =~ ^([A-Za-z_][A-Za-z0-9_]*)=([0-9]+):([0-9]+)$ ]]; then
    job_var=${BASH_REMATCH[1]}
    job_first=${BASH_REMATCH[2]}
    job_last=${BASH_REMATCH[3]}
    [ "$job_first" -le "$job_last" ] || launch_die "empty job range $1"
    for ((k = job_first; k <= job_last; k++)); do job_ids+=("$k"); done
    shift
elif [[ $# -gt 0 && $1 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then
    launch_die "bad job range '$1'; expected e.g. JOB=1:4"
else
    job_ids=(1)
fi
[ $# -ge 2 ] || launch_die "usage: $launch_name [options] [JOB=1:N] LOGFILE COMMAND [ARGS...] (--help for details)"
log_template=$1
shift
command_args=("$@")
if [ -n "$job_var" ] && [[ $log_template != *"$job_var"* ]] && [ ${#job_ids[@]} -gt 1 ]; then
    launch_die "log file $log_template must contain $job_var, or every job would write the same log"
fi
if [ -n "$max_jobs_run" ] && ! [[ $max_jobs_run =~ ^[1-9][0-9]*$ ]]; then
    launch_die "--max-jobs-run must be a positive integer, got '$max_jobs_run'"
fi

# The log file of job $1.
launch_log_of() {
    if [ -n "$job_var" ]; then echo "${log_template//$job_var/$1}"; else echo "$log_template"; fi
}

# Jobs still to run: those without a done marker.
launch_pending_jobs() {
    local k
    for k in "${job_ids[@]}"; do
        if [ -n "$done_dir" ] && [ -e "$done_dir/$k.done" ]; then continue; fi
        echo "$k"
    done
}

# Report failed jobs (ids on stdin) with the tail of each log; exit 1 when there is any.
launch_report_failures() {
    local failed=() k log
    while read -r k; do failed+=("$k"); done
    [ ${#failed[@]} -eq 0 ] && return 0
    for k in "${failed[@]}"; do
        log=$(launch_log_of "$k")
        echo "$launch_name: job $k of ${#job_ids[@]} failed; log: $log" >&2
        if [ -f "$log" ]; then
            echo "----- last ${LAUNCH_TAIL_LINES:-20} lines of $log -----" >&2
            tail -n "${LAUNCH_TAIL_LINES:-20}" "$log" >&2
            echo "-----" >&2
        fi
    done
    echo "$launch_name: ${#failed[@]} of ${#job_ids[@]} job(s) failed" >&2
    exit 1
}
