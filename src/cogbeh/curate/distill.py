"""A fastText classifier per behavior distilled from judge labels, and the labeler that runs it at corpus scale.

`distill(rows, out_dir)` trains one binary model per behavior (present = count > 0), plus `contains_problem` and
`contains_solution` when the rows carry those labels, on a seeded hash split of the labelled rows, and reports
precision/recall/F1 of each model against the held-out judge labels. `FastTextLabeler(out_dir)` (`--judge
fasttext:PATH`) labels documents with the saved models.

fastText says whether a behavior is present, not how often: the labeler's counts are 1 (present) or 0.

Determinism: the split and the training order depend only on (seed, row id), not on file order. With
`threads=1` and a fixed seed fastText trains the same model bytes, so metrics and files repeat exactly; with
more threads its lock-free SGD interleaves updates differently each run (metrics vary slightly). Prediction is
deterministic for a given model. Each model trains in a fresh Python process: with fasttext-numpy2-wheel 0.9.2 a
second training in one process can give other weights or "Encountered NaN" (measured here); a first one repeats.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import string
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cogbeh.behaviors import BEHAVIORS
from cogbeh.curate.labels import COUNT_FIELDS, DocumentLabels, LabelError
from cogbeh.curate.rows import read_rows

#: The manifest beside the models; FastTextLabeler reads it to know which models exist and their thresholds.
MANIFEST = "distill.json"
#: The Markdown table the CLI writes beside the models.
REPORT = "report.md"
#: Models for the two document labels, trained only when the rows carry them.
DOCUMENT_FIELDS: tuple[str, ...] = ("contains_problem", "contains_solution")
#: A present/absent decision: P(yes) >= THRESHOLD. 0.5 is the argmax of a binary softmax.
THRESHOLD = 0.5
_YES, _NO = "__label__yes", "__label__no"
# fastText splits on whitespace only, so ASCII punctuation becomes a space to make "wait," and "wait" one word.
# A one-to-one str.translate runs ~8x faster than a regex that spaces punctuation out as tokens of their own,
# and cleaning, not prediction, dominates the labeler's time on ~8 KB documents (measured here).
_PUNCT_TO_SPACE = str.maketrans(dict.fromkeys(string.punctuation, " "))


class DistillError(ValueError):
    """Rows that cannot train a model (too few, one class only, unreadable): the message says what to do."""


@dataclass(frozen=True)
class DistillParams:
    """fastText training options recorded in the manifest (bucket bounds the model size: bucket x dim floats)."""

    seed: int = 0
    holdout: float = 0.2
    epoch: int = 25
    lr: float = 0.5
    word_ngrams: int = 2
    dim: int = 64
    bucket: int = 100_000
    threads: int = 1


@dataclass(frozen=True)
class ModelMetrics:
    """One model against the held-out judge labels (precision/recall/F1 None when undefined)."""

    name: str
    train: int
    train_positive: int
    heldout: int
    heldout_positive: int
    predicted_positive: int
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p is not None and r is not None and p + r else None

    @property
    def accuracy(self) -> float | None:
        return (self.tp + self.tn) / self.heldout if self.heldout else None

    def to_dict(self) -> dict[str, Any]:
        """Counts plus rounded rates, for the manifest."""
        rates = {k: _round(getattr(self, k)) for k in ("precision", "recall", "f1", "accuracy")}
        return {**{k: getattr(self, k) for k in ("train", "train_positive", "heldout", "heldout_positive",
                                                 "predicted_positive", "tp", "fp", "fn", "tn")}, **rates}


@dataclass(frozen=True)
class DistillReport:
    """What `distill` trained and how well each model agrees with the held-out judge labels."""

    out_dir: Path
    judges: tuple[str, ...]
    rows: int
    label_errors: int
    train: int
    heldout: int
    params: DistillParams
    models: tuple[ModelMetrics, ...]
    skipped: dict[str, str] = field(default_factory=dict)

    def markdown(self) -> str:
        """The precision/recall table (Markdown) the CLI prints and writes to report.md."""
        lines = [f"Distilled from {self.rows} rows labelled by {', '.join(self.judges) or '?'} "
                 f"({self.label_errors} with label errors skipped): {self.train} train, {self.heldout} held out "
                 f"(seed {self.params.seed}), threshold {THRESHOLD}.", "",
                 "| model | held-out | judge positive | predicted positive | precision | recall | F1 |",
                 "|---|---:|---:|---:|---:|---:|---:|"]
        for m in self.models:
            rate = f"{m.heldout_positive / m.heldout:.1%}" if m.heldout else "-"
            predicted = f"{m.predicted_positive / m.heldout:.1%}" if m.heldout else "-"
            lines.append(f"| {m.name} | {m.heldout} | {rate} | {predicted} | {_fmt(m.precision)} | "
                         f"{_fmt(m.recall)} | {_fmt(m.f1)} |")
        lines += [f"\n{name}: not trained ({why})" for name, why in self.skipped.items()]
        return "\n".join(lines) + "\n"


def fasttext_text(text: str) -> str:
    """One lower-cased line, ASCII punctuation dropped, single spaces: what the models are trained on and fed."""
    return " ".join(text.lower().translate(_PUNCT_TO_SPACE).split())


def read_labelled(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Rows of labelled files or classify out folders (`cogbeh.curate.rows.read_rows`); DistillError for
    anything unreadable."""
    try:
        return list(read_rows(paths))
    except ValueError as err:
        raise DistillError(str(err)) from None


def distill(rows: Sequence[Mapping[str, Any]], out_dir: Path, *, seed: int = 0, holdout: float = 0.2,
            epoch: int = 25, lr: float = 0.5, word_ngrams: int = 2, dim: int = 64, bucket: int = 100_000,
            threads: int = 1, min_docs: int = 2) -> DistillReport:
    """Train and save a model per behavior (and problem/solution) on `rows`; report P/R on the held-out part."""
    if not 0 < holdout < 1:
        raise DistillError(f"--holdout must be a fraction between 0 and 1, got {holdout}")
    params = DistillParams(seed, holdout, epoch, lr, word_ngrams, dim, bucket, threads)
    usable = [row for row in rows if not row.get("label_error")]
    if len(usable) < max(min_docs, 2):
        raise DistillError(f"{len(usable)} labelled documents without label errors ({len(rows) - len(usable)} "
                           f"with errors); distill needs at least {max(min_docs, 2)}: label a larger sample")
    ordered = sorted(((_unit(seed, row), _text(row), row) for row in usable), key=lambda t: (t[0], t[1]))
    train = [(text, row) for u, text, row in ordered if u >= holdout]
    test = [(text, row) for u, text, row in ordered if u < holdout]
    if not train or not test:
        raise DistillError(f"the {holdout} hold-out of {len(usable)} documents left an empty "
                           f"{'training' if not train else 'held-out'} part; label more documents")
    targets = _targets(usable)
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics = _train_all(targets["train"], train, test, out_dir, params)
    report = DistillReport(out_dir, tuple(sorted({str(r.get("judge")) for r in usable if r.get("judge")})),
                           len(rows), len(rows) - len(usable), len(train), len(test), params, tuple(metrics),
                           targets["skipped"])
    _write_manifest(report)
    return report


def _targets(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Behaviors (both classes required) and the document labels present with both classes (else skipped)."""
    for behavior in BEHAVIORS:
        values = {_truth(row, behavior) for row in rows}
        if None in values:
            raise DistillError(f"a row without a label error has no {COUNT_FIELDS[behavior]}; "
                               "pass rows written by `curate classify`")
        if len(values) == 1:
            kind = "show" if values == {True} else "lack"
            raise DistillError(f"{behavior}: all {len(rows)} documents {kind} it, so there is nothing to learn; "
                               "label a larger or more varied sample (mix rich and plain documents)")
    train, skipped = list(BEHAVIORS), {}
    for name in DOCUMENT_FIELDS:
        values = {_truth(row, name) for row in rows} - {None}
        if len(values) == 2:
            train.append(name)
        else:
            skipped[name] = "the judge gave no such labels" if not values else "the judge gave one class only"
    return {"train": train, "skipped": skipped}


def _truth(row: Mapping[str, Any], name: str) -> bool | None:
    value = row.get(COUNT_FIELDS.get(name, name))
    if value is None:
        return None
    return bool(value) if isinstance(value, bool) or name in DOCUMENT_FIELDS else int(value) > 0


def _train_all(names: list[str], train: list[tuple[str, Mapping[str, Any]]],
               test: list[tuple[str, Mapping[str, Any]]], out_dir: Path, params: DistillParams) -> list[ModelMetrics]:
    """Train each model in a fresh Python process (see `_fit`), save it atomically, score it on the held-out rows.

    A plain subprocess, not multiprocessing: spawn would re-import the caller's __main__ (a script without a
    main guard would run again); fork would inherit the caller's fastText state.
    """
    import fasttext

    def write_data(name: str, path: Path) -> None:
        lines = (f"{_YES if t else _NO} {text}\n" for text, row in train if (t := _truth(row, name)) is not None)
        path.write_text("".join(lines), encoding="utf-8")

    with tempfile.TemporaryDirectory(prefix=".distill.", dir=out_dir) as tmp:
        _run_fits(names, Path(tmp), params, write_data, parallel=max(1, (os.cpu_count() or 1) // params.threads))
        models = {name: fasttext.load_model(str(Path(tmp) / f"{name}.bin")) for name in names}
        (out_dir / MANIFEST).unlink(missing_ok=True)  # a folder caught between old and new models has none
        for name in names:
            os.replace(Path(tmp) / f"{name}.bin", out_dir / f"{name}.bin")
    return [_score(name, models[name], train, test) for name in names]


def _run_fits(names: list[str], tmp: Path, params: DistillParams, write_data: Callable[[str, Path], None], *,
              parallel: int) -> None:
    """`python -m cogbeh.curate.distill JOB` per model, `parallel` at a time, each training file written just
    before its process starts and removed when it ends (one copy of the corpus per running job, not per model).
    A failure is a DistillError."""
    import subprocess
    import sys

    pending, running = list(names), []
    while pending or running:
        while pending and len(running) < parallel:
            name = pending.pop(0)
            data = tmp / f"{name}.txt"
            write_data(name, data)
            command = [sys.executable, "-m", "cogbeh.curate.distill",
                       json.dumps([str(data), str(tmp / f"{name}.bin"), vars(params)])]
            running.append((name, data, subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                                         stderr=subprocess.PIPE, text=True)))
        name, data, process = running.pop(0)
        _, err = process.communicate()
        data.unlink()
        if process.returncode:
            for _, _, other in running:
                other.kill()
                other.wait()
            last = (err.strip().splitlines() or [f"exit status {process.returncode}"])[-1]
            raise DistillError(f"{name}: fastText training failed ({last}); try a lower --lr or fewer --epoch")


def _fit(data: str, model_path: str, params: dict[str, Any]) -> None:
    """Train one model and save it. Runs in a fresh process: in the fasttext-numpy2-wheel 0.9.2 build a second
    training in the same process can differ from the first or end in "Encountered NaN" (measured here), while
    the first training of a process repeats exactly for a given seed."""
    import fasttext

    model = fasttext.train_supervised(input=data, epoch=params["epoch"], lr=params["lr"], dim=params["dim"],
                                      wordNgrams=params["word_ngrams"], bucket=params["bucket"], minCount=1,
                                      thread=params["threads"], seed=params["seed"], verbose=0)
    model.save_model(model_path)


def _score(name: str, model: Any, train: list[tuple[str, Mapping[str, Any]]],
           test: list[tuple[str, Mapping[str, Any]]]) -> ModelMetrics:
    """Confusion counts of `model` at THRESHOLD against the held-out rows whose `name` label is known."""
    fit = [t for _, row in train if (t := _truth(row, name)) is not None]
    heldout = [(text, t) for text, row in test if (t := _truth(row, name)) is not None]
    predicted = _present(model, [text for text, _ in heldout], THRESHOLD) if heldout else []
    pairs = list(zip((t for _, t in heldout), predicted, strict=True))
    return ModelMetrics(name, len(fit), sum(fit), len(heldout), sum(t for _, t in heldout),
                        sum(predicted), tp=sum(t and p for t, p in pairs), fp=sum(p and not t for t, p in pairs),
                        fn=sum(t and not p for t, p in pairs), tn=sum(not t and not p for t, p in pairs))


def _present(model: Any, texts: list[str], threshold: float) -> list[bool]:
    """P(yes) >= threshold for each (already cleaned) text, predicted in one batch."""
    labels, probs = model.predict(texts, k=2, threshold=0.0)
    return [bool(dict(zip(ls, ps, strict=True)).get(_YES, 0.0) >= threshold)
            for ls, ps in zip(labels, probs, strict=True)]


def _write_manifest(report: DistillReport) -> None:
    from cogbeh.runfiles import write_atomic

    manifest = {"judges": list(report.judges), "rows": report.rows, "label_errors": report.label_errors,
                "train": report.train, "heldout": report.heldout, "params": vars(report.params),
                "threshold": THRESHOLD, "fasttext": _fasttext_version(),
                "models": {m.name: {"file": f"{m.name}.bin", **m.to_dict()} for m in report.models},
                "skipped": report.skipped,
                "counts": "fastText gives presence, not counts: the labeler's counts are 1 (present) or 0"}
    write_atomic(report.out_dir / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


class FastTextLabeler:
    """`--judge fasttext:PATH`: labels documents with the models `distill` saved in PATH.

    Counts are 1 when fastText finds a behavior present and 0 when absent (fastText gives presence, not counts);
    contains_problem/solution come from their models when saved, else None. Models load on first `label`, so
    the labeler pickles cheaply into worker processes until then (and drops the loaded models when pickled).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = f"fasttext:{path}"
        manifest_path = self.path / MANIFEST
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"{self.name}: cannot read {manifest_path} ({err}); pass the --out folder of "
                             "`cogbeh-gen curate distill`") from None
        self.threshold = float(manifest.get("threshold", THRESHOLD))
        self.files: dict[str, str] = {name: entry["file"] for name, entry in manifest.get("models", {}).items()}
        missing = [b for b in BEHAVIORS if b not in self.files]
        if missing:
            raise ValueError(f"{self.name}: {manifest_path} has no model for {', '.join(missing)}; rerun distill")
        self._models: dict[str, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_models": None}  # fastText models do not pickle; each process reloads

    def _load(self) -> dict[str, Any]:
        if self._models is None:
            import fasttext

            self._models = {name: fasttext.load_model(str(self.path / file)) for name, file in self.files.items()}
        return self._models

    def label(self, texts: Sequence[str]) -> list[DocumentLabels | LabelError]:
        """One DocumentLabels per text, in order (batch prediction per model)."""
        if not texts:
            return []
        models, cleaned = self._load(), [fasttext_text(text) for text in texts]
        present = {name: _present(model, cleaned, self.threshold) for name, model in models.items()}
        return [DocumentLabels(counts={b: int(present[b][i]) for b in BEHAVIORS},
                               contains_problem=present["contains_problem"][i] if "contains_problem" in present
                               else None,
                               contains_solution=present["contains_solution"][i] if "contains_solution" in present
                               else None)
                for i in range(len(texts))]


def _unit(seed: int, row: Mapping[str, Any]) -> float:
    """A number in [0, 1) fixed by (seed, row id): the split and the training order (text hash if no id)."""
    key = row.get("id")
    key = f"id:{key}" if key is not None else "text:" + hashlib.sha256(str(row.get("text", "")).encode()).hexdigest()
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _text(row: Mapping[str, Any]) -> str:
    text = row.get("text")
    if not isinstance(text, str):
        raise DistillError(f"a labelled row (id {row.get('id')!r}) has no text column")
    return fasttext_text(text)


def _fasttext_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("fasttext-numpy2-wheel", "fasttext", "fasttext-wheel"):
        try:
            return f"{dist} {version(dist)}"
        except PackageNotFoundError:
            continue
    return "unknown"


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 4)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":  # `_run_fits` trains each model in a fresh process this way
    import sys

    _fit(*json.loads(sys.argv[1]))
