"""PPO-ready parquet for veRL, in the row layout of TinyZero's Countdown data preparation.

Each row: `data_source`, `prompt` (a one-message list holding the TinyZero-style prompt), `ability`,
`reward_model` {style: rule, ground_truth: {target, numbers}}, `extra_info` {split, index}. veRL routes rows
to a reward by `data_source`; point its custom reward at `cogbeh.countdown.score`, not the eval-based one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cogbeh.countdown import Problem
from cogbeh.formats import VERL_DATA_SOURCE, verl_row
from cogbeh.train.data import rl_prompt

DATA_SOURCE = VERL_DATA_SOURCE


def verl_rows(
    problems: Sequence[Problem], *, split: str = "train", data_source: str = DATA_SOURCE
) -> list[dict[str, Any]]:
    """One veRL row per problem, with the TinyZero-style RL prompt."""
    return [
        verl_row(problem, rl_prompt(problem, style="tinyzero"), split=split, index=index, data_source=data_source)
        for index, problem in enumerate(problems)
    ]


def export_verl(
    problems: Sequence[Problem], out: str | Path, *, split: str = "train", data_source: str = DATA_SOURCE
) -> Path:
    """Write `problems` as veRL parquet to `out` (parent folders created)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(verl_rows(problems, split=split, data_source=data_source)), out)
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
