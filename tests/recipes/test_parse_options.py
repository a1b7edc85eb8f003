"""recipes/utils/parse_options.sh: Kaldi option semantics for run.sh scripts."""

import subprocess

import pytest

from tests.recipes.conftest import UTILS

SCRIPT = """#!/usr/bin/env bash
set -euo pipefail
cd "$(dirname "$0")"
stage=0            # first stage
stop_stage=6       # last stage
foo_bar="a b"      # a value with a space
use_gpu=false      # a boolean
nj=4
. utils/parse_options.sh
echo "stage=$stage stop_stage=$stop_stage foo_bar=$foo_bar use_gpu=$use_gpu nj=$nj rest=$*"
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "run.sh"
    path.write_text(SCRIPT)
    (tmp_path / "utils").symlink_to(UTILS)
    return path


def run(script, *args):
    return subprocess.run(["bash", str(script), *args], capture_output=True, text=True, timeout=30)


def test_dashes_and_underscores_set_the_variable_and_positionals_remain(script):
    result = run(script, "--stage", "3", "--stop-stage", "5", "--foo-bar", "x y", "--nj=7", "pos1", "--pos2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stage=3 stop_stage=5 foo_bar=x y use_gpu=false nj=7 rest=pos1 --pos2"


def test_unknown_option_is_an_error_naming_it(script):
    result = run(script, "--stagee", "3")
    assert result.returncode != 0
    assert "unknown option '--stagee'" in result.stderr
    assert "stage=" not in result.stdout


def test_missing_value_and_non_boolean_for_a_boolean_are_errors(script):
    result = run(script, "--nj")
    assert result.returncode != 0 and "option '--nj' needs a value" in result.stderr
    result = run(script, "--use-gpu", "yes")
    assert result.returncode != 0 and "takes true or false" in result.stderr
    assert run(script, "--use-gpu", "true").stdout.count("use_gpu=true") == 1


def test_help_lists_every_option_with_its_default_and_comment(script):
    result = run(script, "--help")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert any("--stage" in line and "[0]" in line and "first stage" in line for line in lines)
    assert any("--foo_bar" in line and "[a b]" in line and "a value with a space" in line for line in lines)
    assert any("--nj" in line and "[4]" in line for line in lines)
    assert "stage=" not in result.stdout, "--help must exit before the script body runs"


def test_config_file_is_sourced_before_later_options(script, tmp_path):
    config = tmp_path / "my.conf"
    config.write_text("nj=9\nstage=2\n")
    result = run(script, "--config", str(config), "--stage", "4")
    assert result.returncode == 0, result.stderr
    assert "stage=4" in result.stdout and "nj=9" in result.stdout
