# Sourced by run.sh: how sharded stages (1, 2) and training jobs (3, 4) are launched.
# run.sh's --backend picks one when a stage runs: "local" runs JOB=1:N arrays on this machine,
# at most --max_jobs_run at once; "slurm" submits them as Slurm array jobs. Edit the resource
# requests below for your cluster; the local back-end ignores them.
slurm_cpu_opts="--num-threads 1 --mem 4G --time 1:00:00"
slurm_gpu_opts="--num-threads 1 --mem 8G --time 2:00:00"

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
