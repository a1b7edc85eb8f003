#!/usr/bin/env bash
# MEDUSA on IEMOCAP with its usual protocol: leave-one-session-out cross-validation (fold k tests
# Session k; a speaker-disjoint Development set is carved from the training speakers), the 4-class
# setup by default (neu, ang, sad, hap+exc). The same stage functions as the MSP-Podcast recipe, run
# once per fold from stage 3 on; transcripts and features are made once per utterance. Stages:
#   0 fold manifests and soft labels      toolkit prepare iemocap
#   1 Whisper transcripts (sharded)       toolkit transcribe, every utterance once
#   2 features (sharded)                  toolkit extract, every stream of conf/ensemble.yaml, once
#   3 probes; MEDUSA stage 1 per member   toolkit probe, toolkit train --medusa-stage 1   (per fold)
#   4 MEDUSA stage 2 (balanced)           toolkit train --medusa-stage 2                   (per fold)
#   5 combination methods, submitted one  toolkit ensemble (--combine auto)               (per fold)
#   6 test files validated and scored per fold; the cross-validation table exp/<tag>/folds.md
#     (UA, WA, Macro-F1 per fold, mean ± std); with --cross_bundle, another corpus's system too
# The offline encoders are the default (they run anywhere); conf/ensemble_full.yaml holds the
# paper's encoders for a GPU site (its header gives the command line).
# Usage: bash run.sh --iemocap_root /data/IEMOCAP_full_release [--stage N] [--stop_stage M] [--folds "1 2"]
# [options]; --help lists the options. Every step writes a done marker, so a re-run skips finished work.
set -euo pipefail
original_args=("$@")
cd "$(dirname "${BASH_SOURCE[0]}")"
. ./db.sh

stage=0                          # first stage to run (0-6)
stop_stage=6                     # last stage to run
iemocap_root=$IEMOCAP            # IEMOCAP_full_release (Session1..5); default from db.sh
classes=4                        # 4 (neu, ang, sad, hap+exc) or 6 (neu, ang, sad, hap, exc, fru)
prepare_opts=""                  # extra options of toolkit prepare iemocap, e.g. "--label-map conf/my_map.yaml"
folds=""                         # folds to run from stage 3 on (default: every fold stage 0 wrote)
tag=iemocap_medusa               # experiment name: exp/<tag>/fold<k>
nj=2                             # shards of stages 1 and 2 (JOB=1:nj)
ngpu=0                           # GPUs per job; training with ngpu > 1 runs under torchrun
backend=local                    # job launcher, local or slurm (see cmd.sh)
max_jobs_run=2                   # local back-end: jobs at once
datadir=data                     # stage 0 writes data/all and data/fold<k>/{train,development,test}
dumpdir=dump                     # feature stores (stage 2): <dumpdir>/features/<stream>/all
expdir=exp                       # probes, members, ensembles, reports: <expdir>/<tag>/fold<k>
asr_opts="--backend faster-whisper --model tiny.en-offline --beam-size 1 --window utterance"  # options of toolkit transcribe
extract_opts=""                  # extra options of toolkit extract
encoder_conf_dir=conf/encoders   # one <stream>.yaml per feature stream
ensemble_conf=conf/ensemble.yaml # the DeepSER members and the streams each one fuses
train_overrides=""               # key=value overrides for every member, e.g. "stage1.max_epochs=2"
ensemble_opts=""                 # extra options of toolkit ensemble, e.g. "--combine soup"
cross_bundle=""                  # a bundle of a system trained on another corpus (toolkit export), also scored per fold
cross_class_map=""               # its classes onto IEMOCAP's beyond the shared codes, e.g. "E=H,C=-" (toolkit predict --class-map)

. ./path.sh
. ./cmd.sh
. utils/parse_options.sh
. utils/stage_lib.sh
. utils/medusa_stages.sh

if [ $# -ne 0 ]; then
    die "unexpected argument(s): $*; run '$0 --help' for the options"
fi
if run_stage 0; then
    if [ -z "$iemocap_root" ]; then
        die "no corpus path: pass --iemocap_root /path/to/IEMOCAP_full_release or set IEMOCAP in db.sh"
    fi
    [ -d "$iemocap_root/Session1" ] || die "--iemocap_root $iemocap_root is not IEMOCAP_full_release: no Session1/ in it"
fi
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}
exp=$expdir/$tag
save_command_line "$exp" bash run.sh "${original_args[@]}"
log "command line saved to $exp/run.sh; stages $stage..$stop_stage, backend $backend"

torchrun=()
if [ "$ngpu" -gt 1 ]; then
    torchrun=(torchrun --standalone --nproc_per_node "$ngpu" --no-python)
fi
# Stages 1-2 run on every utterance once (data/all); the folds read that one feature store.
splits=all
test_split=test
extra_data_overrides="data.store_split=all data.predict_splits=[development,test]"
test_key=""
submission_dir=""

if run_stage 0; then
    stage_begin 0 "IEMOCAP fold manifests ($classes classes) from $iemocap_root"
    # shellcheck disable=SC2086
    step "$datadir/.stage0.done" "prepare $datadir" \
        utils/run_local.sh "$datadir/log/prepare.log" toolkit prepare iemocap "$iemocap_root" "$datadir" \
        --classes "$classes" $prepare_opts
    stage_end
fi
if [ -z "$folds" ] && [ "$stop_stage" -ge 3 ]; then
    folds=$(python -m toolkit.recipes_support folds "$datadir/prepare_summary.json")
fi

if run_stage 1; then
    stage_begin 1 "transcripts of every utterance ($asr_opts)"
    transcribe_splits
    stage_end
fi

if run_stage 2; then
    stage_begin 2 "features of every stream in $ensemble_conf, every utterance"
    extract_streams
    stage_end
fi

if run_stage 3; then
    stage_begin 3 "probes, then MEDUSA stage 1 of every member, folds $folds"
    for_each_fold probe_streams
    for_each_fold train_members 1
    stage_end
fi

if run_stage 4; then
    stage_begin 4 "MEDUSA stage 2 of every member, folds $folds"
    for_each_fold train_members 2
    stage_end
fi

if run_stage 5; then
    stage_begin 5 "combination methods and the submitted system, folds $folds"
    for_each_fold combine_members
    stage_end
fi

if run_stage 6; then
    stage_begin 6 "test files and scores per fold; the cross-validation table"
    for_each_fold write_and_score_submissions
    if [ -n "$cross_bundle" ]; then
        for_each_fold score_cross_corpus "$cross_bundle" "$cross_class_map"
    fi
    python -m toolkit.recipes_support fold-table "$exp" --folds "$folds" | tee "$exp/folds.txt"
    log "cross-validation table: $exp/folds.md"
    stage_end
fi
