"""toolkit.utils.threads: the CPU allotment rules, their precedence, and what the CLI sets at start-up."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.utils.threads import CpuLimit, ThreadAllotment, cgroup_limit, choose_threads, thread_environment

REPO = Path(__file__).resolve().parents[2]
AFFINITY = len(os.sched_getaffinity(0))


def cgroup_tree(root: Path, files: dict, own: str) -> Path:
    """A cgroup root with ``files`` ({relative path: text}) and a /proc/self/cgroup naming ``own``."""
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    self_cgroup = root.parent / f"{root.name}.self_cgroup"
    self_cgroup.write_text(own)
    return self_cgroup


def no_cgroup(tmp_path: Path) -> dict:
    return {"cgroup_root": tmp_path / "none", "self_cgroup": tmp_path / "none.self"}


def test_without_any_other_limit_the_affinity_decides(tmp_path):
    allotment = choose_threads(environ={}, **no_cgroup(tmp_path))
    assert allotment.threads == AFFINITY
    assert allotment.limits == (CpuLimit("CPU affinity", AFFINITY),)


def test_a_process_pinned_to_one_cpu_gets_one_thread():
    code = ("import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))});"
            "from pathlib import Path; from toolkit.utils.threads import choose_threads;"
            "print(choose_threads(environ={}, cgroup_root=Path('/nonexistent')).threads)")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert output.strip() == "1"


def test_slurm_cpus_per_task_limits_and_bad_values_are_ignored(tmp_path):
    assert choose_threads(environ={"SLURM_CPUS_PER_TASK": "1"}, **no_cgroup(tmp_path)).threads == 1
    assert choose_threads(environ={"SLURM_CPUS_PER_TASK": "999"}, **no_cgroup(tmp_path)).threads == AFFINITY
    for bad in ("", "two", "0", "-3"):
        allotment = choose_threads(environ={"SLURM_CPUS_PER_TASK": bad}, **no_cgroup(tmp_path))
        assert [limit.source for limit in allotment.limits] == ["CPU affinity"]


def test_omp_num_threads_from_a_launcher_limits(tmp_path):
    assert choose_threads(environ={"OMP_NUM_THREADS": "1"}, **no_cgroup(tmp_path)).threads == 1
    # A nested list gives the outermost level's count.
    nested = choose_threads(environ={"OMP_NUM_THREADS": "1,4"}, **no_cgroup(tmp_path))
    assert nested.threads == 1 and nested.limits[-1] == CpuLimit("OMP_NUM_THREADS", 1)
    assert choose_threads(environ={"OMP_NUM_THREADS": "junk"}, **no_cgroup(tmp_path)).threads == AFFINITY


def test_cgroup_v2_quota_is_rounded_down_and_at_least_one(tmp_path):
    root = tmp_path / "cg"
    self_cgroup = cgroup_tree(root, {"cpu.max": "250000 100000\n"}, "0::/\n")
    limit = cgroup_limit(root, self_cgroup)
    assert limit.cpus == 2 and "2.5 CPUs" in limit.detail and str(root / "cpu.max") in limit.detail
    (root / "cpu.max").write_text("50000 100000\n")
    assert cgroup_limit(root, self_cgroup).cpus == 1
    (root / "cpu.max").write_text("max 100000\n")
    assert cgroup_limit(root, self_cgroup) is None


def test_cgroup_v2_an_ancestor_quota_binds_the_process_in_a_child(tmp_path):
    # systemd's CPUQuota= sits on the unit (or slice); the process lives in a child cgroup without a quota.
    root = tmp_path / "cg"
    files = {"batch.slice/cpu.max": "100000 100000\n", "batch.slice/job.scope/cpu.max": "max 100000\n",
             "other.slice/cpu.max": "10000 100000\n"}
    self_cgroup = cgroup_tree(root, files, "0::/batch.slice/job.scope\n")
    limit = cgroup_limit(root, self_cgroup)
    assert limit.cpus == 1 and "batch.slice/cpu.max" in limit.detail
    # The tightest of the chain wins, wherever it is.
    (root / "batch.slice/job.scope/cpu.max").write_text("300000 100000\n")
    (root / "batch.slice/cpu.max").write_text("400000 100000\n")
    assert cgroup_limit(root, self_cgroup).cpus == 3


def test_cgroup_in_a_container_without_namespace_uses_the_mount_itself(tmp_path):
    # /proc/self/cgroup names the host's path, which does not exist under the container's mount.
    root = tmp_path / "cg"
    self_cgroup = cgroup_tree(root, {"cpu.max": "100000 100000\n"}, "0::/docker/0123abcd\n")
    assert cgroup_limit(root, self_cgroup).cpus == 1


def test_cgroup_v1_quota_and_period(tmp_path):
    root = tmp_path / "cg"
    files = {"cpu,cpuacct/slurm/cpu.cfs_quota_us": "150000\n", "cpu,cpuacct/slurm/cpu.cfs_period_us": "100000\n",
             "cpu,cpuacct/cpu.cfs_quota_us": "-1\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n",
             "memory/slurm/memory.limit_in_bytes": "1000000\n"}
    self_cgroup = cgroup_tree(root, files, "5:memory:/slurm\n4:cpu,cpuacct:/slurm\n0::/\n")
    limit = cgroup_limit(root, self_cgroup)
    assert limit.cpus == 1 and "1.5 CPUs" in limit.detail and "cpu.cfs_quota_us" in limit.detail
    (root / "cpu,cpuacct/slurm/cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_limit(root, self_cgroup) is None, "-1 means no quota"


def test_no_cgroup_files_or_unreadable_ones_mean_no_limit(tmp_path):
    assert cgroup_limit(tmp_path / "missing", tmp_path / "missing.self") is None
    root = tmp_path / "cg"
    self_cgroup = cgroup_tree(root, {"cpu.max": "garbage\n"}, "0::/\n")
    assert cgroup_limit(root, self_cgroup) is None


def test_the_smallest_limit_wins_and_the_reason_names_it(tmp_path):
    root = tmp_path / "cg"
    self_cgroup = cgroup_tree(root, {"cpu.max": "100000 100000\n"}, "0::/\n")
    allotment = choose_threads(environ={"SLURM_CPUS_PER_TASK": "8", "OMP_NUM_THREADS": "4"}, cgroup_root=root,
                               self_cgroup=self_cgroup)
    assert allotment.threads == 1
    assert [limit.source for limit in allotment.limits] == [
        "CPU affinity", "SLURM_CPUS_PER_TASK", "cgroup CPU quota", "OMP_NUM_THREADS"]
    assert allotment.reason.startswith("1, set by cgroup CPU quota: the smallest of CPU affinity")


def test_num_threads_overrides_the_allotment_even_above_it(tmp_path):
    allotment = choose_threads(AFFINITY + 3, environ={"OMP_NUM_THREADS": "1"}, **no_cgroup(tmp_path))
    assert allotment.threads == AFFINITY + 3 and allotment.explicit and allotment.allotted == 1
    assert allotment.reason.startswith(f"{AFFINITY + 3} from --num-threads (the allotment would be 1")
    with pytest.raises(ValueError):
        choose_threads(0, environ={}, **no_cgroup(tmp_path))


def test_thread_variables_get_the_count_but_a_smaller_library_setting_stays():
    limits = (CpuLimit("CPU affinity", 4),)
    changes = thread_environment(ThreadAllotment(2, limits), {"OMP_NUM_THREADS": "4", "MKL_NUM_THREADS": "1"})
    assert changes == {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "BLIS_NUM_THREADS": "2",
                       "VECLIB_MAXIMUM_THREADS": "2"}
    explicit = thread_environment(ThreadAllotment(3, limits, explicit=True), {"MKL_NUM_THREADS": "1"})
    assert explicit["MKL_NUM_THREADS"] == "3" and explicit["OMP_NUM_THREADS"] == "3"


def run_cli_then_import_torch(args, env_extra):
    """Run ``toolkit ARGS`` in a fresh interpreter, then import torch there; what did each set?"""
    code = (
        "import json, os, sys\n"
        "from click.testing import CliRunner\n"
        "from toolkit.cli import main\n"
        "result = CliRunner().invoke(main, sys.argv[1:])\n"
        "torch_before = 'torch' in sys.modules\n"
        "import torch\n"
        "print(json.dumps({'exit': result.exit_code, 'output': result.output, 'torch_before': torch_before,\n"
        "                  'threads': torch.get_num_threads(), 'interop': torch.get_num_interop_threads(),\n"
        "                  'env': {k: os.environ.get(k) for k in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS')}}))\n"
    )
    env = {key: value for key, value in os.environ.items()
           if key not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "SLURM_CPUS_PER_TASK")}
    env.update(env_extra)
    completed = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True,
                               cwd=REPO, env=env)
    return json.loads(completed.stdout.strip().splitlines()[-1]), completed.stderr


def test_cli_start_up_sets_torch_and_blas_threads_without_importing_torch():
    # `validate --help` never imports torch; torch imported afterwards still gets the allotment.
    report, _ = run_cli_then_import_torch(["validate", "--help"], {"SLURM_CPUS_PER_TASK": "1"})
    assert report["exit"] == 0 and not report["torch_before"]
    assert (report["threads"], report["interop"]) == (1, 1)
    assert report["env"] == {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def test_cli_num_threads_option_wins_and_warns_above_the_allotment():
    report, stderr = run_cli_then_import_torch(["--num-threads", "3", "validate", "--help"], {"OMP_NUM_THREADS": "1"})
    assert report["exit"] == 0 and report["threads"] == 3 and report["env"]["OMP_NUM_THREADS"] == "3"
    assert "--num-threads 3 is more than the 1 CPU(s) this process may use" in report["output"] + stderr


def test_cli_logs_the_choice_at_debug():
    report, stderr = run_cli_then_import_torch(["--log-level", "DEBUG", "validate", "--help"],
                                               {"OMP_NUM_THREADS": "1"})
    assert "threads for torch, OpenMP and BLAS: 1, set by OMP_NUM_THREADS" in report["output"] + stderr


def test_module_prints_the_allotment_for_launchers():
    env = {**os.environ, "SLURM_CPUS_PER_TASK": "1", "PYTHONPATH": str(REPO)}
    env.pop("OMP_NUM_THREADS", None)
    output = subprocess.run([sys.executable, "-m", "toolkit.utils.threads"], capture_output=True, text=True,
                            check=True, env=env).stdout
    assert output == "1\n"


def test_scipy_own_blas_runs_one_thread_inside_the_block_and_numpys_keeps_its_threads():
    # A fresh process whose BLAS pools both start with 2 threads, whatever this machine's core count.
    code = (
        "import json, numpy, scipy\n"
        "from pathlib import Path\n"
        "from threadpoolctl import threadpool_info\n"
        "from toolkit.utils.threads import scipy_own_blas_single_threaded\n"
        "def pools():\n"
        "    return sorted((Path(p['filepath']).resolve().parent.name, p['num_threads'])\n"
        "                  for p in threadpool_info() if p['user_api'] == 'blas')\n"
        "import scipy.optimize\n"
        "before = pools()\n"
        "with scipy_own_blas_single_threaded():\n"
        "    during = pools()\n"
        "print(json.dumps({'before': before, 'during': during, 'after': pools()}))\n"
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2", "PYTHONPATH": str(REPO)}
    report = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                       env=env).stdout)
    before, during, after = (dict(map(tuple, report[moment])) for moment in ("before", "during", "after"))
    if "scipy.libs" not in before:
        pytest.skip(f"scipy bundles no BLAS of its own here (BLAS libraries in {sorted(before)}): nothing to limit")
    if AFFINITY < 2:
        pytest.skip("one CPU: OpenBLAS runs one thread in every pool already")
    assert before == after and before["scipy.libs"] == before["numpy.libs"] == 2
    assert during == {"numpy.libs": 2, "scipy.libs": 1}
