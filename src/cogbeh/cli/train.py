"""`train sft|rl|tiny-model`, `eval`, `export verl`: options and printing only; logic is in cogbeh.train."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import click

from cogbeh.cli.errors import fail

OUT = click.Path(file_okay=False, path_type=Path)
CONFIG = click.Path(dir_okay=False, exists=True, path_type=Path)
STYLES = click.Choice(["tinyzero", "chat"])


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Turn the library's input errors into one-line CLI errors (exit 2)."""
    from cogbeh.templating import TemplateError
    from cogbeh.train.config import ConfigError
    from cogbeh.train.data import DataError
    from cogbeh.train.evaluate import EvalError
    from cogbeh.train.rl import OverlapError

    try:
        yield
    except (ConfigError, DataError, EvalError, OverlapError, TemplateError) as err:
        fail(str(err))
    except OSError as err:  # transformers: a model path or Hub id that cannot be found
        fail(" ".join(str(err).split())[:300])


def _problems(
    source: str, *, n: int | None, seed: int, exclude: list | None = None, drop: bool = False
) -> list:
    """Problems from FILE|HUB_ID[:CONFIG]|PRESET; a preset is sampled around `exclude`.

    Other sources are taken as given, unless `drop`: then problems in `exclude` are skipped (held-out eval).
    """
    from cogbeh.countdown import PRESETS, sample_problems
    from cogbeh.train.data import load_rl_problems

    if source in PRESETS:
        return sample_problems(n if n is not None else 1024, preset=source, seed=seed, exclude=exclude)
    if not drop or not exclude:
        return load_rl_problems(source, n=n, seed=seed)
    seen = {p.id for p in exclude}
    # Read just enough rows that n remain after dropping every excluded problem.
    loaded = load_rl_problems(source, n=None if n is None else n + len(seen), seed=seed)
    kept = [p for p in loaded if p.id not in seen]
    return kept[:n] if n is not None else kept


def _check_model(model: str) -> None:
    """A local-looking --model must exist; a Hub id is `name` or `user/name`."""
    if Path(model).exists():
        return
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        fail(f"--model {model}: no such model folder (give a local folder or a Hub id like user/name)")


@click.group()
def train() -> None:
    """Prime a model with SFT, run RL on Countdown, or build a tiny local model."""


@train.command()
@click.option(
    "--data", required=True, metavar="DIR|HUB_ID[:CONFIG]", help="Run folder, dataset folder or Hub id."
)
@click.option("--model", required=True, metavar="PATH_OR_ID", help="Base model to prime.")
@click.option("--out", required=True, type=OUT, help="Output folder: merged model (+ adapter/ with LoRA).")
@click.option(
    "--lora/--full", default=True, show_default=True, help="LoRA adapter (merged on save) or full fine-tune."
)
@click.option(
    "--config", type=CONFIG, default=None, help="YAML of TRL SFTConfig fields (default: generators/train/)."
)
@click.option("--max-steps", type=click.IntRange(min=1), default=None, help="Stop after N optimizer steps.")
def sft(data: str, model: str, out: Path, lora: bool, config: Path | None, max_steps: int | None) -> None:
    """Priming SFT on conversational prompt-completion rows (TRL SFTTrainer, completion-only loss)."""
    from cogbeh.train.sft import TrainingError, train_sft

    _check_model(model)
    started = time.perf_counter()
    with _user_errors():
        try:
            result = train_sft(data, model, out, lora=lora, config=config, max_steps=max_steps)
        except TrainingError as err:
            fail(str(err))
    loss = result.metrics.get("train_loss", float("nan"))
    click.echo(f"sft: {out} (train_loss {loss:.4f}, {time.perf_counter() - started:.0f}s)")


@train.command()
@click.option(
    "--model", required=True, metavar="PATH_OR_ID", help="Policy to start from (e.g. a `train sft` output)."
)
@click.option(
    "--problems",
    required=True,
    metavar="FILE|HUB_ID[:CONFIG]|PRESET",
    help="RL problems: a .jsonl/.parquet file, dataset folder, Hub id, or paper|tinyzero|classic.",
)
@click.option("--out", required=True, type=OUT, help="Output folder: policy and checkpoint-N folders.")
@click.option(
    "--config", type=CONFIG, default=None, help="YAML of TRL GRPOConfig fields (default: generators/train/)."
)
@click.option("--max-steps", type=click.IntRange(min=1), default=None, help="Stop after N optimizer steps.")
@click.option(
    "--priming-data",
    default=None,
    metavar="DIR|HUB_ID[:CONFIG]",
    help="Priming data to keep RL problems disjoint from (a `train sft` output records its own).",
)
@click.option("-n", "count", type=click.IntRange(min=1), default=None, help="Use the first N problems.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed when sampling a preset.")
@click.option(
    "--prompt-style",
    type=STYLES,
    default="tinyzero",
    show_default=True,
    help="TinyZero text prompt, or the priming query as a chat turn.",
)
@click.option(
    "--format-weight",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Weight of an extra format reward (0: off).",
)
@click.option("--lora", is_flag=True, help="Train a LoRA adapter (merged on save) instead of all weights.")
def rl(
    model: str,
    problems: str,
    out: Path,
    config: Path | None,
    max_steps: int | None,
    priming_data: str | None,
    count: int | None,
    seed: int,
    prompt_style: str,
    format_weight: float,
    lora: bool,
) -> None:
    """GRPO on Countdown with the safe reward (TRL GRPOTrainer; vLLM when installed on a GPU)."""
    from cogbeh.train.data import load_priming
    from cogbeh.train.rl import priming_problems_of, train_rl

    _check_model(model)
    started = time.perf_counter()
    with _user_errors():
        priming = load_priming(priming_data).problems if priming_data else []
        chosen = _problems(problems, n=count, seed=seed, exclude=[*priming, *priming_problems_of(model)])
        result = train_rl(
            model,
            chosen,
            out,
            config=config,
            max_steps=max_steps,
            priming=priming,
            style=prompt_style,
            format_weight=format_weight,
            lora=lora,
        )  # type: ignore[arg-type]
    click.echo(f"rl: {out} ({len(chosen)} problems, {time.perf_counter() - started:.0f}s)")
    if result.metrics:
        click.echo("    " + ", ".join(f"{k} {v:.4g}" for k, v in sorted(result.metrics.items())))


@train.command("tiny-model")
@click.option("--out", required=True, type=OUT, help="Folder for the model and tokenizer.")
@click.option("--size", type=click.Choice(["tiny", "small", "0.5b"]), default="tiny", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def tiny_model(out: Path, size: str, seed: int) -> None:
    """A random-init Qwen2 with a BPE tokenizer trained on our traces: offline walkthroughs and tests."""
    from cogbeh.train.tiny import build_tiny_model

    click.echo(f"tiny-model: {build_tiny_model(out, size=size, seed=seed)}")


@click.command("eval")
@click.option("--model", required=True, metavar="PATH", help="Model at step 0 (e.g. the `train sft` output).")
@click.option(
    "--checkpoints",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Folder with checkpoint-N subfolders (e.g. the `train rl` output).",
)
@click.option("--problems", required=True, metavar="FILE|HUB_ID[:CONFIG]|PRESET", help="Evaluation problems.")
@click.option(
    "-n", "count", type=click.IntRange(min=1), default=200, show_default=True, help="Problems to use."
)
@click.option(
    "--out", required=True, type=OUT, help="Folder for eval.csv, eval.json, samples.jsonl, eval.png."
)
@click.option("--seed", type=int, default=2, show_default=True, help="Seed when sampling a preset.")
@click.option("--prompt-style", type=STYLES, default="tinyzero", show_default=True)
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=1024, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option(
    "--temperature", type=click.FloatRange(min=0), default=0.0, show_default=True, help="0: greedy."
)
@click.option("--judge", default=None, metavar="PROVIDER:MODEL", help="Count behaviors with an LLM judge.")
def evaluate(
    model: str,
    checkpoints: Path | None,
    problems: str,
    count: int,
    out: Path,
    seed: int,
    prompt_style: str,
    max_new_tokens: int,
    batch_size: int,
    temperature: float,
    judge: str | None,
) -> None:
    """Accuracy and the four behaviors per checkpoint; tables and a plot against training step."""
    from cogbeh.train.evaluate import evaluate as run_eval
    from cogbeh.train.rl import RL_PROBLEMS, priming_problems_of

    _check_model(model)
    with _user_errors():
        seen = [*priming_problems_of(model)]
        if checkpoints is not None:
            seen += priming_problems_of(checkpoints) + _recorded(checkpoints / RL_PROBLEMS)
        chosen = _problems(problems, n=count, seed=seed, exclude=seen, drop=True)
        result = run_eval(
            model,
            chosen,
            out,
            checkpoints=checkpoints,
            style=prompt_style,  # type: ignore[arg-type]
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            temperature=temperature,
            judge=judge,
        )
    labels = {
        "backtracking": "backtrack",
        "backward_chaining": "backward",
        "subgoal_setting": "subgoal",
        "verification": "verify",
    }
    for row in result.rows:
        counts = "  ".join(f"{label} {row[key]:.2f}" for key, label in labels.items())
        click.echo(
            f"step {row['step']:>5}  acc {row['accuracy']:.3f}  answered {row['answer_rate']:.2f}  {counts}"
        )
    click.echo(f"eval: {result.csv}, {result.json}, {result.plot}")


def _recorded(path: Path) -> list:
    from cogbeh.countdown import load_problems

    return load_problems(path) if path.is_file() else []


@click.group()
def export() -> None:
    """Export problem sets for other RL frameworks."""


@export.command()
@click.option("--problems", required=True, metavar="FILE|HUB_ID[:CONFIG]|PRESET", help="Problems to export.")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Parquet file to write."
)
@click.option(
    "-n", "count", type=click.IntRange(min=1), default=None, help="Use the first N (presets: sample N)."
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed when sampling a preset.")
@click.option("--split", default="train", show_default=True, help="extra_info.split value.")
def verl(problems: str, out: Path, count: int | None, seed: int, split: str) -> None:
    """PPO-ready parquet for veRL (TinyZero's Countdown row layout)."""
    from cogbeh.train.verl import export_verl

    with _user_errors():
        chosen = _problems(problems, n=count, seed=seed)
    path = export_verl(chosen, out, split=split)
    click.echo(json.dumps({"out": str(path), "rows": len(chosen)}))
