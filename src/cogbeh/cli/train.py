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


def _prompt_options(command):  # noqa: ANN001, ANN202 - a click decorator
    """`--prompt-style` and `--prompt-template`, shared by `train sft|rl`, `eval` and `export verl`."""
    command = click.option(
        "--prompt-template",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        default=None,
        metavar="FILE",
        help="A raw Jinja template (given nums, target) replacing the style's shipped prompt.",
    )(command)
    return click.option(
        "--prompt-style",
        type=STYLES,
        default="tinyzero",
        show_default=True,
        help="tinyzero: the paper's raw User/Assistant text ending in <think>; chat: the query as a chat turn.",
    )(command)


def _prompt_format(style: str, template: Path | None) -> tuple:
    """(PromptFormat, explicit): explicit when --prompt-style or --prompt-template was typed."""
    from click.core import ParameterSource

    from cogbeh.prompting import PromptFormat

    context = click.get_current_context()
    typed = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    explicit = template is not None or context.get_parameter_source("prompt_style") in typed
    return PromptFormat(style, template), explicit  # type: ignore[arg-type]


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Turn the library's input errors into one-line CLI errors (exit 2)."""
    from cogbeh.prompting import PromptMismatch
    from cogbeh.templating import TemplateError
    from cogbeh.train.config import ConfigError
    from cogbeh.train.data import DataError
    from cogbeh.train.evaluate import EvalError
    from cogbeh.train.rl import OverlapError

    try:
        yield
    except (ConfigError, DataError, EvalError, OverlapError, PromptMismatch, TemplateError) as err:
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


def _lora_choice(lora: bool, config: Path | None) -> bool:
    """--lora/--full when typed; otherwise the config's `use_peft` (sft_paper.yaml is a full fine-tune); a
    typed choice that contradicts the config is refused rather than silently training the other way."""
    import yaml

    if config is None:
        return lora
    try:
        settings = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return lora  # the config loader reports a bad file with its own one-line error
    wanted = settings.get("use_peft") if isinstance(settings, dict) else None
    typed = click.get_current_context().get_parameter_source("lora") is not click.core.ParameterSource.DEFAULT
    if not isinstance(wanted, bool):
        return lora
    if typed and wanted != lora:
        flag, other = ("--lora", "--full") if lora else ("--full", "--lora")
        fail(f"{flag} contradicts {config.name}, which sets use_peft: {str(wanted).lower()}; "
             f"drop {flag} (or use {other}), or use another config")
    return wanted


@train.command()
@click.option(
    "--data", required=True, metavar="DIR|HUB_ID[:CONFIG]", help="Run folder, dataset folder or Hub id."
)
@click.option("--model", required=True, metavar="PATH_OR_ID", help="Base model to prime.")
@click.option("--out", required=True, type=OUT, help="Output folder: merged model (+ adapter/ with LoRA).")
@click.option(
    "--lora/--full", default=True, show_default=True,
    help="LoRA adapter (merged on save) or full fine-tune (default: the config's use_peft, else LoRA)."
)
@click.option(
    "--config", type=CONFIG, default=None, help="YAML of TRL SFTConfig fields (default: generators/train/)."
)
@click.option("--max-steps", type=click.IntRange(min=1), default=None, help="Stop after N optimizer steps.")
@_prompt_options
def sft(
    data: str,
    model: str,
    out: Path,
    lora: bool,
    config: Path | None,
    max_steps: int | None,
    prompt_style: str,
    prompt_template: Path | None,
) -> None:
    """Priming SFT on prompt-completion rows in the RL prompt format (TRL SFTTrainer, completion-only loss)."""
    from cogbeh.train.sft import TrainingError, train_sft

    _check_model(model)
    lora = _lora_choice(lora, config)
    fmt, _ = _prompt_format(prompt_style, prompt_template)
    started = time.perf_counter()
    with _user_errors():
        try:
            result = train_sft(data, model, out, lora=lora, config=config, max_steps=max_steps, style=fmt)
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
@_prompt_options
@click.option(
    "--drop-overlap",
    is_flag=True,
    help="Drop RL problems that occur in the priming data (and say how many) instead of refusing.",
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
    prompt_template: Path | None,
    drop_overlap: bool,
    format_weight: float,
    lora: bool,
) -> None:
    """GRPO on Countdown with the safe reward (TRL GRPOTrainer; vLLM when installed on a GPU)."""
    from cogbeh.prompting import check_record
    from cogbeh.train.data import load_priming
    from cogbeh.train.rl import drop_overlap as split_off
    from cogbeh.train.rl import priming_problems_of, train_rl

    _check_model(model)
    fmt, explicit = _prompt_format(prompt_style, prompt_template)
    started = time.perf_counter()
    with _user_errors():
        check_record(model, fmt, explicit=explicit)
        priming = load_priming(priming_data).problems if priming_data else []
        known = [*priming, *priming_problems_of(model)]
        chosen = _problems(problems, n=count, seed=seed, exclude=known)
        if drop_overlap:  # counted here to say so before training; train_rl drops them and records the count
            kept, dropped = split_off(chosen, known)
            click.echo(f"rl: dropped {dropped} RL problem(s) that occur in the priming data; {len(kept)} left")
        result = train_rl(
            model,
            chosen,
            out,
            config=config,
            max_steps=max_steps,
            priming=priming,
            style=fmt,
            drop_overlapping=drop_overlap,
            format_weight=format_weight,
            lora=lora,
        )  # type: ignore[arg-type]
    click.echo(f"rl: {out} ({len(chosen) - result.dropped} problems, {time.perf_counter() - started:.0f}s)")
    if result.metrics:
        click.echo("    " + ", ".join(f"{k} {v:.4g}" for k, v in sorted(result.metrics.items())))


@train.command("tiny-model")
@click.option("--out", required=True, type=OUT, help="Folder for the model and tokenizer.")
@click.option(
    "--size", type=click.Choice(["tiny", "small", "medium", "0.5b"]), default="tiny", show_default=True
)
@click.option("--seed", type=int, default=0, show_default=True)
def tiny_model(out: Path, size: str, seed: int) -> None:
    """A random-init Qwen2 with a BPE tokenizer trained on our traces: offline walkthroughs and tests."""
    from cogbeh.train.tiny import build_tiny_model

    click.echo(f"tiny-model: {build_tiny_model(out, size=size, seed=seed)}")


@click.command("eval")
@click.option(
    "--model",
    default=None,
    metavar="PATH",
    help="Model at step 0 (e.g. the `train sft` output; default: the start model of the --checkpoints run).",
)
@click.option(
    "--checkpoints",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Folder with checkpoint-N subfolders (e.g. the `train rl` output).",
)
@click.option(
    "--problems",
    default="tinyzero",
    show_default=True,
    metavar="tinyzero|FILE|HUB_ID[:CONFIG]|PRESET",
    help="tinyzero: TinyZero's test split (rows 327,680..328,703 of Jiayi-Pan/Countdown-Tasks-3to4, as the "
    "paper); or a file, dataset folder, Hub id, or the paper|classic preset.",
)
@click.option(
    "-n",
    "count",
    type=click.IntRange(min=1),
    default=None,
    help="Problems to use (default: all; a preset: 1024).",
)
@click.option(
    "--out", required=True, type=OUT, help="Folder for eval.csv, eval.json, samples.jsonl, eval.png."
)
@click.option(
    "--seed", type=int, default=2, show_default=True, help="Seed for sampling a preset and for generation."
)
@_prompt_options
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=1024, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option(
    "--temperature",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Sampling temperature (the paper's 1.0); 0: greedy.",
)
@click.option(
    "--device",
    default="auto",
    show_default=True,
    metavar="auto|cpu|cuda|cuda:N",
    help="Where to generate; auto: the GPU when torch sees one (bf16 when supported).",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "vllm", "transformers"]),
    default="auto",
    show_default=True,
    help="auto: vLLM when installed and on a GPU, else transformers.",
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
    prompt_template: Path | None,
    max_new_tokens: int,
    batch_size: int,
    temperature: float,
    judge: str | None,
    device: str,
    engine: str,
) -> None:
    """Accuracy (format score 0) and the four behaviors per checkpoint; tables and a plot against step."""
    from cogbeh.train.evaluate import evaluate as run_eval
    from cogbeh.train.evaluate import recorded_base_model
    from cogbeh.train.rl import RL_PROBLEMS, priming_problems_of

    if model is None:
        model = recorded_base_model(checkpoints) if checkpoints is not None else None
        if model is None:
            fail("--model is required (or --checkpoints of a `train rl` run that records its start model)")
    _check_model(model)
    fmt, explicit = _prompt_format(prompt_style, prompt_template)
    with _user_errors():
        from cogbeh.prompting import check_record, write_record

        for folder in (model, checkpoints):  # the policy's own record, then the RL run's
            if folder is not None:
                check_record(folder, fmt, explicit=explicit)
        write_record(out, fmt)
        from cogbeh.train.evaluate import resolve_device, resolve_engine

        resolve_engine(engine, resolve_device(device))  # a device or engine that cannot run fails before loading
        seen = [*priming_problems_of(model)]
        if checkpoints is not None:
            seen += priming_problems_of(checkpoints) + _recorded(checkpoints / RL_PROBLEMS)
        if problems == "tinyzero":  # the fixed benchmark: every row kept, as in the paper
            from cogbeh.train.evaluate import tinyzero_test_problems

            chosen = tinyzero_test_problems(count)
            shared = {p.id for p in seen} & {p.id for p in chosen}
            if shared:
                click.echo(f"note: {len(shared)} test problem(s) also appear in the training data", err=True)
        else:
            chosen = _problems(problems, n=count, seed=seed, exclude=seen, drop=True)
        result = run_eval(
            model,
            chosen,
            out,
            checkpoints=checkpoints,
            style=fmt,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            temperature=temperature,
            judge=judge,
            device=device,
            engine=engine,
            seed=seed,
            notify=lambda text: click.echo(f"note: {text}", err=True),
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
@_prompt_options
def verl(
    problems: str,
    out: Path,
    count: int | None,
    seed: int,
    split: str,
    prompt_style: str,
    prompt_template: Path | None,
) -> None:
    """PPO-ready parquet for veRL (TinyZero's Countdown row layout)."""
    from cogbeh.train.verl import export_verl

    fmt, _ = _prompt_format(prompt_style, prompt_template)
    with _user_errors():
        chosen = _problems(problems, n=count, seed=seed)
        path = export_verl(chosen, out, split=split, style=fmt)
    click.echo(json.dumps({"out": str(path), "rows": len(chosen)}))
