"""The datatrove steps of a classify run: read our shards, label documents in chunks, write flat labelled rows.

Steps are pickled into worker processes (and Slurm/Ray jobs), so they hold only plain settings; the labeler
and tokenizer are built inside `run`, once per task.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import IO, Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.readers.base import BaseDiskReader
from datatrove.pipeline.writers.disk_base import DiskWriter

from cogbeh.behaviors import BEHAVIORS
from cogbeh.curate.labels import COUNT_FIELDS, LABEL_FIELDS, Labeler, make_labeler

#: Builds the labeler in a worker: (spec, **options) -> Labeler; `make_labeler` unless a test passes its own.
LabelerFactory = Callable[..., Labeler]
#: Where the reader keeps a document's other input columns (nested, so no column can shadow `${rank}` in the
#: writer's file-name template, which datatrove fills from the metadata).
COLUMNS = "columns"
LABELLED_DIR = "labelled"


class ShardReader(BaseDiskReader):
    """Reads `<out>/shards/*.jsonl`, shard files split over tasks by rank; keeps documents with empty text.

    Not datatrove's JsonlReader: that one drops empty documents and skips unreadable lines with a warning
    (a classify run must label every input row exactly once), and it needs orjson, which the extra lacks.
    """

    name = "📖 cogbeh shards"

    def __init__(self, folder: str | Path) -> None:
        super().__init__(str(folder), glob_pattern="*.jsonl", recursive=False, add_file_path=False)

    def read_file(self, filepath: str) -> DocumentsPipeline:
        with self.data_folder.open(filepath, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                with self.track_time():
                    try:
                        data = json.loads(line)
                    except ValueError:  # our shards are written atomically: a bad line is a real fault
                        raise ValueError(f"{filepath}:{number}: not JSON; rerun with --overwrite") from None
                    text, doc_id = data.pop("text", "") or "", data.pop("id")
                    document = Document(text=text, id=doc_id, metadata={COLUMNS: data})
                yield document


class LabelTaskError(RuntimeError):
    """Whatever a labeler raised, as a plain one-argument exception.

    A worker's exception travels back to the executor pickled; one whose __init__ takes other arguments (a
    cost-cap error, say) cannot be rebuilt there, and multiprocessing's pool then hangs instead of failing.
    """


class LabelStep(PipelineStep):
    """Labels documents `chunk_size` at a time (an LLM labeler runs a chunk concurrently) into doc.metadata.

    What the judge sees is the text truncated as the paper does; the row keeps the full text and `truncated`.
    """

    name = "🏷 cogbeh labels"
    type = "🔖 - LABEL"

    def __init__(self, judge: str, *, options: dict[str, Any] | None = None, truncate: int = 3072,
                 tokenizer: str = "test", chunk_size: int = 32,
                 labeler_factory: LabelerFactory | None = None) -> None:
        super().__init__()
        self.judge, self.options, self.truncate = judge, dict(options or {}), truncate
        self.tokenizer, self.chunk_size, self.labeler_factory = tokenizer, chunk_size, labeler_factory

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from cogbeh.tokenizer import load_tokenizer

        try:
            labeler = (self.labeler_factory or make_labeler)(self.judge, rank=rank, **self.options)
        except Exception as err:
            raise LabelTaskError(f"{type(err).__name__}: {err}") from err
        tokenizer = load_tokenizer(self.tokenizer) if self.truncate > 0 else None
        for chunk in chunks(iter(data or ()), self.chunk_size):
            with self.track_time(unit="chunk"):
                try:
                    self._label(chunk, labeler, tokenizer)
                except Exception as err:
                    raise LabelTaskError(f"{type(err).__name__}: {err}") from err
            yield from chunk

    def _label(self, chunk: list[Document], labeler: Labeler, tokenizer: Any) -> None:
        from cogbeh.curate.corpus import truncate

        seen = [truncate(doc.text, tokenizer, self.truncate) if tokenizer else (doc.text, False) for doc in chunk]
        results = labeler.label([text for text, _ in seen])
        if len(results) != len(chunk):  # a labeler bug; failing the task keeps the run from losing rows
            raise RuntimeError(f"labeler {labeler.name} returned {len(results)} results for {len(chunk)} texts")
        for doc, (_, cut), result in zip(chunk, seen, results, strict=True):
            row = result.to_row(labeler.name)
            doc.metadata.update(row, truncated=cut)
            self.stat_update("documents")
            if cut:
                self.stat_update("truncated")
            if row["label_error"] is not None:
                self.stat_update("label_error")
                continue
            for behavior in BEHAVIORS:
                if row[COUNT_FIELDS[behavior]]:
                    self.stat_update(behavior)
            for flag in ("contains_problem", "contains_solution"):
                if row[flag]:
                    self.stat_update(flag)


class LabelledWriter(DiskWriter):
    """Flat labelled rows as JSONL, one file per task (`${rank}.jsonl`), opened "wb" so a restart rewrites it.

    datatrove's JsonlWriter minus its orjson requirement (the `curate` extra does not carry orjson).
    """

    default_output_filename = "${rank}.jsonl"
    name = "🐿 cogbeh labelled jsonl"

    def __init__(self, folder: str | Path) -> None:
        super().__init__(str(folder), output_filename="${rank}.jsonl", compression=None, adapter=flat_row,
                         mode="wb")

    def _write(self, document: dict, file_handler: IO, _filename: str) -> None:
        line = json.dumps(document, ensure_ascii=False, default=str) + "\n"
        file_handler.write(line.encode("utf-8"))


def flat_row(self: DiskWriter, document: Document) -> dict[str, Any]:
    """Writer adapter: `{id, text, <input columns>, <label columns>, truncated}`, flat, in that order."""
    meta = document.metadata
    return {"id": document.id, "text": document.text, **meta.get(COLUMNS, {}),
            **{field: meta.get(field) for field in LABEL_FIELDS}, "truncated": bool(meta.get("truncated"))}


def labelled_writer(out: Path) -> LabelledWriter:
    """`<out>/labelled/00000.jsonl`, one file per task, rewritten from scratch when a task restarts."""
    return LabelledWriter(out / LABELLED_DIR)


def classify_pipeline(out: Path, step: LabelStep) -> list[PipelineStep]:
    """shards -> labels -> flat rows."""
    return [ShardReader(out / "shards"), step, labelled_writer(out)]


def chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of `size` items (the last may be shorter)."""
    while chunk := list(islice(items, size)):
        yield chunk
