#!/usr/bin/env bash
# Small helpers shared by the recipes' run.sh (sourced): logging, stage timing, done-marked steps.

# file:line of the recipe code (run.sh or medusa_stages.sh, not this file) that led to the current call.
_recipe_line() {
    local i
    for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
        if [ "${BASH_SOURCE[i]}" != "${BASH_SOURCE[0]}" ]; then
            echo "$(basename "${BASH_SOURCE[i]}"):${BASH_LINENO[i - 1]}"
            return
        fi
    done
    echo "?"
}

log() {
    echo "$(date '+%Y-%m-%d %H:%M:%S') ($(_recipe_line)) $*"
}

die() {
    log "ERROR: $*" >&2
    exit 1
}

# run_stage N: true when stage N lies within --stage .. --stop_stage.
run_stage() {
    [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]
}

stage_begin() {
    current_stage=$1
    stage_started=$SECONDS
    log "Stage $1: $2 -- start"
}

stage_end() {
    log "Stage $current_stage: done in $((SECONDS - stage_started)) s"
}

# step MARKER DESCRIPTION COMMAND...: skip when MARKER exists, otherwise run COMMAND and write
# MARKER when it succeeds. The launchers (utils/run_*.sh) print the tail of a failed job's log.
step() {
    local marker=$1 description=$2
    shift 2
    if [ -e "$marker" ]; then
        log "$description: already done ($marker)"
        return 0
    fi
    log "$description"
    "$@" || die "$description failed; fix the cause and re-run with --stage $current_stage"
    mkdir -p "$(dirname "$marker")"
    touch "$marker"
}

# save_command_line DIR ARGS...: write DIR/run.sh, which replays this run from the recipe directory.
save_command_line() {
    local dir=$1
    shift
    mkdir -p "$dir"
    {
        echo "#!/usr/bin/env bash"
        echo "# $(date '+%Y-%m-%d %H:%M:%S') on $(hostname)"
        printf 'cd %q\n' "$PWD"
        printf '%q ' "$@"
        echo
    } >"$dir/run.sh"
    chmod +x "$dir/run.sh"
}
