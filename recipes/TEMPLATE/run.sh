#!/usr/bin/env bash
# TEMPLATE for a new corpus: copy this directory to recipes/<corpus>/ and edit three files
# (docs/new_corpus.md): db.sh (where the corpus is), conf/label_map.yaml (its labels -> class
# codes) and conf/ensemble.yaml (members and streams). Stage 0 uses the generic adapter
# (toolkit prepare generic: a folder of wavs + a label CSV); a corpus in another layout gets its
# own adapter in toolkit/corpora/<corpus>.py, called here instead. Stages:
#   0 manifests                           toolkit prepare generic
#   1 Whisper transcripts (sharded)       toolkit transcribe
#   2 features (sharded)                  toolkit extract, every stream of conf/ensemble.yaml
#   3 probes; MEDUSA stage 1 per member   toolkit probe, toolkit train --medusa-stage 1
#   4 MEDUSA stage 2 (balanced)           toolkit train --medusa-stage 2
#   5 combination methods, submitted one  toolkit ensemble (--combine auto; soup: the paper)
#   6 leaderboard-style files for test3, validated; Development (and labelled test3) scored
# Usage: bash run.sh [--stage N] [--stop_stage M] [options]; --help lists the options. Relative paths
# are relative to this directory. Every step writes a done marker, so a re-run (or --stage N after a
# failure) skips finished work and redoes the rest.
set -euo pipefail
original_args=("$@")
cd "$(dirname "${BASH_SOURCE[0]}")"
. ./db.sh

stage=0                          # first stage to run (0-6)
stop_stage=6                     # last stage to run
audio_dir=$CORPUS_AUDIO           # folder of wavs; default from db.sh
labels_csv=$CORPUS_LABELS        # label CSV; default from db.sh
label_map=conf/label_map.yaml    # corpus label -> class code
dev_fraction=0.2                 # without a split column: share of speakers held out for Development
tag=my_corpus                    # experiment name: exp/<tag>, submissions/<tag>_*.csv
nj=2                             # shards of stages 1 and 2 (JOB=1:nj)
ngpu=0                           # GPUs per job; training with ngpu > 1 runs under torchrun
backend=local                    # job launcher, local or slurm (see cmd.sh)
max_jobs_run=2                   # local back-end: jobs at once
datadir=data                     # manifests (stage 0) and transcripts (stage 1)
dumpdir=dump                     # feature stores (stage 2): <dumpdir>/features/<stream>/<split>
expdir=exp                       # members, ensemble and report: <expdir>/<tag>
submission_dir=../../submissions # leaderboard files (stage 6)
splits="train development test3" # splits transcribed and featurised
prepare_opts=""                  # extra options of toolkit prepare generic, e.g. "--attribute-range 1 5"
asr_opts="--backend faster-whisper --model tiny.en-offline --beam-size 1 --window utterance"  # options of toolkit transcribe (as the mini recipe: one window per utterance, 4x faster than 30 s windows)
extract_opts=""                  # extra options of toolkit extract, e.g. "--strict"
encoder_conf_dir=../mini_podcast/conf/encoders  # one <stream>.yaml per feature stream
ensemble_conf=conf/ensemble.yaml # the DeepSER members and the streams each one fuses
train_overrides=""               # key=value overrides for every member, e.g. "stage1.max_epochs=2"
ensemble_opts=""                 # extra options of toolkit ensemble, e.g. "--soup-runs 6 --folds 5"
test_key=""                      # test3 labels to score against, e.g. data/test3/manifest.csv when the CSV labels test rows

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh
. utils/stage_lib.sh
. utils/medusa_stages.sh

if [ $# -ne 0 ]; then
    die "unexpected argument(s): $*; run '$0 --help' for the options"
fi
if run_stage 0; then
    if [ -z "$audio_dir" ] || [ -z "$labels_csv" ]; then
        die "no corpus path: pass --audio_dir DIR --labels_csv FILE or set CORPUS_AUDIO and CORPUS_LABELS in db.sh"
    fi
    [ -d "$audio_dir" ] || die "--audio_dir $audio_dir is not a directory"
    [ -f "$labels_csv" ] || die "--labels_csv $labels_csv not found"
fi
exp=$expdir/$tag
save_command_line "$exp" bash run.sh "${original_args[@]}"
log "command line saved to $exp/run.sh; stages $stage..$stop_stage, backend $backend"

torchrun=()
if [ "$ngpu" -gt 1 ]; then
    torchrun=(torchrun --standalone --nproc_per_node "$ngpu" --no-python)
fi

if run_stage 0; then
    stage_begin 0 "manifests from $audio_dir and $labels_csv"
    # shellcheck disable=SC2086
    step "$datadir/.stage0.done" "prepare $datadir" \
        utils/run_local.sh "$datadir/log/prepare.log" toolkit prepare generic "$audio_dir" "$labels_csv" "$datadir" \
        --label-map "$label_map" --dev-fraction "$dev_fraction" $prepare_opts
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
