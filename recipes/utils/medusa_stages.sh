#!/usr/bin/env bash
# Stages 1-6 of the MEDUSA recipes, one function per stage, sourced by every recipe's run.sh after
# its options are parsed. Each function reads the recipe's option variables (datadir, dumpdir, exp,
# splits, nj, asr_opts, extract_opts, encoder_conf_dir, ensemble_conf, train_overrides,
# ensemble_opts, submission_dir, tag, test_key, torchrun) and calls one `toolkit` command per step
# through `step` (stage_lib.sh), so each step is skipped once its done marker exists. A corpus
# differs from another in stage 0 and in its conf/, not here.

# Stage 1: Whisper transcripts of every split, JOB=1:nj shards, then a merge.
transcribe_splits() {
    local split out
    for split in $splits; do
        out=$datadir/$split/asr
        # shellcheck disable=SC2086
        step "$out/log/shards_nj$nj.done" "transcribe $split in $nj jobs" \
            gpu_cmd --done-dir "$out/log/done_nj$nj" JOB=1:"$nj" "$out/log/transcribe.JOB.log" \
            toolkit transcribe "$datadir/$split/manifest.csv" "$out" --nj "$nj" --job JOB $asr_opts
        step "$out/.stage1.done" "merge the transcripts of $split" \
            utils/run_local.sh "$out/log/merge.log" toolkit transcribe "$datadir/$split/manifest.csv" "$out" --nj "$nj" --merge
    done
}

# Stage 2: every feature stream any member uses, for every split, sharded, then merged.
extract_streams() {
    local stream_lines stream encoder split out
    stream_lines=$(python -m toolkit.recipes_support streams "$ensemble_conf" --encoder-dir "$encoder_conf_dir")
    while IFS=$'\t' read -r stream encoder <&3; do
        for split in $splits; do
            out=$dumpdir/features/$stream/$split
            # shellcheck disable=SC2086
            step "$out/log/shards_nj$nj.done" "extract $stream for $split in $nj jobs" \
                gpu_cmd --done-dir "$out/log/done_nj$nj" JOB=1:"$nj" "$out/log/extract.JOB.log" \
                toolkit extract "$datadir/$split/asr/manifest.csv" "$out" --encoder "$encoder" --nj "$nj" --job JOB $extract_opts
            step "$out/.stage2.done" "merge the $stream shards of $split" \
                utils/run_local.sh "$out/log/merge.log" \
                toolkit extract "$datadir/$split/asr/manifest.csv" "$out" --encoder "$encoder" --nj "$nj" --merge
        done
    done 3<<<"$stream_lines"
}

# Stages 3 and 4: train_members MEDUSA_STAGE trains every member of the ensemble config
# (MEDUSA stage 1 on the full data, or stage 2 on class-balanced subsets).
train_members() {
    local medusa_stage=$1 member_lines name config streams fields overrides override
    member_lines=$(python -m toolkit.recipes_support members "$ensemble_conf")
    while IFS=$'\t' read -r -a fields <&3; do
        name=${fields[0]} config=${fields[1]} streams=${fields[2]}
        overrides=(--set "data.streams=$streams" --set "data.manifest_dir=$datadir" --set "data.features_dir=$dumpdir/features")
        for override in "${fields[@]:3}" $train_overrides; do
            overrides+=(--set "$override")
        done
        step "$exp/members/$name/.recipe_stage$medusa_stage.done" "train $name on $streams (MEDUSA stage $medusa_stage)" \
            gpu_cmd "$exp/members/$name/log/train_stage$medusa_stage.log" \
            "${torchrun[@]}" toolkit train "$config" --exp-dir "$exp/members/$name" --medusa-stage "$medusa_stage" \
            --resume "${overrides[@]}"
    done 3<<<"$member_lines"
}

# Stage 5: meta-classifier (k-fold over Development), soup, baselines and report.
combine_members() {
    local member_lines name member_args=()
    member_lines=$(python -m toolkit.recipes_support members "$ensemble_conf")
    while IFS=$'\t' read -r name _; do
        member_args+=(--member "$exp/members/$name")
    done <<<"$member_lines"
    # shellcheck disable=SC2086
    step "$exp/ensemble/.recipe_stage5.done" "ensemble of $((${#member_args[@]} / 2)) members" \
        utils/run_local.sh "$exp/ensemble/log/ensemble.log" \
        toolkit ensemble "${member_args[@]}" --manifest "$datadir/development/manifest.csv" --out-dir "$exp/ensemble" \
        --tag "$tag" --submissions-dir "$exp/ensemble/leaderboard" --report "$exp/report.md" $ensemble_opts
}

# Stage 6: both leaderboard files for test3 into $submission_dir, validated; Development
# (out-of-fold) scored, and test3 when $test_key holds its labels.
write_and_score_submissions() {
    local scores=$exp/scores task
    mkdir -p "$scores"
    step "$scores/.test3_written.done" "write $submission_dir/${tag}_*.csv" \
        utils/run_local.sh "$scores/log/write_test3.log" python -m toolkit.recipes_support write-submissions \
        "$exp/ensemble/predictions/test3.csv" "$submission_dir" --tag "$tag" --manifest "$datadir/test3/manifest.csv"
    step "$scores/.development_written.done" "write the Development (out-of-fold) files" \
        utils/run_local.sh "$scores/log/write_development.log" python -m toolkit.recipes_support write-submissions \
        "$exp/ensemble/predictions/development_oof.csv" "$exp/ensemble/development" --tag "${tag}_development" \
        --manifest "$datadir/development/manifest.csv"
    for task in categorical attributes; do
        toolkit validate "$submission_dir/${tag}_$task.csv" --manifest "$datadir/test3/manifest.csv" ||
            die "$submission_dir/${tag}_$task.csv is not a valid leaderboard file (report above)"
        if python -m toolkit.recipes_support has-labels "$datadir/development/manifest.csv" --task "$task"; then
            toolkit score "$exp/ensemble/development/${tag}_development_$task.csv" \
                --reference "$datadir/development/manifest.csv" | tee "$scores/development_$task.txt"
        fi
        if [ -n "$test_key" ] && python -m toolkit.recipes_support has-labels "$test_key" --task "$task"; then
            toolkit score "$submission_dir/${tag}_$task.csv" --reference "$test_key" | tee "$scores/test3_$task.txt"
        fi
    done
    log "leaderboard files: $submission_dir/${tag}_categorical.csv, $submission_dir/${tag}_attributes.csv"
    log "report: $exp/report.md; scores: $scores/"
}
