#!/usr/bin/env bash
# The job launchers behind cpu_cmd and gpu_cmd, sourced by every recipe's cmd.sh after it sets
# slurm_cpu_opts and slurm_gpu_opts. Reads run.sh's --backend, --max_jobs_run and --ngpu.

# cpu_cmd [launcher options] [JOB=1:N] LOGFILE COMMAND...: a job that needs no GPU.
cpu_cmd() {
    case "$backend" in
        local) utils/run_local.sh --max-jobs-run "$max_jobs_run" "$@" ;;
        # shellcheck disable=SC2086
        slurm) utils/run_slurm.sh $slurm_cpu_opts "$@" ;;
        *) echo "cmd.sh: --backend must be local or slurm, got '$backend'" >&2; return 1 ;;
    esac
}

# gpu_cmd [launcher options] [JOB=1:N] LOGFILE COMMAND...: a job that gets --ngpu GPUs (none when 0).
gpu_cmd() {
    case "$backend" in
        local) utils/run_local.sh --max-jobs-run "$max_jobs_run" --gpu "$ngpu" "$@" ;;
        # shellcheck disable=SC2086
        slurm) utils/run_slurm.sh $slurm_gpu_opts --gpu "$ngpu" "$@" ;;
        *) echo "cmd.sh: --backend must be local or slurm, got '$backend'" >&2; return 1 ;;
    esac
}
