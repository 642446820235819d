"""PPO-ready parquet for veRL, in the row layout of TinyZero's Countdown data preparation.

Each row: `data_source`, `prompt` (a one-message list holding the TinyZero-style prompt), `ability`,
`reward_model` {style: rule, ground_truth: {target, numbers}}, `extra_info` {split, index}. veRL routes rows
to a reward by `data_source`; point its custom reward at `cogbeh.countdown.verl_compute_score`
(generators/train/verl/countdown_reward.py, launched by generators/train/verl/ppo_countdown.sh), not the
eval-based one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cogbeh.countdown import Problem
from cogbeh.formats import VERL_DATA_SOURCE, verl_row
from cogbeh.prompting import PromptFormat, PromptStyle, as_format, write_record

DATA_SOURCE = VERL_DATA_SOURCE


def verl_rows(
    problems: Sequence[Problem],
    *,
    split: str = "train",
    data_source: str = DATA_SOURCE,
    style: PromptStyle | PromptFormat = "tinyzero",
) -> list[dict[str, Any]]:
    """One veRL row per problem, with the prompt text every other stage uses (cogbeh.prompting)."""
    fmt = as_format(style)
    return [
        verl_row(problem, fmt.text(problem), split=split, index=index, data_source=data_source)
        for index, problem in enumerate(problems)
    ]


def export_verl(
    problems: Sequence[Problem],
    out: str | Path,
    *,
    split: str = "train",
    data_source: str = DATA_SOURCE,
    style: PromptStyle | PromptFormat = "tinyzero",
) -> Path:
    """Write `problems` as veRL parquet to `out` and its prompt format to `<stem>.prompt.json` beside it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = verl_rows(problems, split=split, data_source=data_source, style=style)
    pq.write_table(pa.Table.from_pylist(rows), out)
    write_record(out.parent, style, name=f"{out.stem}.prompt.json")
    return out


def read_verl(path: str | Path) -> list[Problem]:
    """The problems of a veRL parquet file (for round trips and checks)."""
    import pyarrow.parquet as pq

    rows = pq.read_table(path).to_pylist()
    return [
        Problem(
            tuple(r["reward_model"]["ground_truth"]["numbers"]), r["reward_model"]["ground_truth"]["target"]
        )
        for r in rows
    ]
