#!/usr/bin/env bash
# Slurm back-end of the Kaldi slurm.pl kind: submits JOB=A:B as one array job with
# `sbatch --array=... --wait`, so the call returns when every task has ended; each task writes
# its own log. Usage and options: utils/launch_common.sh. Resources map to sbatch options:
# --num-threads -> --cpus-per-task, --mem -> --mem, --gpu N -> --gres=gpu:N, --time, --partition,
# --max-jobs-run N -> --array=...%N, --extra-opts "..." is passed to sbatch as it is.
#
#   utils/run_slurm.sh --gpu 1 --time 4:00:00 JOB=1:8 exp/log/extract.JOB.log toolkit extract ... --job JOB
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/launch_common.sh"

command -v sbatch >/dev/null || launch_die "sbatch not found: install the Slurm client or choose the local back-end in cmd.sh"

mapfile -t pending < <(launch_pending_jobs)
[ ${#pending[@]} -eq 0 ] && exit 0

queue_dir=$(dirname "$(launch_log_of "${job_ids[0]}")")/q
mkdir -p "$queue_dir"
stem=$(basename "$log_template")
stem=${stem%.log}
stem=${stem//./_}
script="$queue_dir/$stem.sh"
status_dir="$queue_dir/$stem.status"
rm -rf "$status_dir"
mkdir -p "$status_dir"

# The batch script substitutes the task id at run time; every value is %q-quoted so any
# argument (spaces, quotes) reaches the command unchanged.
{
    echo '#!/usr/bin/env bash'
    printf 'k=${SLURM_ARRAY_TASK_ID:-1}\n'
    printf 'job_var=%q\n' "$job_var"
    printf 'log=%q\n' "$log_template"
    printf 'args=('; printf ' %q' "${command_args[@]}"; printf ' )\n'
    printf 'done_dir=%q\n' "$done_dir"
    printf 'status_dir=%q\n' "$status_dir"
    printf 'run_job=%q\n' "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/run_job.sh"
    cat <<'BODY'
if [ -n "${SLURM_CPUS_PER_TASK:-}" ]; then
    export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK MKL_NUM_THREADS=$SLURM_CPUS_PER_TASK
fi
exec "$run_job" "$k" "$job_var" "$log" "$done_dir" "$status_dir" "$(hostname), Slurm job ${SLURM_JOB_ID:-?}" "${args[@]}"
BODY
} >"$script"
chmod +x "$script"

array=$(IFS=,; echo "${pending[*]}")
[ -n "$max_jobs_run" ] && array="$array%$max_jobs_run"
sbatch_args=(--parsable --wait --array="$array" --job-name="$stem" --output="$queue_dir/$stem.%a.slurm.out")
[ -n "$num_threads" ] && sbatch_args+=(--cpus-per-task="$num_threads")
[ -n "$mem" ] && sbatch_args+=(--mem="$mem")
[ "$gpu" != 0 ] && sbatch_args+=(--gres="gpu:$gpu")
[ -n "$time_limit" ] && sbatch_args+=(--time="$time_limit")
[ -n "$partition" ] && sbatch_args+=(--partition="$partition")
# shellcheck disable=SC2206
[ -n "$extra_opts" ] && sbatch_args+=($extra_opts)

sbatch "${sbatch_args[@]}" "$script" >"$queue_dir/$stem.sbatch.out" 2>&1
sbatch_rc=$?
if [ $sbatch_rc -ne 0 ] && [ -z "$(ls -A "$status_dir")" ]; then
    echo "$launch_name: sbatch failed (code $sbatch_rc) before any task ran:" >&2
    cat "$queue_dir/$stem.sbatch.out" >&2
    exit 1
fi

for k in "${pending[@]}"; do
    if [ "$(cat "$status_dir/$k" 2>/dev/null || echo missing)" != 0 ]; then echo "$k"; fi
done | launch_report_failures
