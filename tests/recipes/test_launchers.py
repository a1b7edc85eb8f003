"""recipes/utils/run_local.sh: JOB=1:N arrays with a parallelism limit, per-job logs, failures with log tails."""

import os
import subprocess
import sys
import time

from tests.recipes.conftest import REPO, UTILS
from toolkit.utils.threads import choose_threads


def launch(*args, cwd, env=None):
    return subprocess.run([str(UTILS / "run_local.sh"), *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=60)


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


def launcher_env(**extra):
    """This environment without an outer thread allotment, plus ``extra``."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("OMP_NUM_THREADS", "SLURM_CPUS_PER_TASK")}
    environment.update(extra)
    return environment


def test_parallel_jobs_share_the_cores_unless_num_threads_says_otherwise(tmp_path):
    cpus = choose_threads(environ=launcher_env()).threads
    result = launch("--max-jobs-run", "2", "JOB=1:2", "log/t.JOB.log", "bash", "-c", 'echo "threads=$OMP_NUM_THREADS"',
                    cwd=tmp_path, env=launcher_env())
    assert result.returncode == 0
    assert f"threads={max(1, cpus // 2)}" in (tmp_path / "log/t.1.log").read_text()
    result = launch("--num-threads", "3", "one.log", "bash", "-c", 'echo "threads=$OMP_NUM_THREADS"', cwd=tmp_path)
    assert "threads=3" in (tmp_path / "one.log").read_text()


def test_jobs_share_only_the_cpus_the_launcher_itself_was_allotted(tmp_path):
    # Inside a Slurm allocation of 1 CPU (or under a cgroup quota of 1) the local launcher must not
    # give each job the machine's cores: nproc sees neither limit, the toolkit's allotment sees both.
    result = launch("log/s.log", "bash", "-c", 'echo "threads=$OMP_NUM_THREADS"', cwd=tmp_path,
                    env=launcher_env(SLURM_CPUS_PER_TASK="1"))
    assert result.returncode == 0, result.stderr
    assert "threads=1" in (tmp_path / "log/s.log").read_text()


def test_a_job_takes_its_share_as_its_own_allotment(tmp_path):
    # The launcher's OMP_NUM_THREADS is what a toolkit command in the job then uses.
    script = "from toolkit.utils.threads import choose_threads; print('allotted', choose_threads().threads)"
    result = launch("--max-jobs-run", "2", "JOB=1:2", "log/p.JOB.log", sys.executable, "-c", script, cwd=tmp_path,
                    env=launcher_env(PYTHONPATH=str(REPO)))
    assert result.returncode == 0, result.stderr
    cpus = choose_threads(environ=launcher_env()).threads
    assert f"allotted {max(1, cpus // 2)}" in (tmp_path / "log/p.2.log").read_text()
