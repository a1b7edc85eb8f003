#!/usr/bin/env bash
# One job of a launcher's JOB=A:B array, the same on every back-end (run_local.sh runs it directly,
# run_slurm.sh from the batch script of each array task): JOB_VAR in LOG and in the command becomes
# K; the command's output goes into the log between a header and Kaldi-style accounting lines; a
# finished job leaves DONE_DIR/K.done (when DONE_DIR is set) and its exit code in STATUS_DIR/K.
#
#   run_job.sh K JOB_VAR LOG DONE_DIR STATUS_DIR WHERE COMMAND...
set -uo pipefail
k=$1 job_var=$2 log=$3 done_dir=$4 status_dir=$5 where=$6
shift 6
args=("$@")
if [ -n "$job_var" ]; then
    log=${log//$job_var/$k}
    args=("${args[@]//$job_var/$k}")
fi
mkdir -p "$(dirname "$log")"
start=$(date +%s)
{
    echo "# ${args[*]}"
    echo "# Started at $(date) on $where"
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
exit $rc
