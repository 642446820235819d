"""Tokenizers for length-matched controls: a local tokenizer.json, a model folder, a Hub id, or 'test'."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenizers import Tokenizer

#: A small byte-level BPE trained on generated traces, shipped for tests and offline use. It is NOT a model's
#: tokenizer: token counts under it only approximate a real model's, so it is used only when asked for.
TEST_TOKENIZER_PATH = Path(__file__).resolve().parent / "data" / "test_tokenizer.json"
#: The source string that selects it (a folder named 'test' is still reachable as './test').
TEST_TOKENIZER = "test"
#: Placeholders tried in order; the first that is exactly one token per repetition under the tokenizer wins.
PLACEHOLDERS: tuple[str, ...] = (" .", " …", " -", " x", " the", ".", "…")
#: Repetition counts a placeholder must survive (merges across repetitions show up at small and large counts).
_PROBES = (1, 2, 3, 4, 5, 7, 8, 16, 31, 64, 127, 300)


class TokenizerError(ValueError):
    """A tokenizer could not be loaded, or no placeholder tokenises to one token per repetition."""


@dataclass(frozen=True)
class LoadedTokenizer:
    """A tokenizer and where it came from (for manifests and cards)."""

    tokenizer: Tokenizer
    source: str
    is_test: bool

    def count(self, text: str) -> int:
        """Tokens in `text`, without special tokens (a BOS would count for every text alike)."""
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def counts(self, texts: list[str]) -> list[int]:
        """`count` for many texts at once (encoded in parallel by the Rust library)."""
        return [len(e.ids) for e in self.tokenizer.encode_batch(texts, add_special_tokens=False)]


def load_tokenizer(source: str | Path) -> LoadedTokenizer:
    """Load from a tokenizer.json, a folder holding one, or a Hub id; 'test' is the shipped test tokenizer."""
    from tokenizers import Tokenizer

    if source == TEST_TOKENIZER:
        return LoadedTokenizer(Tokenizer.from_file(str(TEST_TOKENIZER_PATH)), TEST_TOKENIZER, True)
    path = Path(source).expanduser()
    if path.is_dir():
        path = path / "tokenizer.json"
        if not path.is_file():
            raise TokenizerError(
                f"{source}: folder has no tokenizer.json (only fast tokenizers are supported)"
            )
    if path.is_file():
        try:
            return LoadedTokenizer(Tokenizer.from_file(str(path)), str(source), False)
        except Exception as err:  # the Rust loader raises a bare Exception on malformed files
            raise TokenizerError(f"{source}: not a tokenizers JSON file ({err})") from None
    if str(source).count("/") != 1 or str(source).startswith((".", "/", "~")):
        raise TokenizerError(f"{source}: no such file or folder, and not a Hub id like 'org/name'")
    return LoadedTokenizer(_from_hub(str(source)), str(source), False)


def _from_hub(repo_id: str) -> Tokenizer:
    from huggingface_hub import hf_hub_download
    from tokenizers import Tokenizer

    try:
        # hf_hub_download uses the user's cache, login and offline mode; the token is never printed here.
        return Tokenizer.from_file(hf_hub_download(repo_id, "tokenizer.json"))
    except Exception as err:
        raise TokenizerError(
            f"could not fetch tokenizer.json for {repo_id!r} from the Hub ({type(err).__name__}); "
            "download it and pass the local folder instead"
        ) from None


def choose_placeholder(loaded: LoadedTokenizer, candidates: tuple[str, ...] = PLACEHOLDERS) -> str:
    """The first candidate that re-tokenises to exactly k tokens when repeated k times, for every probe k."""
    for candidate in candidates:
        if all(loaded.count(candidate * k) == k for k in _PROBES):
            return candidate
    raise TokenizerError(
        f"none of the placeholders {', '.join(repr(c) for c in candidates)} is one token per repetition "
        f"under {loaded.source}"
    )


def training_corpus(count: int = 600, *, seed: int = 0) -> list[str]:
    """Prompts and symbolic traces over every behavior combination: the text the test tokenizer is fit to."""
    import itertools
    import random

    from cogbeh.countdown import sample_problems
    from cogbeh.pipeline import QUERY_TEMPLATE
    from cogbeh.templating import render
    from cogbeh.traces import NoTrace, Shape, synthesize

    shapes = [
        Shape(*flags, backtracks=2 if flags[1] else 0) for flags in itertools.product((False, True), repeat=4)
    ]
    texts = []
    for index, problem in enumerate(sample_problems(count, seed=seed)):
        rng = random.Random(f"tokenizer:{seed}:{index}")
        texts.append(render(QUERY_TEMPLATE, nums=problem.nums, target=problem.target))
        try:
            texts.append(synthesize(problem, shapes[index % len(shapes)], rng).text)
        except NoTrace:
            continue
    return texts


def build_test_tokenizer(path: Path = TEST_TOKENIZER_PATH, *, vocab_size: int = 1200) -> Path:
    """Train the small byte-level BPE shipped as the test tokenizer into `path` (a maintainer task)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # The dotted line makes ' .' one token, as it is in the GPT-2, Llama-3 and Qwen vocabularies.
    tokenizer.train_from_iterator([*training_corpus(), " . . . . . . . ."], trainer=trainer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    return path


if __name__ == "__main__":
    print(build_test_tokenizer())
