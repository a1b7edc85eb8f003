#!/usr/bin/env bash
# Local back-end of the Kaldi run.pl kind: runs JOB=A:B array jobs on this machine, at most
# --max-jobs-run at once, each writing its own log. Usage and options: utils/launch_common.sh.
#
#   utils/run_local.sh --max-jobs-run 2 JOB=1:4 exp/log/extract.JOB.log toolkit extract ... --job JOB
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/launch_common.sh"

max_jobs_run=${max_jobs_run:-$(nproc)}
mapfile -t pending < <(launch_pending_jobs)
# Each job's math libraries get --num-threads threads, by default the cores shared among the jobs
# running at once, so parallel jobs do not oversubscribe the machine.
if [ -z "$num_threads" ]; then
    at_once=$((${#pending[@]} < max_jobs_run ? ${#pending[@]} : max_jobs_run))
    num_threads=$(($(nproc) / (at_once > 0 ? at_once : 1)))
    num_threads=$((num_threads > 0 ? num_threads : 1))
fi
export OMP_NUM_THREADS=$num_threads MKL_NUM_THREADS=$num_threads OPENBLAS_NUM_THREADS=$num_threads
status_dir=$(mktemp -d)
trap 'rm -rf "$status_dir"' EXIT

run_one() {
    local k=$1 log args rc start
    log=$(launch_log_of "$k")
    args=("${command_args[@]}")
    [ -n "$job_var" ] && args=("${args[@]//$job_var/$k}")
    mkdir -p "$(dirname "$log")"
    start=$(date +%s)
    {
        echo "# ${args[*]}"
        echo "# Started at $(date) on $(hostname)"
    } >"$log"
    "${args[@]}" >>"$log" 2>&1 </dev/null
    rc=$?
    {
        echo "# Accounting: time=$(($(date +%s) - start)) seconds"
        echo "# Ended (code $rc) at $(date)"
    } >>"$log"
    if [ $rc -eq 0 ] && [ -n "$done_dir" ]; then
        mkdir -p "$done_dir" && touch "$done_dir/$k.done"
    fi
    echo "$rc" >"$status_dir/$k"
}

running=0
for k in "${pending[@]}"; do
    if [ "$running" -ge "$max_jobs_run" ]; then
        wait -n
        running=$((running - 1))
    fi
    run_one "$k" &
    running=$((running + 1))
done
wait

for k in "${pending[@]}"; do
    if [ "$(cat "$status_dir/$k" 2>/dev/null || echo missing)" != 0 ]; then echo "$k"; fi
done | launch_report_failures
