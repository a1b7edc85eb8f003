#!/usr/bin/env bash
# Stages 1-6 of the MEDUSA recipes, one function per stage, sourced by every recipe's run.sh after
# its options are parsed. Each function reads the recipe's option variables (datadir, dumpdir, exp,
# splits, nj, asr_opts, extract_opts, encoder_conf_dir, ensemble_conf, train_overrides,
# ensemble_opts, submission_dir, tag, test_key, torchrun; the fold recipes also test_split, folds,
# extra_data_overrides) and calls one `toolkit` command per step
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

# Stage 3, first: linear probes on mean+std pooled features of each stream and of all streams
# (the EmoBox/SUPERB baseline every member must beat); quick, reported beside the members.
probe_streams() {
    local probe_lines name config streams
    probe_lines=$(python -m toolkit.recipes_support probes "$ensemble_conf")
    while IFS=$'\t' read -r name config streams _ <&3; do
        # shellcheck disable=SC2086
        step "$exp/probes/$name/.recipe_probe.done" "probe $name on $streams" \
            cpu_cmd "$exp/probes/$name/log/probe.log" \
            toolkit probe "$config" --exp-dir "$exp/probes/$name" --set "data.streams=$streams" \
            --set "data.manifest_dir=$datadir" --set "data.features_dir=$dumpdir/features" $(data_overrides)
    done 3<<<"$probe_lines"
}

# The --set arguments every member and probe of this recipe gets beyond its streams and directories
# (a recipe may define extra_data_overrides, e.g. the fold recipes' shared feature store).
data_overrides() {
    local override
    for override in ${extra_data_overrides:-}; do
        printf -- '--set %s ' "$override"
    done
}

# Stages 3 and 4: train_members MEDUSA_STAGE trains every member of the ensemble config
# (MEDUSA stage 1 on the full data, or stage 2 on class-balanced subsets), up to --max_jobs_run at
# once; locally each gets the cores divided among them, so parallel members do not oversubscribe.
train_members() {
    local medusa_stage=$1 member_lines name config streams fields override marker running=0 failed=()
    local thread_opts=()
    member_lines=$(python -m toolkit.recipes_support members "$ensemble_conf")
    if [ "$backend" = local ]; then
        local cores
        # The process's allotment (affinity, Slurm, cgroup quota), not every core of the machine.
        cores=$(python -m toolkit.utils.threads)
        thread_opts=(--num-threads $(( cores / max_jobs_run > 0 ? cores / max_jobs_run : 1 )))
    fi
    while IFS=$'\t' read -r -a fields <&3; do
        name=${fields[0]} config=${fields[1]} streams=${fields[2]}
        marker=$exp/members/$name/.recipe_stage$medusa_stage.done
        if [ -e "$marker" ]; then
            log "train $name on $streams (MEDUSA stage $medusa_stage): already done ($marker)"
            continue
        fi
        local overrides=(--set "data.streams=$streams" --set "data.manifest_dir=$datadir"
                         --set "data.features_dir=$dumpdir/features")
        # shellcheck disable=SC2046
        for override in "${fields[@]:3}" $train_overrides; do
            overrides+=(--set "$override")
        done
        # shellcheck disable=SC2206
        overrides+=($(data_overrides))
        if [ "$running" -ge "$max_jobs_run" ]; then
            wait -n || true
            running=$((running - 1))
        fi
        log "train $name on $streams (MEDUSA stage $medusa_stage)"
        (
            gpu_cmd "${thread_opts[@]}" "$exp/members/$name/log/train_stage$medusa_stage.log" \
                "${torchrun[@]}" toolkit train "$config" --exp-dir "$exp/members/$name" --medusa-stage "$medusa_stage" \
                --resume "${overrides[@]}" && touch "$marker"
        ) &
        running=$((running + 1))
    done 3<<<"$member_lines"
    wait
    while IFS=$'\t' read -r name _; do
        [ -e "$exp/members/$name/.recipe_stage$medusa_stage.done" ] || failed+=("$name")
    done <<<"$member_lines"
    if [ ${#failed[@]} -gt 0 ]; then
        die "MEDUSA stage $medusa_stage failed for member(s) ${failed[*]} (logs: $exp/members/<member>/log/); fix the cause and re-run with --stage $current_stage"
    fi
}

# Stage 5: every combination method (voting, best member, meta-classifier, soup) compared out-of-fold
# on Development, the submitted one (--combine, auto by default) on test3, probes for reference, report.
combine_members() {
    local name member_args=() probe_args=()
    while IFS=$'\t' read -r name _; do
        member_args+=(--member "$exp/members/$name")
    done < <(python -m toolkit.recipes_support members "$ensemble_conf")
    while IFS=$'\t' read -r name _ _ role; do
        # probe_members of the ensemble config are combined; the other probes are reference rows
        if [ "$role" = member ]; then
            member_args+=(--member "$exp/probes/$name")
        else
            probe_args+=(--probe "$exp/probes/$name")
        fi
    done < <(python -m toolkit.recipes_support probes "$ensemble_conf")
    # shellcheck disable=SC2086
    step "$exp/ensemble/.recipe_stage5.done" "ensemble of $((${#member_args[@]} / 2)) members" \
        utils/run_local.sh "$exp/ensemble/log/ensemble.log" \
        toolkit ensemble "${member_args[@]}" "${probe_args[@]}" --manifest "$datadir/development/manifest.csv" \
        --out-dir "$exp/ensemble" --tag "$tag" --submissions-dir "$exp/ensemble/leaderboard" --report "$exp/report.md" \
        --test-split "${test_split:-test3}" ${test_key:+--test-key "$test_key"} $ensemble_opts
}

# Stage 6: both leaderboard files for the test split ($test_split, test3 by default) into
# $submission_dir, validated; Development (out-of-fold) scored, and the test split when $test_key
# holds its labels.
write_and_score_submissions() {
    local scores=$exp/scores task test=${test_split:-test3}
    mkdir -p "$scores"
    step "$scores/.${test}_written.done" "write $submission_dir/${tag}_*.csv" \
        utils/run_local.sh "$scores/log/write_$test.log" python -m toolkit.recipes_support write-submissions \
        "$exp/ensemble/predictions/$test.csv" "$submission_dir" --tag "$tag" --manifest "$datadir/$test/manifest.csv"
    step "$scores/.development_written.done" "write the Development (out-of-fold) files" \
        utils/run_local.sh "$scores/log/write_development.log" python -m toolkit.recipes_support write-submissions \
        "$exp/ensemble/predictions/development_oof.csv" "$exp/ensemble/development" --tag "${tag}_development" \
        --manifest "$datadir/development/manifest.csv"
    for task in categorical attributes; do
        toolkit validate "$submission_dir/${tag}_$task.csv" --manifest "$datadir/$test/manifest.csv" ||
            die "$submission_dir/${tag}_$task.csv is not a valid leaderboard file (report above)"
        if python -m toolkit.recipes_support has-labels "$datadir/development/manifest.csv" --task "$task"; then
            toolkit score "$exp/ensemble/development/${tag}_development_$task.csv" \
                --reference "$datadir/development/manifest.csv" | tee "$scores/development_$task.txt"
        fi
        if [ -n "$test_key" ] && python -m toolkit.recipes_support has-labels "$test_key" --task "$task"; then
            toolkit score "$submission_dir/${tag}_$task.csv" --reference "$test_key" | tee "$scores/${test}_$task.txt"
        fi
    done
    log "leaderboard files: $submission_dir/${tag}_categorical.csv, $submission_dir/${tag}_attributes.csv"
    log "report: $exp/report.md; scores: $scores/"
}

# score_cross_corpus BUNDLE [CLASS_MAP]: the test split predicted by a system trained on another
# corpus (toolkit predict; its classes mapped onto this corpus's, shared codes plus CLASS_MAP),
# written as validated files in $exp/cross and scored against $test_key (test_scores.json).
score_cross_corpus() {
    local bundle=$1 class_map=${2:-} test=${test_split:-test3}
    step "$exp/cross/.predicted.done" "predict $test with the system in $bundle" \
        gpu_cmd "$exp/cross/log/predict.log" toolkit predict "$bundle" --manifest "$datadir/$test/manifest.csv" \
        --submissions-dir "$exp/cross" --tag "${tag}_cross" --format csv --output "$exp/cross/predictions.csv" \
        ${class_map:+--class-map "$class_map"}
    toolkit score "$exp/cross/${tag}_cross_categorical.csv" --reference "$test_key" --format json \
        >"$exp/cross/test_scores.json" || die "scoring $exp/cross/${tag}_cross_categorical.csv failed"
}

# for_each_fold COMMAND...: run COMMAND once per fold of $folds (the fold recipes), with datadir,
# exp, test_key and submission_dir pointing at that fold's manifests, experiments and files.
for_each_fold() {
    local fold data_root=$datadir exp_root=$exp submission_root=$submission_dir
    for fold in $folds; do
        datadir=$data_root/fold$fold exp=$exp_root/fold$fold submission_dir=$exp_root/fold$fold/submissions
        test_key=$datadir/$test_split/manifest.csv
        log "fold $fold"
        "$@"
    done
    datadir=$data_root exp=$exp_root submission_dir=$submission_root
}
