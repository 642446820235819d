"""Read a math corpus into documents, cut it into resumable shard files, and truncate text the way the paper does.

A source is a Hub dataset id (streamed), a local dataset folder (one with a README.md, or any folder given
--config/--split, read by `datasets`), or Parquet / JSONL(.gz) files and folders of them. Every document is
`{id, text, <other input columns>}`; without an id column, ids are `<source-name>:<row>`, stable across runs.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cogbeh.curate.labels import LABEL_FIELDS
from cogbeh.runfiles import write_atomic

if TYPE_CHECKING:
    from cogbeh.tokenizer import LoadedTokenizer

#: File types read directly (a folder is searched recursively for them; hidden names are skipped).
FILE_SUFFIXES: tuple[str, ...] = (".parquet", ".jsonl", ".jsonl.gz")
SHARDS_DIR, SHARDS_INDEX = "shards", "shards.json"
#: Output columns the labelled row owns; an input column of the same name would be silently replaced.
RESERVED: frozenset[str] = frozenset({"id", "text", "truncated", *LABEL_FIELDS})


class CorpusError(ValueError):
    """A source that cannot be read as asked (missing file, unknown column, other shards in --out)."""


@dataclass(frozen=True)
class CorpusSource:
    """Where the documents come from and which columns hold their text and id (`id_column` None: `id` if any)."""

    location: str
    config: str | None = None
    split: str | None = None
    text_column: str = "text"
    id_column: str | None = None
    limit: int | None = None

    @property
    def kind(self) -> str:
        """'files' (Parquet/JSONL read directly) or 'dataset' (read by `datasets`, streaming)."""
        path = Path(self.location).expanduser()
        if path.is_file():
            return "files"
        if path.is_dir():
            dataset_folder = (path / "README.md").is_file() or self.config is not None or self.split is not None
            return "dataset" if dataset_folder else "files"
        if _looks_like_path(self.location):
            raise CorpusError(f"{self.location}: no such file or folder")
        return "dataset"

    def files(self) -> list[tuple[Path, str]]:
        """(path, name used in ids) of each input file, in a fixed order."""
        path = Path(self.location).expanduser()
        if path.is_file():
            if not path.name.endswith(FILE_SUFFIXES):
                raise CorpusError(f"{path}: not a .parquet or .jsonl(.gz) file")
            return [(path, path.name)]
        found = sorted((p.relative_to(path).as_posix(), p) for p in path.rglob("*")
                       if p.is_file() and p.name.endswith(FILE_SUFFIXES)
                       and not any(part.startswith(".") for part in p.relative_to(path).parts))
        if not found:
            raise CorpusError(f"{path}: folder holds no .parquet or .jsonl(.gz) files")
        return [(p, name) for name, p in found]

    def describe(self) -> dict[str, Any]:
        """What the shards were made from: equal descriptions mean the shards can be reused."""
        kind = self.kind
        where = str(Path(self.location).expanduser().resolve()) if Path(self.location).expanduser().exists() \
            else self.location
        described: dict[str, Any] = {"kind": kind, "location": where, "text_column": self.text_column,
                                     "id_column": self.id_column, "limit": self.limit}
        if kind == "files":
            # sizes catch a file replaced in place; mtimes would change on a mere copy
            described["files"] = [[name, p.stat().st_size] for p, name in self.files()]
        else:
            described.update(config=self.config, split=self.split or "train")
        return described


def _looks_like_path(location: str) -> bool:
    """A missing path (not a Hub id like 'org/name' or 'name')."""
    return (location.startswith((".", "/", "~")) or location.count("/") > 1 or "\\" in location
            or location.endswith((*FILE_SUFFIXES, ".json", ".csv", ".gz")))


def read_corpus(source: CorpusSource) -> Iterator[dict[str, Any]]:
    """Documents `{id, text, <other columns>}` in source order, at most `source.limit` of them."""
    rows = _file_rows(source) if source.kind == "files" else _dataset_rows(source)
    for count, (name, index, row) in enumerate(rows):
        if source.limit is not None and count >= source.limit:
            return
        yield _document(source, name, index, row)


def _file_rows(source: CorpusSource) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for path, name in source.files():
        reader = _parquet_rows(path) if path.name.endswith(".parquet") else _jsonl_rows(path)
        for index, row in enumerate(reader):
            yield name, index, row


def _parquet_rows(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as err:  # pyarrow raises its own ArrowInvalid for a file that is not Parquet
        raise CorpusError(f"{path}: not a readable Parquet file ({err})") from None
    for batch in parquet.iter_batches(batch_size=1000):
        yield from batch.to_pylist()


def _jsonl_rows(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                row = None
            if not isinstance(row, dict):
                raise CorpusError(f"{path}:{number}: not a JSON object")
            yield row


def _dataset_rows(source: CorpusSource) -> Iterator[tuple[str, int, dict[str, Any]]]:
    import datasets

    path = Path(source.location).expanduser()
    location = str(path.resolve()) if path.is_dir() else source.location
    split = source.split or "train"
    try:
        dataset = datasets.load_dataset(location, source.config, split=split, streaming=True)
        rows = iter(dataset)
        first = next(rows, None)
    except Exception as err:  # datasets raises many types (offline, missing config/split, bad files)
        message = " ".join(str(err).split())[:300]
        raise CorpusError(f"cannot read dataset {source.location!r} (config {source.config}, split {split}): "
                          f"{type(err).__name__}: {message}") from None
    name = "/".join(part for part in (path.name if path.is_dir() else source.location, source.config, split)
                    if part)
    if first is not None:
        yield name, 0, first
        for index, row in enumerate(rows, start=1):
            yield name, index, row


def _document(source: CorpusSource, name: str, index: int, row: dict[str, Any]) -> dict[str, Any]:
    """One input row as `{id, text, <other columns>}`; a missing or clashing column is a CorpusError."""
    where = f"{name} row {index}"
    if source.text_column not in row:
        raise CorpusError(f"no text column {source.text_column!r} in {where}; columns: {', '.join(row)} "
                          "(choose one with --text-column)")
    if source.id_column is not None and source.id_column not in row:
        raise CorpusError(f"no id column {source.id_column!r} in {where}; columns: {', '.join(row)}")
    text = row[source.text_column]
    if text is not None and not isinstance(text, str):
        raise CorpusError(f"column {source.text_column!r} of {where} holds {type(text).__name__}, not text")
    id_column = source.id_column or ("id" if "id" in row else None)
    doc_id = row[id_column] if id_column else f"{name}:{index}"
    others = {key: _jsonable(value) for key, value in row.items() if key not in (source.text_column, id_column)}
    clash = sorted(RESERVED.intersection(others))
    if clash:
        raise CorpusError(f"input column {clash[0]!r} ({where}) clashes with a column of the labelled rows; "
                          "rename it or pick it with --text-column/--id-column")
    return {"id": doc_id, "text": text or "", **others}


def _jsonable(value: Any) -> Any:
    """Parquet/Arrow values JSON has no type for: dates as ISO text, bytes as base64."""
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def read_shard_index(out: Path) -> dict[str, Any] | None:
    """`<out>/shards.json`, or None when the shards were never finished."""
    path = out / SHARDS_INDEX
    if not path.is_file():
        return None
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CorpusError(f"{path} is unreadable ({err}); start over with --overwrite") from None
    return index if isinstance(index, dict) else None


def shard_corpus(source: CorpusSource, out: Path, *, docs_per_shard: int = 1000,
                 overwrite: bool = False) -> dict[str, Any]:
    """Write `<out>/shards/00000.jsonl, ...` and, last, `<out>/shards.json`; reuse them when the source is the same.

    Each shard is written to a temp name and renamed, and the index only after every shard, so a run killed
    while sharding shards again from scratch and one killed later reuses exactly the same shards.
    """
    if docs_per_shard < 1:
        raise CorpusError("--docs-per-shard must be at least 1")
    wanted = {"source": source.describe(), "docs_per_shard": docs_per_shard}
    index = read_shard_index(out)
    if index is not None and not overwrite:
        if {key: index.get(key) for key in wanted} == wanted:
            return index
        raise CorpusError(f"{out} holds shards of another source ({index.get('source', {}).get('location')}, "
                          f"{index.get('docs_per_shard')} per shard); use another --out or --overwrite")
    (out / SHARDS_INDEX).unlink(missing_ok=True)
    shutil.rmtree(out / SHARDS_DIR, ignore_errors=True)
    (out / SHARDS_DIR).mkdir(parents=True)
    shards, documents, columns, lines = 0, 0, dict.fromkeys(("id", "text")), []
    for document in read_corpus(source):
        lines.append(json.dumps(document, ensure_ascii=False, default=str) + "\n")
        columns.update(dict.fromkeys(document))
        documents += 1
        if len(lines) == docs_per_shard:
            write_atomic(out / SHARDS_DIR / f"{shards:05d}.jsonl", "".join(lines))
            shards, lines = shards + 1, []
    if lines:
        write_atomic(out / SHARDS_DIR / f"{shards:05d}.jsonl", "".join(lines))
        shards += 1
    if documents == 0:
        raise CorpusError(f"{source.location} holds no documents")
    index = {**wanted, "shards": shards, "documents": documents, "columns": list(columns)}
    write_atomic(out / SHARDS_INDEX, json.dumps(index, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return index


def planned_documents(source: CorpusSource) -> int | None:
    """How many documents a run would shard, without writing (None: only known by streaming a whole dataset)."""
    if source.kind == "dataset":
        return source.limit
    documents = 0
    for path, _ in source.files():
        if path.name.endswith(".parquet"):
            import pyarrow.parquet as pq

            documents += pq.ParquetFile(path).metadata.num_rows  # from the footer: no rows are read
        else:  # counted, not parsed: a dry run over a large corpus stays quick
            opener = gzip.open if path.name.endswith(".gz") else open
            with opener(path, "rb") as handle:
                documents += sum(1 for line in handle if line.strip())
    return min(documents, source.limit) if source.limit is not None else documents


def truncate(text: str, tokenizer: LoadedTokenizer, max_tokens: int) -> tuple[str, bool]:
    """The paper's cut: keep the first `max_tokens` tokens, then drop back to the last newline; (text, cut?).

    The kept text is an exact prefix of the input (token offsets, not a decode, so no byte-level artefacts).
    With no newline in the kept part, the token cut itself is kept (the paper's code would drop one character).
    """
    if max_tokens <= 0:
        return text, False
    encoding = tokenizer.tokenizer.encode(text, add_special_tokens=False)
    if len(encoding.ids) <= max_tokens:
        return text, False
    kept = text[: encoding.offsets[max_tokens - 1][1]]
    newline = kept.rfind("\n")
    return (kept[:newline] if newline > 0 else kept), True
