# Sourced by run.sh: how sharded stages (1, 2) and training jobs (3, 4) are launched.
# run.sh's --backend picks one when a stage runs: "local" runs JOB=1:N arrays on this machine,
# at most --max_jobs_run at once; "slurm" submits them as Slurm array jobs. Edit the resource
# requests below for your cluster; the local back-end ignores them.
slurm_cpu_opts="--num-threads 2 --mem 8G --time 4:00:00"
slurm_gpu_opts="--num-threads 4 --mem 32G --time 12:00:00"

. utils/backends.sh
