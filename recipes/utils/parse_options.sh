#!/usr/bin/env bash
# Kaldi-style option parsing for recipe scripts; source it after the defaults:
#
#   stage=0          # first stage to run
#   nj=4             # parallel jobs for sharded stages
#   . utils/parse_options.sh
#
# Semantics (Kaldi's utils/parse_options.sh, plus `--name=value` and a generated --help):
# - `--foo-bar x` and `--foo_bar x` set the variable foo_bar, which must already have a default;
#   an option with no default is an error, so a typo never passes silently.
# - A variable whose default is true/false only accepts true/false.
# - `--config FILE` sources FILE (shell assignments) before the remaining options.
# - `--help` / `-h` prints $help_message (when set) and every option with its current value and
#   the comment on its default line, then exits 0.
# - Parsing stops at the first argument that is not an option; it stays in "$@".

_parse_options_list() {
    # Option lines are `name=value  # comment` at the start of a line, above the `. utils/parse_options.sh`
    # line. Recipes cd into their own directory first, so $0 may need its directory dropped.
    local script=$0
    [ -f "$script" ] || script=$(basename "$0")
    sed -n '/^\.[[:space:]]*\(\.\/\)\{0,1\}utils\/parse_options\.sh/q; p' "$script" |
        grep -E '^[A-Za-z_][A-Za-z0-9_]*=([^(]|$)' || true
}

_parse_options_help() {
    echo "Usage: $0 [options]${usage_args:+ $usage_args}"
    if [ -n "${help_message:-}" ]; then
        echo "$help_message"
    fi
    echo "Options (default or current value in brackets):"
    local line name comment
    while IFS= read -r line; do
        name=${line%%=*}
        comment=""
        case "$line" in
            *"#"*) comment=${line#*#}; comment=${comment# } ;;
        esac
        printf '  --%-24s [%s]  %s\n' "$name" "${!name-}" "$comment"
    done < <(_parse_options_list)
    printf '  --%-24s %s\n' "config FILE" "source FILE (shell assignments) before the other options"
}

while [ $# -gt 0 ]; do
    case "$1" in
        --help|-h)
            _parse_options_help
            exit 0
            ;;
        --config)
            if [ $# -lt 2 ]; then
                echo "$0: option --config needs a file argument" >&2
                exit 1
            fi
            if [ ! -f "$2" ]; then
                echo "$0: --config $2: no such file" >&2
                exit 1
            fi
            # shellcheck disable=SC1090
            . "$2"
            shift 2
            ;;
        --*=*)
            _po_name=${1%%=*}
            _po_value=${1#*=}
            set -- "$_po_name" "$_po_value" "${@:2}"
            ;;
        --*)
            _po_name=${1#--}
            _po_name=${_po_name//-/_}
            if ! [[ $_po_name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
                echo "$0: invalid option name '$1'" >&2
                exit 1
            fi
            if [ -z "${!_po_name+set}" ]; then
                echo "$0: unknown option '$1' (no variable '$_po_name' has a default); run '$0 --help' for the options" >&2
                exit 1
            fi
            if [ $# -lt 2 ]; then
                echo "$0: option '$1' needs a value" >&2
                exit 1
            fi
            _po_old=${!_po_name}
            if [ "$_po_old" = true ] || [ "$_po_old" = false ]; then
                if [ "$2" != true ] && [ "$2" != false ]; then
                    echo "$0: option '$1' takes true or false, got '$2'" >&2
                    exit 1
                fi
            fi
            printf -v "$_po_name" '%s' "$2"
            shift 2
            ;;
        *)
            break
            ;;
    esac
done
unset _po_name _po_value _po_old
true
