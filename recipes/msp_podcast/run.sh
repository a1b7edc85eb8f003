#!/usr/bin/env bash
# MEDUSA on MSP-Podcast (Interspeech 2025 SER challenge, Task 1 and Task 2), from the corpus to
# validated leaderboard files. Stages:
#   0 manifests and soft labels           toolkit prepare msp-podcast
#   1 Whisper transcripts (sharded)       toolkit transcribe
#   2 frozen encoder features (sharded)   toolkit extract, every stream of conf/ensemble.yaml
#   3 probes; MEDUSA stage 1 per member   toolkit probe, toolkit train --medusa-stage 1
#   4 MEDUSA stage 2 (balanced)           toolkit train --medusa-stage 2
#   5 combination methods, submitted one  toolkit ensemble (--combine auto; soup: the paper)
#   6 leaderboard files, validated; Development (and test3 with --test_key) scored
# Usage: bash run.sh --msp_root /data/MSP-Podcast [--stage N] [--stop_stage M] [options]; --help lists
# the options. Relative paths are relative to this directory. Every step writes a done marker, so a
# re-run (or --stage N after a failure) skips finished work and redoes the rest.
set -euo pipefail
original_args=("$@")
cd "$(dirname "${BASH_SOURCE[0]}")"
. ./db.sh

stage=0                          # first stage to run (0-6)
stop_stage=6                     # last stage to run
msp_root=$MSP_PODCAST            # MSP-Podcast release (Audios/, Labels/, Transcripts/); default from db.sh
tag=medusa                       # experiment name: exp/<tag>, submissions/<tag>_*.csv
nj=8                             # shards of stages 1 and 2 (JOB=1:nj)
ngpu=0                           # GPUs per job; training with ngpu > 1 runs under torchrun
backend=local                    # job launcher, local or slurm (see cmd.sh)
max_jobs_run=4                   # local back-end: jobs at once
datadir=data                     # manifests (stage 0) and transcripts (stage 1)
dumpdir=dump                     # feature stores (stage 2): <dumpdir>/features/<stream>/<split>
expdir=exp                       # members, ensemble and report: <expdir>/<tag>
submission_dir=../../submissions # leaderboard files (stage 6)
splits="train development test3" # splits transcribed and featurised
prepare_opts=""                  # extra options of toolkit prepare msp-podcast, e.g. "--secondary-weight 0.5"
asr_opts="--backend openai-whisper --model large-v3 --beam-size 5"  # options of toolkit transcribe (official MEDUSA: greedy, --beam-size 1)
extract_opts=""                  # extra options of toolkit extract, e.g. "--batch-seconds 400"
encoder_conf_dir=conf/encoders   # one <stream>.yaml per feature stream
ensemble_conf=conf/ensemble.yaml # the DeepSER members and the streams each one fuses
train_overrides=""               # key=value overrides for every member, e.g. "stage1.max_epochs=2"
ensemble_opts=""                 # extra options of toolkit ensemble, e.g. "--soup-runs 6 --folds 5"
test_key=""                      # test3 labels (labels_consensus format) to score test3 against

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh
. utils/stage_lib.sh
. utils/medusa_stages.sh

if [ $# -ne 0 ]; then
    die "unexpected argument(s): $*; run '$0 --help' for the options"
fi
if run_stage 0; then
    if [ -z "$msp_root" ]; then
        die "no corpus path: pass --msp_root /path/to/MSP-Podcast or set MSP_PODCAST in db.sh"
    fi
    if [ ! -d "$msp_root/Audios" ] || [ ! -d "$msp_root/Labels" ]; then
        die "--msp_root $msp_root is not an MSP-Podcast release: expected Audios/ and Labels/ in it"
    fi
fi
exp=$expdir/$tag
save_command_line "$exp" bash run.sh "${original_args[@]}"
log "command line saved to $exp/run.sh; stages $stage..$stop_stage, backend $backend"

torchrun=()
if [ "$ngpu" -gt 1 ]; then
    torchrun=(torchrun --standalone --nproc_per_node "$ngpu" --no-python)
fi

if run_stage 0; then
    stage_begin 0 "manifests and soft labels from $msp_root"
    # shellcheck disable=SC2086
    step "$datadir/.stage0.done" "prepare $datadir" \
        utils/run_local.sh "$datadir/log/prepare.log" toolkit prepare msp-podcast "$msp_root" "$datadir" $prepare_opts
    stage_end
fi

if run_stage 1; then
    stage_begin 1 "transcripts ($asr_opts)"
    transcribe_splits
    stage_end
fi

if run_stage 2; then
    stage_begin 2 "features of every stream in $ensemble_conf"
    extract_streams
    stage_end
fi

if run_stage 3; then
    stage_begin 3 "linear probes (the baseline), then MEDUSA stage 1: every member on the full training data"
    probe_streams
    train_members 1
    stage_end
fi

if run_stage 4; then
    stage_begin 4 "MEDUSA stage 2: every member on class-balanced subsets"
    train_members 2
    stage_end
fi

if run_stage 5; then
    stage_begin 5 "MEDUSA stages 3-4: meta-classifier and soup"
    combine_members
    stage_end
fi

if run_stage 6; then
    stage_begin 6 "leaderboard files for test3, validated; scores"
    write_and_score_submissions
    stage_end
fi
