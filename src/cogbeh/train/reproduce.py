"""`reproduce`: the paper's pipeline for a grid of priming conditions x base models, resumable stage by stage.

Stages, in order: the ablation (generated, or reused when finished), tiny models (if any), each condition's
train split, then per model x condition: SFT, RL, eval (the primed model as step 0 and every RL checkpoint),
and last the report (one figure per model, one line per condition; a CSV per condition x model).
Each stage ends by writing OUT/stages/<id>.json atomically with a key of its settings and its inputs' keys;
a rerun skips a stage whose marker holds the same key and redoes (after clearing its folder) any other.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cogbeh.train.reproduce_spec import LoadedSpec

Log = Callable[[str], None]
STAGES = "stages"
#: Problem source name for TinyZero's test split (rows 327,680..328,703 of Jiayi-Pan/Countdown-Tasks-3to4).
TINYZERO_TEST = "tinyzero-test"


class ReproduceError(RuntimeError):
    """A stage cannot run as asked (bad problem source, overlap left nothing, folder in use)."""


@dataclass
class Stage:
    """One resumable step: its id, the folder it owns, its key (settings + upstream keys) and its work."""

    id: str
    folder: Path | None
    settings: dict[str, Any]
    after: list[Stage] = field(default_factory=list)
    work: Callable[[], dict[str, Any] | None] = lambda: None
    clear: bool = True  # remove a partial folder before redoing (not for a reused ablation folder)

    @property
    def key(self) -> str:
        payload = json.dumps(
            {"settings": self.settings, "after": [s.key for s in self.after]}, sort_keys=True, default=str
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def marker(self, out: Path) -> Path:
        return out / STAGES / f"{self.id}.json"

    def status(self, out: Path) -> str:
        """'done', 'stale' (finished with other settings or inputs) or 'todo'."""
        try:
            saved = json.loads(self.marker(out).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return "todo"
        return "done" if saved.get("key") == self.key else "stale"


def plan(loaded: LoadedSpec) -> list[Stage]:
    """Every stage of the grid, in the order they run."""
    spec, out = loaded.spec, loaded.out
    ablation_dir = Path(spec.ablation_dir) if spec.ablation_dir else out / "ablation"
    ablation = Stage("ablation", ablation_dir, {"spec": loaded.ablation.model_dump(mode="json")}, clear=False)
    ablation.work = lambda: _run_ablation(loaded, ablation_dir)
    stages = [ablation]
    models: dict[str, tuple[str, list[Stage]]] = {}
    for model in spec.models:
        if model.tiny is None:
            models[model.name] = (str(model.path), [])
            continue
        folder = out / "models" / model.name
        built = Stage(f"model-{model.name}", folder, {"tiny": model.tiny})
        built.work = lambda folder=folder, size=model.tiny: _build_tiny(folder, size)
        stages.append(built)
        models[model.name] = (str(folder), [built])
    data = {}
    for condition in spec.conditions:
        path = out / "data" / condition / "train.jsonl"
        data[condition] = Stage(f"data-{condition}", path.parent, {"condition": condition}, [ablation])
        data[condition].work = lambda c=condition, p=path: _train_split(ablation_dir, c, p)
        stages.append(data[condition])
    evals = {}
    for model in spec.models:
        base, built = models[model.name]
        for condition in spec.conditions:
            stages += _run_stages(
                loaded, model.name, base, condition, [data[condition], *built], ablation_dir
            )
            evals[(model.name, condition)] = stages[-1]
    report = Stage("report", out / "results", {"grid": [list(k) for k in evals]}, list(evals.values()))
    report.work = lambda: write_report(loaded, {k: s.folder for k, s in evals.items() if s.folder})
    return [*stages, report]


def _run_stages(
    loaded: LoadedSpec, model: str, base: str, condition: str, before: list[Stage], ablation_dir: Path
) -> list[Stage]:
    """SFT, RL and eval for one model x condition."""
    spec, run = loaded.spec, loaded.out / "runs" / model / condition
    sft = Stage(
        f"sft-{model}-{condition}",
        run / "sft",
        {
            "model": base,
            **spec.sft.model_dump(),
            "config": _digest(loaded.sft_config),
            "style": _style_key(loaded),
        },
        before,
    )
    sft.work = lambda: _sft(loaded, base, before[0].folder / "train.jsonl", run / "sft")
    rl = Stage(
        f"rl-{model}-{condition}",
        run / "rl",
        {**spec.rl.model_dump(), "config": _digest(loaded.rl_config), "style": _style_key(loaded)},
        [sft],
    )
    rl.work = lambda: _rl(loaded, run / "sft", run / "rl", ablation_dir)
    ev = Stage(
        f"eval-{model}-{condition}",
        run / "eval",
        {**spec.eval.model_dump(), "style": _style_key(loaded)},
        [rl],
    )
    ev.work = lambda: _eval(loaded, run, ablation_dir)
    return [sft, rl, ev]


def run(loaded: LoadedSpec, *, log: Log = lambda _: None) -> list[tuple[str, str]]:
    """Run every stage not yet done, in order; (stage id, 'skipped'|'ran') for each."""
    from cogbeh.runfiles import FolderLock, RunFolderError, write_atomic

    out = loaded.out
    out.mkdir(parents=True, exist_ok=True)
    try:
        lock = FolderLock(out).acquire()
    except RunFolderError as err:
        raise ReproduceError(str(err)) from None
    done = []
    with lock:
        write_atomic(
            out / "reproduce_spec.json", json.dumps(loaded.spec.model_dump(mode="json"), indent=2) + "\n"
        )
        for stage in plan(loaded):
            status = stage.status(out)
            if status == "done":
                log(f"skip {stage.id} (done)")
                done.append((stage.id, "skipped"))
                continue
            log(f"run  {stage.id}" + (" (settings or inputs changed)" if status == "stale" else ""))
            stage.marker(out).unlink(missing_ok=True)
            if stage.clear and stage.folder is not None and stage.folder.exists():
                shutil.rmtree(stage.folder)  # a partial stage from a killed run: redo it from the start
            info = stage.work() or {}
            write_atomic(
                stage.marker(out),
                json.dumps({"id": stage.id, "key": stage.key, **info}, indent=2, default=str) + "\n",
            )
            done.append((stage.id, "ran"))
    return done


def _style_key(loaded: LoadedSpec) -> str:
    template = loaded.prompt_template
    return loaded.spec.prompt_style + (f":{_digest(template)}" if template else "")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _run_ablation(loaded: LoadedSpec, folder: Path) -> dict[str, Any]:
    from cogbeh.ablation import AblationError, run_ablation

    try:  # resume: a finished ablation is reused as is, a partial one continued
        manifest = run_ablation(loaded.ablation, out=folder, resume=True)
    except AblationError as err:
        raise ReproduceError(str(err)) from None
    return {"folder": str(folder), "conditions": manifest.get("config_order")}


def _build_tiny(folder: Path, size: str) -> dict[str, Any]:
    from cogbeh.train.tiny import build_tiny_model

    return {"model": str(build_tiny_model(folder, size=size))}


def _train_split(ablation_dir: Path, condition: str, path: Path) -> dict[str, Any]:
    """The condition's train rows only (its test problems are held out), as a records file for `train sft`."""
    from cogbeh.runfiles import write_atomic

    source = ablation_dir / condition
    test = set(json.loads((source / "splits.json").read_text(encoding="utf-8")).get("test_problems") or [])
    lines = [
        line
        for line in (source / "records.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip() and json.loads(line).get("problem_id") not in test
    ]
    write_atomic(path, "".join(line + "\n" for line in lines))
    return {"rows": len(lines)}


def _style(loaded: LoadedSpec) -> Any:
    """The one prompt format of every stage: the style, or a raw template file in its place."""
    from cogbeh.prompting import PromptFormat

    return PromptFormat(style=loaded.spec.prompt_style, template=loaded.prompt_template)


def _sft(loaded: LoadedSpec, base: str, data: Path, out: Path) -> dict[str, Any]:
    from cogbeh.train.sft import train_sft

    sft = loaded.spec.sft
    result = train_sft(
        data,
        base,
        out,
        lora=sft.lora,
        config=loaded.sft_config,
        max_steps=sft.max_steps,
        style=_style(loaded),
    )
    return {"metrics": result.metrics}


def _problems(source: Any, *, exclude: list[Any]) -> list[Any]:
    """`source.n` problems after `source.skip`, none of them in `exclude` (presets are sampled around it)."""
    from cogbeh.countdown import PRESETS, sample_problems
    from cogbeh.train.data import DataError, load_rl_problems

    if source.problems in PRESETS:
        return sample_problems(source.n or 1024, preset=source.problems, seed=source.seed, exclude=exclude)
    from cogbeh.train.evaluate import tinyzero_test_problems

    seen = {p.id for p in exclude}
    wanted = None if source.n is None else source.skip + source.n + len(seen)
    try:
        if source.problems == TINYZERO_TEST:
            return [p for p in tinyzero_test_problems(source.n) if p.id not in seen]
        loaded = load_rl_problems(source.problems, n=wanted, seed=source.seed)[source.skip :]
    except DataError as err:
        raise ReproduceError(str(err)) from None
    kept = [p for p in loaded if p.id not in seen]
    return kept[: source.n] if source.n is not None else kept


def _ablation_problems(ablation_dir: Path) -> list[Any]:
    from cogbeh.countdown import load_problems

    return load_problems(ablation_dir / "problems.jsonl")


def _rl(loaded: LoadedSpec, sft: Path, out: Path, ablation_dir: Path) -> dict[str, Any]:
    from cogbeh.countdown import save_problems
    from cogbeh.train.rl import train_rl

    rl = loaded.spec.rl
    problems = _problems(rl, exclude=_ablation_problems(ablation_dir))  # disjoint from every priming problem
    out.mkdir(parents=True, exist_ok=True)
    save_problems(problems, out.parent / "rl_problems.jsonl")
    result = train_rl(
        str(sft),
        problems,
        out,
        config=loaded.rl_config,
        max_steps=rl.max_steps,
        lora=rl.lora,
        style=_style(loaded),
    )
    return {"problems": len(problems), "metrics": result.metrics}


def _eval(loaded: LoadedSpec, run: Path, ablation_dir: Path) -> dict[str, Any]:
    from cogbeh.countdown import load_problems
    from cogbeh.train.evaluate import evaluate

    ev = loaded.spec.eval
    seen = [*_ablation_problems(ablation_dir), *load_problems(run / "rl_problems.jsonl")]
    problems = _problems(ev, exclude=seen)
    result = evaluate(
        str(run / "sft"),
        problems,
        run / "eval",
        checkpoints=run / "rl",
        max_new_tokens=ev.max_new_tokens,
        batch_size=ev.batch_size,
        temperature=ev.temperature,
        judge=ev.judge,
        device=ev.device,
        engine=ev.engine,
        seed=ev.seed,
        style=_style(loaded),
    )
    return {"problems": len(problems), "steps": [row["step"] for row in result.rows]}


def write_report(loaded: LoadedSpec, evals: dict[tuple[str, str], Path]) -> dict[str, Any]:
    """results/<model>/<condition>.csv per run, results/<model>.png (a line per condition), grid.csv."""
    from cogbeh.train.evaluate import plot, write_csv

    results = loaded.out / "results"
    results.mkdir(parents=True, exist_ok=True)
    everything: list[dict[str, Any]] = []
    by_model: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for (model, condition), folder in evals.items():
        rows = json.loads((folder / "eval.json").read_text(encoding="utf-8"))["rows"]
        rows = [{"model": model, "condition": condition, **row} for row in rows]
        (results / model).mkdir(exist_ok=True)
        write_csv(rows, results / model / f"{condition}.csv")
        by_model.setdefault(model, {})[condition] = rows
        everything += rows
    figures = []
    for model, runs in by_model.items():
        title = f"{loaded.spec.name} grid, model {model}: priming conditions ({loaded.spec.eval.n} problems)"
        figures.append(str(plot(runs, results / f"{model}.png", title=title)))
    write_csv(everything, results / "grid.csv")
    return {"figures": figures, "csv": len(evals)}


# --- GPU-hours estimate for --dry-run ---------------------------------------------------------------------
# Basis: training costs 6·P·T FLOPs (forward + backward) for P parameters and T tokens; generation costs
# 2·P·T (forward only). FLOPs / (peak dense bf16 FLOP/s x utilisation) = seconds. Utilisation is assumed:
# 35% for training (typical for a 3B model with FlashAttention), 10% for generation (decoding is
# memory-bound even with vLLM's batching). Tokens come from the configs: SFT rows x epochs x tokens per row;
# RL completions per step (per_device_train_batch_size x gradient_accumulation_steps) x (prompt +
# completion_fill x max_completion_length), generated once and trained on num_iterations times (+ a
# reference forward when beta > 0); eval: every checkpoint (save_steps apart, plus step 0 and the last) x
# problems x tokens generated. One GPU, no communication: a lower bound within a factor of about 2.
PEAK_TFLOPS = {"H100": 989, "H200": 989, "A100": 312, "L40S": 362, "A10G": 70, "RTX4090": 165}
TRAIN_MFU, GENERATE_MFU = 0.35, 0.10
TINY_PARAMS_B = {"tiny": 0.0002, "small": 0.004, "0.5b": 0.5}


def params_b(model: Any) -> float:
    """Parameters in billions: given, the tiny size's, or read from the name ('3B', '0.5b'); else 3."""
    if model.params_b is not None:
        return float(model.params_b)
    if model.tiny is not None:
        return TINY_PARAMS_B[model.tiny]
    found = re.search(r"(\d+(?:\.\d+)?)[bB](?![a-zA-Z])", model.path or "")
    return float(found.group(1)) if found else 3.0


def _yaml(path: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def estimate(loaded: LoadedSpec) -> dict[str, Any]:
    """GPU hours per stage kind for one run of each model, and the grid's total (see the basis above)."""
    spec, guess = loaded.spec, loaded.spec.estimate
    sft_cfg, rl_cfg = _yaml(loaded.sft_config), _yaml(loaded.rl_config)
    batch = int(sft_cfg.get("per_device_train_batch_size", 8)) * int(
        sft_cfg.get("gradient_accumulation_steps", 1)
    )
    rows = loaded.ablation.n_train * float(sft_cfg.get("num_train_epochs", 3))
    if spec.sft.max_steps or sft_cfg.get("max_steps", -1) > 0:
        rows = (spec.sft.max_steps or sft_cfg["max_steps"]) * batch
    sft_tokens = rows * guess.sft_tokens_per_row
    completions = int(rl_cfg.get("per_device_train_batch_size", 8)) * int(
        rl_cfg.get("gradient_accumulation_steps", 1)
    )
    steps = spec.rl.max_steps or int(rl_cfg.get("max_steps", 0) or 0)
    if steps <= 0:
        prompts = max(1, completions // int(rl_cfg.get("num_generations", 8)))
        steps = -(-(spec.rl.n or 1024) // prompts)
    completion = guess.completion_fill * int(rl_cfg.get("max_completion_length", 256))
    rl_tokens = steps * completions * (guess.prompt_tokens + completion)
    iterations = int(rl_cfg.get("num_iterations", 1))
    ref = 1 if float(rl_cfg.get("beta", 0.0)) > 0 else 0
    save = int(rl_cfg.get("save_steps", steps) or steps)
    checkpoints = 1 + steps // save + (1 if steps % save else 0)
    eval_tokens = (
        checkpoints
        * (spec.eval.n or 1024)
        * (guess.prompt_tokens + guess.completion_fill * spec.eval.max_new_tokens)
    )
    peak = PEAK_TFLOPS[guess.gpu] * 1e12
    per_model = {}
    for model in spec.models:
        p = params_b(model) * 1e9
        hours = {
            "sft": 6 * p * sft_tokens / (peak * TRAIN_MFU) / 3600,
            "rl": (
                2 * p * rl_tokens / (peak * GENERATE_MFU)
                + (6 * iterations + 2 * ref) * p * rl_tokens / (peak * TRAIN_MFU)
            )
            / 3600,
            "eval": 2 * p * eval_tokens / (peak * GENERATE_MFU) / 3600,
        }
        per_model[model.name] = {"params_b": params_b(model), **hours}
    total = sum(sum(v for k, v in h.items() if k != "params_b") for h in per_model.values()) * len(
        spec.conditions
    )
    return {
        "gpu": guess.gpu,
        "rl_steps": steps,
        "completions_per_step": completions,
        "checkpoints": checkpoints,
        "per_run": per_model,
        "total_gpu_hours": total,
    }


def describe(loaded: LoadedSpec) -> str:
    """The --dry-run text: stages with their status, the runs, and the GPU-hours estimate."""
    stages = plan(loaded)
    spec = loaded.spec
    lines = [
        f"reproduce {spec.name}: {len(spec.conditions)} condition(s) x {len(spec.models)} model(s) "
        f"-> {loaded.out}",
        f"ablation: {loaded.ablation.name} ({loaded.ablation.n_train} train rows per "
        f"condition), prompt style {spec.prompt_style}",
        "stages:",
    ]
    lines += [f"  {stage.status(loaded.out):<5} {stage.id}" for stage in stages]
    lines.append("runs:")
    for model in spec.models:
        source = model.path or f"tiny model ({model.tiny})"
        lines += [
            f"  {model.name} [{source}] x {condition}: sft {loaded.sft_config.name} -> rl "
            f"{loaded.rl_config.name} -> eval ({spec.eval.n} problems)"
            for condition in spec.conditions
        ]
    guess = estimate(loaded)
    lines.append(
        f"estimate on one {guess['gpu']} ({guess['rl_steps']} RL steps x {guess['completions_per_step']} "
        f"completions, {guess['checkpoints']} checkpoints evaluated):"
    )
    for name, hours in guess["per_run"].items():
        lines.append(
            f"  {name} ({hours['params_b']:g}B) per condition: sft {hours['sft']:.2f} h, rl "
            f"{hours['rl']:.2f} h, eval {hours['eval']:.2f} h"
        )
    lines.append(
        f"  total: {guess['total_gpu_hours']:.1f} GPU-hours (6·P·T training, 2·P·T generation; "
        f"{int(TRAIN_MFU * 100)}% / {int(GENERATE_MFU * 100)}% utilisation assumed)"
    )
    return "\n".join(lines)
