"""Which datatrove executor runs a classify pipeline, and with what arguments (local, Slurm or Ray).

The arguments are built as a plain dict first, so `--dry-run` can print exactly what the executor would get.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ExecutorKind = Literal["local", "slurm", "ray"]
EXECUTOR_CLASSES: dict[str, str] = {"local": "LocalPipelineExecutor", "slurm": "SlurmPipelineExecutor",
                                    "ray": "RayPipelineExecutor"}
LOGS_DIR = "logs"


class ExecutorError(ValueError):
    """Executor options that cannot work (Slurm without a partition, a missing `ray`, a bad --slurm-arg)."""


@dataclass(frozen=True)
class ExecutorOptions:
    """What the command line says about the executor; None leaves datatrove's default (tasks: one per shard)."""

    kind: ExecutorKind = "local"
    tasks: int | None = None
    workers: int | None = None
    partition: str | None = None
    time: str | None = None
    cpus_per_task: int | None = None
    mem_per_cpu_gb: float | None = None
    venv_path: str | None = None
    job_name: str = "cogbeh_classify"
    slurm_args: tuple[str, ...] = field(default_factory=tuple)
    requeue: bool = True


def parse_slurm_args(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`KEY=VALUE` strings -> sbatch arguments (`account=abc` becomes `#SBATCH --account=abc`)."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ExecutorError(f"--slurm-arg takes KEY=VALUE (e.g. account=myproj), got {pair!r}")
        parsed[key.strip().removeprefix("--")] = value
    return parsed


def executor_arguments(options: ExecutorOptions, *, tasks: int | None, out: Path) -> dict[str, Any]:
    """Keyword arguments for the datatrove executor class (all but `pipeline`)."""
    if options.tasks is not None and options.tasks < 1:
        raise ExecutorError("--tasks must be at least 1")
    if options.workers is not None and options.workers < 1:
        raise ExecutorError("--workers must be at least 1")
    arguments: dict[str, Any] = {"tasks": options.tasks or tasks, "logging_dir": str(out / LOGS_DIR),
                                 "skip_completed": True}
    if options.workers is not None:
        arguments["workers"] = options.workers
    if options.kind == "local":
        if options.workers is None:  # datatrove's default (all tasks at once) oversubscribes a laptop
            arguments["workers"] = max(1, min(arguments["tasks"] or 1, os.cpu_count() or 1))
        return arguments
    if options.cpus_per_task is not None:
        arguments["cpus_per_task"] = options.cpus_per_task
    if options.mem_per_cpu_gb is not None:
        arguments["mem_per_cpu_gb"] = options.mem_per_cpu_gb
    if options.kind == "ray":
        return arguments
    if not options.partition or not options.time:
        raise ExecutorError("--executor slurm needs --partition and --time (e.g. --time 12:00:00)")
    arguments.update(partition=options.partition, time=options.time, job_name=options.job_name,
                     venv_path=options.venv_path, sbatch_args=parse_slurm_args(options.slurm_args),
                     requeue=options.requeue)
    return arguments


def check_options(options: ExecutorOptions) -> None:
    """Refuse options the chosen executor would ignore silently."""
    slurm_only = {"--partition": options.partition, "--time": options.time, "--venv-path": options.venv_path,
                  "--slurm-arg": options.slurm_args or None}
    if options.kind != "slurm":
        given = [name for name, value in slurm_only.items() if value is not None]
        if given:
            raise ExecutorError(f"{given[0]} is for --executor slurm, not {options.kind}")
    if options.kind == "local" and (options.cpus_per_task is not None or options.mem_per_cpu_gb is not None):
        raise ExecutorError("--cpus-per-task/--mem-per-cpu-gb are for --executor slurm or ray, not local")


def require_backend(options: ExecutorOptions) -> None:
    """Fail early when the executor's backend is missing (datatrove imports `ray` only inside run())."""
    if options.kind != "ray":
        return
    try:
        import ray  # noqa: F401
    except ModuleNotFoundError:
        raise ExecutorError("--executor ray needs the ray package: pip install 'ray[default]'") from None


def describe(options: ExecutorOptions, arguments: dict[str, Any]) -> dict[str, Any]:
    """The configuration `--dry-run` prints and the manifest records."""
    return {"executor": options.kind, "class": f"datatrove.executor.{EXECUTOR_CLASSES[options.kind]}",
            "arguments": arguments}


def build_executor(options: ExecutorOptions, pipeline: list[Any], arguments: dict[str, Any]) -> Any:
    """The datatrove executor, ready to `run()`."""
    if options.kind == "local":
        from datatrove.executor import LocalPipelineExecutor

        return LocalPipelineExecutor(pipeline, **arguments)
    if options.kind == "slurm":
        from datatrove.executor import SlurmPipelineExecutor

        return SlurmPipelineExecutor(pipeline, **arguments)
    require_backend(options)
    from datatrove.executor import RayPipelineExecutor

    return RayPipelineExecutor(pipeline, **arguments)
