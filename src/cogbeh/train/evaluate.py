"""Behavioral evaluation per checkpoint: accuracy with the reward, the four behaviors with a classifier.

Writes eval.csv and eval.json (one row per checkpoint), samples.jsonl (every completion) and eval.png:
accuracy and each behavior's mean count against training step, as in the paper's figures.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cogbeh.behaviors import BEHAVIORS
from cogbeh.classify import BehaviorClassifier, RuleClassifier
from cogbeh.countdown import Problem, extract_answer, score
from cogbeh.prompting import PromptFormat, opens_think
from cogbeh.train.config import check_model_folder, vllm_installed
from cogbeh.train.data import PromptStyle, rl_prompt

_CHECKPOINT = re.compile(r"checkpoint-(\d+)")
_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")

#: TinyZero's Countdown test split: rows 327,680..328,703 of the Hub set (its first 327,680 rows train).
TINYZERO_DATASET = "Jiayi-Pan/Countdown-Tasks-3to4"
TINYZERO_TEST_START = 327_680
TINYZERO_TEST_ROWS = 1_024
#: Sampling temperature of the paper's evaluation (and of its RL rollouts).
PAPER_TEMPERATURE = 1.0


class EvalError(ValueError):
    """Nothing to evaluate, or an evaluation option that cannot be honoured."""


@dataclass(frozen=True)
class EvalResult:
    """The per-checkpoint rows and the files written."""

    rows: list[dict[str, Any]]
    csv: Path
    json: Path
    plot: Path


def classifier_for(judge: str | None) -> BehaviorClassifier:
    """The rule classifier, or the paper's LLM judge for 'PROVIDER:MODEL' (any BehaviorClassifier fits)."""
    if judge is None:
        return RuleClassifier()
    from cogbeh.llm.judge import make_judge  # imports the provider SDK only when a judge is asked for
    from cogbeh.llm.types import MissingKeyError

    try:
        return make_judge(judge)
    except (ValueError, MissingKeyError) as err:
        raise EvalError(str(err)) from None


def resolve_device(device: str = "auto") -> str:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'; an explicit cuda device must exist."""
    if not _DEVICE.fullmatch(device):
        raise EvalError(f"--device {device!r}: expected auto, cpu, cuda or cuda:N")
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise EvalError(f"--device {device}: torch sees no CUDA device here (use --device cpu or auto)")
        index = int(device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise EvalError(f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) here")
    return device


def resolve_engine(engine: str = "auto", device: str = "cpu") -> tuple[str, str | None]:
    """(engine, notice): 'vllm' or 'transformers'; auto picks vLLM when installed and on a GPU.

    An explicit `vllm` that cannot run is an EvalError; auto falling back says why in the notice.
    """
    if engine not in ("auto", "vllm", "transformers"):
        raise EvalError(f"--engine {engine!r}: expected auto, vllm or transformers")
    if engine == "transformers":
        return engine, None
    if not vllm_installed():
        if engine == "vllm":
            raise EvalError("--engine vllm: vLLM is not installed (pip install vllm, or use transformers)")
        return "transformers", "vLLM is not installed: generating with transformers"
    if not device.startswith("cuda"):
        if engine == "vllm":
            raise EvalError(f"--engine vllm needs a CUDA device (device is {device})")
        return "transformers", f"vLLM needs a CUDA device (device is {device}): generating with transformers"
    return "vllm", None


def tinyzero_test_problems(
    n: int | None = None,
    *,
    source: str = TINYZERO_DATASET,
    start: int = TINYZERO_TEST_START,
    rows: int = TINYZERO_TEST_ROWS,
) -> list[Problem]:
    """TinyZero's test split: `rows` rows from `start` of `source` (a Hub id or a local dataset folder).

    `n` takes the first n of them (the paper uses all 1,024).
    """
    from cogbeh.countdown import problems_from_dataset
    from cogbeh.train.data import DataError, _load_dataset

    dataset = _load_dataset(source)
    wanted = min(rows, n) if n is not None else rows
    if len(dataset) < start + wanted:
        last = start + wanted - 1
        raise DataError(f"{source} has {len(dataset)} rows; the test split needs rows {start}..{last}")
    try:
        return problems_from_dataset(dataset.select(range(start, start + wanted)))
    except ValueError as err:
        raise DataError(f"{source}: {err}") from None


def find_checkpoints(model: str | Path, checkpoints: str | Path | None = None) -> list[tuple[int, str]]:
    """(step, path) pairs: `model` at its own step (0 unless it is a checkpoint-N), then each checkpoint-N."""
    found: dict[int, str] = {}
    match = _CHECKPOINT.fullmatch(Path(model).name)
    found[int(match.group(1)) if match else 0] = str(model)
    if checkpoints is not None:
        folder = Path(checkpoints)
        if not folder.is_dir():
            raise EvalError(f"--checkpoints {folder} is not a folder")
        for child in folder.iterdir():
            step = _CHECKPOINT.fullmatch(child.name)
            if step and child.is_dir() and _has_model(child):  # a half-written checkpoint holds no config yet
                found[int(step.group(1))] = str(child)
        final_step = _final_step(folder)
        if final_step is not None and final_step not in found and (folder / "config.json").is_file():
            found[final_step] = str(folder)
        if len(found) == 1:
            raise EvalError(f"--checkpoints {folder} holds no checkpoint-N folders")
    return sorted(found.items())


def _has_model(folder: Path) -> bool:
    return (folder / "config.json").is_file() or (folder / "adapter_config.json").is_file()


def recorded_base_model(checkpoints: str | Path) -> str | None:
    """The model an RL run started from, as its cogbeh_train.json records it (None when not recorded)."""
    info = Path(checkpoints) / "cogbeh_train.json"
    if not info.is_file():
        return None
    base = json.loads(info.read_text(encoding="utf-8")).get("base_model")
    return str(base) if base else None


def _final_step(folder: Path) -> int | None:
    info = folder / "cogbeh_train.json"
    if not info.is_file():
        return None
    step = json.loads(info.read_text(encoding="utf-8")).get("final_step")
    return int(step) if isinstance(step, int) else None


def eval_dtype(device: str) -> Any:
    """bf16 on a CUDA device that supports it, else fp32 (CPU, old GPUs)."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def load_model(path: str, device: str = "cpu") -> tuple[Any, Any]:
    """Model and tokenizer from a model folder, a Hub id, or a LoRA adapter folder (merged onto its base).

    The model is moved to `device`, in bf16 on GPUs that support it."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from cogbeh.train.chat_template import ensure_chat_template

    check_model_folder(path)
    dtype = eval_dtype(device)
    if (Path(path) / "adapter_config.json").is_file():
        from peft import AutoPeftModelForCausalLM

        model = AutoPeftModelForCausalLM.from_pretrained(path, dtype=dtype).merge_and_unload()
    else:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    tokenizer = AutoTokenizer.from_pretrained(path)
    ensure_chat_template(tokenizer)
    return model.to(device).eval(), tokenizer


def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str | list[dict[str, str]]],
    *,
    max_new_tokens: int = 1024,
    batch_size: int = 16,
    temperature: float = PAPER_TEMPERATURE,
) -> list[str]:
    """Completions for `prompts` (text, or message lists rendered with the chat template), batched.

    Samples at `temperature` (the paper's 1.0 by default); 0 is greedy.
    """
    import torch

    texts = [
        p
        if isinstance(p, str)
        else tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False)
        for p in prompts
    ]
    # Chat-rendered text holds its special tokens; plain prompts get the tokenizer's usual ones (as GRPO).
    special = all(isinstance(p, str) for p in prompts)
    device = next(model.parameters()).device
    # top_k=0, top_p=1: plain sampling at T, as vLLM and veRL do (a generation_config may set others)
    sampling = (
        {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}
        if temperature > 0
        else {"do_sample": False}
    )
    outputs: list[str] = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(
            texts[start : start + batch_size],
            return_tensors="pt",
            padding=True,
            padding_side="left",
            add_special_tokens=special,
        ).to(device)
        with torch.no_grad():
            ids = model.generate(
                **batch, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id, **sampling
            )
        new = ids[:, batch["input_ids"].shape[1] :]
        outputs.extend(tokenizer.batch_decode(new, skip_special_tokens=True))
    return outputs


def vllm_generate(
    path: str,
    prompts: Sequence[str | list[dict[str, str]]],
    *,
    device: str = "cuda",
    max_new_tokens: int = 1024,
    temperature: float = PAPER_TEMPERATURE,
    seed: int = 0,
    gpu_memory_utilization: float = 0.85,
) -> list[str]:
    """Completions with vLLM's offline engine (`LLM.generate` + `SamplingParams`), one sample per prompt.

    A LoRA adapter folder is merged onto its base into a temporary folder first (vLLM loads full models).
    The engine is torn down afterwards so the next checkpoint gets the GPU memory back.
    """
    import gc
    import os
    import tempfile

    import torch
    from vllm import LLM, SamplingParams

    with tempfile.TemporaryDirectory() as scratch:
        folder = path
        if (Path(path) / "adapter_config.json").is_file():
            model, tokenizer = load_model(path, "cpu")
            model.save_pretrained(scratch)
            tokenizer.save_pretrained(scratch)
            folder = scratch
            del model
        if ":" in device:  # vLLM takes the visible devices, not an index
            os.environ["CUDA_VISIBLE_DEVICES"] = device.partition(":")[2]
        llm = LLM(
            model=folder,
            dtype="bfloat16" if eval_dtype(device) == torch.bfloat16 else "float32",
            seed=seed,
            gpu_memory_utilization=gpu_memory_utilization,
        )
        tokenizer = llm.get_tokenizer()
        texts = [
            p
            if isinstance(p, str)
            else tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False)
            for p in prompts
        ]
        params = SamplingParams(n=1, temperature=temperature, top_p=1.0, top_k=-1, max_tokens=max_new_tokens)
        outputs = llm.generate(texts, params, use_tqdm=False)
        completions = [output.outputs[0].text for output in outputs]
        del llm
        gc.collect()
        torch.cuda.empty_cache()
    return completions


def summarise(
    step: int,
    path: str,
    problems: Sequence[Problem],
    completions: Sequence[str],
    classifier: BehaviorClassifier,
    *,
    style: PromptStyle | PromptFormat,
    rules: BehaviorClassifier | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One checkpoint's row (accuracy, answer rate, mean behavior counts) and its per-sample records.

    Accuracy counts only correct equations (reward 1.0): the format score of a well-formed wrong answer is 0
    here, as in the paper's evaluation; `mean_reward` keeps the training reward. A text the classifier could
    not count (a ClassifyError) is left out of the behavior means, not a 0. With `rules` (the rule classifier
    beside a judge), its counts are added as `rules_<behavior>` columns.
    """
    # The TinyZero prompt opened the think block; the classifier should see the whole trace.
    opened = bool(problems) and opens_think(rl_prompt(problems[0], style=style))
    traces = ["<think>" + c if opened else c for c in completions]
    samples = []
    ruled = rules.count(traces) if rules is not None else [None] * len(traces)
    for problem, completion, counts, rule_counts in zip(
        problems, completions, classifier.count(traces), ruled, strict=True
    ):
        reward = score(completion, problem.nums, problem.target)
        counted = isinstance(counts, dict)
        extra = (
            {f"rules_{b}": rule_counts.get(b) if isinstance(rule_counts, dict) else None for b in BEHAVIORS}
            if rules is not None
            else {}
        )
        samples.append(
            {
                "step": step,
                "nums": list(problem.nums),
                "target": problem.target,
                "completion": completion,
                "answer": extract_answer(completion),
                "reward": reward,
                **{b: counts[b] if counted else None for b in BEHAVIORS},  # type: ignore[index]
                "classify_error": None if counted else counts.reason,  # type: ignore[union-attr]
                **extra,
            }
        )
    n = max(len(samples), 1)
    classified = [s for s in samples if s["classify_error"] is None]
    row: dict[str, Any] = {
        "step": step,
        "checkpoint": path,
        "n": len(samples),
        "accuracy": sum(s["reward"] == 1.0 for s in samples) / n,  # format score 0: wrong answers count 0
        "answer_rate": sum(s["answer"] is not None for s in samples) / n,
        "mean_reward": sum(s["reward"] for s in samples) / n,
        "mean_chars": sum(len(s["completion"]) for s in samples) / n,
        "classifier": classifier.name,
        "classified": len(classified),
    }
    row.update({b: sum(s[b] for s in classified) / max(len(classified), 1) for b in BEHAVIORS})
    if rules is not None:
        ruled_ok = [s for s in samples if s[f"rules_{BEHAVIORS[0]}"] is not None]
        row.update(
            {f"rules_{b}": sum(s[f"rules_{b}"] for s in ruled_ok) / max(len(ruled_ok), 1) for b in BEHAVIORS}
        )
    return row, samples


def evaluate(
    model: str,
    problems: Sequence[Problem],
    out: str | Path,
    *,
    checkpoints: str | Path | None = None,
    style: PromptStyle | PromptFormat = "tinyzero",
    max_new_tokens: int = 1024,
    batch_size: int = 16,
    temperature: float = PAPER_TEMPERATURE,
    judge: str | None = None,
    classifier: BehaviorClassifier | None = None,
    device: str = "auto",
    engine: str = "auto",
    seed: int = 0,
    notify: Callable[[str], None] | None = None,
) -> EvalResult:
    """Evaluate `model` and each checkpoint in `checkpoints` on `problems`; write tables and plot to `out`.

    Generation runs on `device` (auto: the GPU when there is one) with `engine` (auto: vLLM when installed and
    on a GPU, else transformers; `notify` hears why), sampling at `temperature` (the paper's 1.0).
    Behaviors are counted by the rules, or by `judge` with the rule counts beside it (`rules_<behavior>`).
    """
    if not problems:
        raise EvalError("no problems to evaluate on")
    device = resolve_device(device)
    engine, notice = resolve_engine(engine, device)
    if notice and notify is not None:
        notify(notice)
    counter = classifier or classifier_for(judge)
    rules = RuleClassifier() if not isinstance(counter, RuleClassifier) else None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prompts = [rl_prompt(p, style=style) for p in problems]
    rows: list[dict[str, Any]] = []
    with (out / "samples.jsonl").open("w", encoding="utf-8") as sample_file:
        for step, path in find_checkpoints(model, checkpoints):
            if engine == "vllm":
                completions = vllm_generate(
                    path,
                    prompts,
                    device=device,
                    max_new_tokens=max_new_tokens,
                    temperature=temperature,
                    seed=seed,
                )
            else:
                import torch

                torch.manual_seed(seed)  # the same seed for every checkpoint: curves differ by the model
                loaded, tokenizer = load_model(path, device)
                completions = generate(
                    loaded,
                    tokenizer,
                    prompts,
                    max_new_tokens=max_new_tokens,
                    batch_size=batch_size,
                    temperature=temperature,
                )
                del loaded
            row, samples = summarise(step, path, problems, completions, counter, style=style, rules=rules)
            row.update(engine=engine, device=device, temperature=temperature)
            rows.append(row)
            sample_file.writelines(json.dumps(s, ensure_ascii=False) + "\n" for s in samples)
    return EvalResult(
        rows=rows,
        csv=write_csv(rows, out / "eval.csv"),
        json=_write_json(rows, out / "eval.json"),
        plot=plot(rows, out / "eval.png", title=_title(model, checkpoints, len(problems), counter.name)),
    )


def _title(model: str, checkpoints: str | Path | None, problems: int, classifier: str) -> str:
    """Names the run: the model (and checkpoint folder), how many problems, which classifier counted."""
    name = Path(model).name or str(model)
    where = f", checkpoints in {Path(checkpoints).name}" if checkpoints is not None else ""
    return f"Evaluation of {name}{where}: {problems} problems, behaviors by the {classifier} classifier"


def write_csv(rows: list[dict[str, Any]], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _write_json(rows: list[dict[str, Any]], path: Path) -> Path:
    path.write_text(json.dumps({"rows": rows}, indent=2) + "\n", encoding="utf-8")
    return path


#: The figure's panels: (row key, title, y label); accuracy first, as in the paper's figures.
PANELS: tuple[tuple[str, str, str], ...] = (
    ("accuracy", "Accuracy", "fraction correct"),
    *((b, b.replace("_", " ").capitalize(), "mean count per response") for b in BEHAVIORS),
    ("mean_chars", "Response length", "mean characters per response"),
)


#: One run's rows, or runs by name.
Runs = Sequence[dict[str, Any]] | Mapping[str, Sequence[dict[str, Any]]]


def plot(rows: Runs, path: str | Path, *, label: str | None = None, title: str | None = None) -> Path:
    """Draw `figure(rows)` to a PNG at `path` (1560x900)."""
    import matplotlib.pyplot as plt

    fig = figure(rows, label=label, title=title)
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def figure(rows: Runs, *, label: str | None = None, title: str | None = None) -> Any:
    """A 2x3 grid against training step: accuracy (0-1), the four behaviors and response length (from 0).

    `rows` is one run's rows, or runs by name (one line each); rows that carry a `run` or `condition` key
    are split into one line per value as well.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    runs = _runs(rows, label)
    fig, grid = plt.subplots(2, 3, figsize=(13, 7.5), sharex=True)
    for axis, (key, name, unit) in zip(grid.flat, PANELS, strict=True):
        for number, (run, run_rows) in enumerate(runs.items()):
            points = sorted((r["step"], r[key]) for r in run_rows if r.get(key) is not None)
            # A marker per run tells apart lines that coincide; clip_on=False keeps zeros visible on the axis.
            axis.plot([x for x, _ in points], [y for _, y in points], marker="osD^vP*X"[number % 8],
                      linewidth=1.8, label=run, clip_on=False)
        axis.set_title(name)
        axis.set_ylabel(unit)
        axis.grid(alpha=0.3)
        top = max((r.get(key) or 0 for rs in runs.values() for r in rs), default=0)
        # Fixed scales: accuracy on [0, 1]; counts and lengths from 0, so all-zero series sit on the axis.
        axis.set_ylim(0, 1) if key == "accuracy" else axis.set_ylim(0, max(1.0, 1.1 * top))
    steps = sorted({r["step"] for rs in runs.values() for r in rs})
    for axis in grid[1]:
        axis.set_xlabel("training step")
        if len(steps) <= 10:  # few checkpoints: tick exactly at them, never at fractional steps
            axis.set_xticks(steps)
    if len(steps) == 1:
        grid[0][0].set_xlim(steps[0] - 1, steps[0] + 1)
    if len(runs) > 1 or label:
        handles, names = grid[0][0].get_legend_handles_labels()
        fig.legend(handles, names, loc="lower center", ncol=min(len(names), 6), frameon=False)
    fig.suptitle(title or "Evaluation", fontsize=13)
    fig.tight_layout(rect=(0, 0.05 if len(runs) > 1 or label else 0, 1, 1))
    return fig


def _runs(rows: Runs, label: str | None) -> dict[str, list[dict[str, Any]]]:
    """Rows by run name: a mapping as given, else split on a `run` or `condition` key (else one run)."""
    if isinstance(rows, Mapping):
        return {str(name): list(run) for name, run in rows.items()}
    runs: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        runs.setdefault(str(row.get("run") or row.get("condition") or label or "model"), []).append(row)
    return runs
