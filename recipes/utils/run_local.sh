#!/usr/bin/env bash
# Local back-end of the Kaldi run.pl kind: runs JOB=A:B array jobs on this machine, at most
# --max-jobs-run at once, each writing its own log. Usage and options: utils/launch_common.sh.
#
#   utils/run_local.sh --max-jobs-run 2 JOB=1:4 exp/log/extract.JOB.log toolkit extract ... --job JOB
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/launch_common.sh"

# The CPUs this launcher may use, by the toolkit's rules (toolkit/utils/threads.py: the smallest of
# its CPU affinity, SLURM_CPUS_PER_TASK, its cgroup CPU quota and OMP_NUM_THREADS; stdlib only, so
# any python3 runs it); nproc, which sees only the affinity and OMP_NUM_THREADS, where that fails.
toolkit_root=$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && cd ../.. && pwd)
cpus=$(PYTHONPATH="$toolkit_root${PYTHONPATH:+:$PYTHONPATH}" python3 -m toolkit.utils.threads 2>/dev/null) \
    && [[ $cpus =~ ^[1-9][0-9]*$ ]] || cpus=$(nproc)
max_jobs_run=${max_jobs_run:-$cpus}
mapfile -t pending < <(launch_pending_jobs)
# Each job's math libraries get --num-threads threads, by default the CPUs shared among the jobs
# running at once, so parallel jobs do not oversubscribe the machine.
if [ -z "$num_threads" ]; then
    at_once=$((${#pending[@]} < max_jobs_run ? ${#pending[@]} : max_jobs_run))
    num_threads=$((cpus / (at_once > 0 ? at_once : 1)))
    num_threads=$((num_threads > 0 ? num_threads : 1))
fi
export OMP_NUM_THREADS=$num_threads MKL_NUM_THREADS=$num_threads OPENBLAS_NUM_THREADS=$num_threads
status_dir=$(mktemp -d)
trap 'rm -rf "$status_dir"' EXIT

run_one() {
    "$(dirname "${BASH_SOURCE[0]}")/run_job.sh" "$1" "$job_var" "$log_template" "$done_dir" "$status_dir" "$(hostname)" \
        "${command_args[@]}"
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
