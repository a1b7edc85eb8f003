"""recipes/utils/run_local.sh: JOB=1:N arrays with a parallelism limit, per-job logs, failures with log tails."""

import subprocess
import time

from tests.recipes.conftest import UTILS


def launch(*args, cwd):
    return subprocess.run([str(UTILS / "run_local.sh"), *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def test_every_job_gets_its_id_and_its_own_log(tmp_path):
    result = launch("JOB=1:3", "log/echo.JOB.log", "bash", "-c", 'echo "job JOB arg $0"', "two words", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for job in (1, 2, 3):
        log = (tmp_path / f"log/echo.{job}.log").read_text()
        assert f"job {job} arg two words" in log
        assert "# Ended (code 0)" in log


def test_at_most_max_jobs_run_run_at_once(tmp_path):
    # Each job records its start and end time; with a limit of 2, no 3 intervals may overlap.
    command = 'date +%s.%N > t/JOB.start; sleep 0.6; date +%s.%N > t/JOB.end'
    (tmp_path / "t").mkdir()
    started = time.monotonic()
    result = launch("--max-jobs-run", "2", "JOB=1:4", "log/s.JOB.log", "bash", "-c", command, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    intervals = [(float((tmp_path / f"t/{k}.start").read_text()), float((tmp_path / f"t/{k}.end").read_text()))
                 for k in range(1, 5)]
    for start, _ in intervals:
        running = sum(1 for other_start, other_end in intervals if other_start <= start < other_end)
        assert running <= 2
    assert time.monotonic() - started >= 1.2, "4 jobs of 0.6 s, 2 at a time, need two rounds"


def test_a_failing_job_fails_the_array_with_its_log_tail_and_a_rerun_redoes_only_it(tmp_path):
    (tmp_path / "runs").mkdir()
    command = 'echo ran >> runs/JOB; echo "detail of JOB"; [ ! -e fail.JOB ]'
    (tmp_path / "fail.2").touch()
    args = ("--done-dir", "log/done", "JOB=1:3", "log/w.JOB.log", "bash", "-c", command)
    result = launch(*args, cwd=tmp_path)
    assert result.returncode == 1
    assert "job 2 of 3 failed; log: log/w.2.log" in result.stderr
    assert "detail of 2" in result.stderr and "detail of 1" not in result.stderr
    assert sorted(path.name for path in (tmp_path / "log/done").iterdir()) == ["1.done", "3.done"]

    (tmp_path / "fail.2").unlink()
    result = launch(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    runs = {k: (tmp_path / f"runs/{k}").read_text().count("ran") for k in (1, 2, 3)}
    assert runs == {1: 1, 2: 2, 3: 1}


def test_single_job_without_range_and_bad_usage(tmp_path):
    result = launch("one.log", "echo", "JOB", cwd=tmp_path)
    assert result.returncode == 0
    assert "JOB" in (tmp_path / "one.log").read_text(), "without JOB=... nothing is substituted"
    result = launch("JOB=1:2", "same.log", "true", cwd=tmp_path)
    assert result.returncode == 1 and "must contain JOB" in result.stderr
    result = launch("--bogus", "1", "x.log", "true", cwd=tmp_path)
    assert result.returncode == 1 and "unknown option --bogus" in result.stderr


def test_parallel_jobs_share_the_cores_unless_num_threads_says_otherwise(tmp_path):
    import os

    result = launch("--max-jobs-run", "2", "JOB=1:2", "log/t.JOB.log", "bash", "-c", 'echo "threads=$OMP_NUM_THREADS"',
                    cwd=tmp_path)
    assert result.returncode == 0
    assert f"threads={max(1, len(os.sched_getaffinity(0)) // 2)}" in (tmp_path / "log/t.1.log").read_text()
    result = launch("--num-threads", "3", "one.log", "bash", "-c", 'echo "threads=$OMP_NUM_THREADS"', cwd=tmp_path)
    assert "threads=3" in (tmp_path / "one.log").read_text()
