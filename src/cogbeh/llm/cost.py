"""Dollar cost of token usage from a versioned price table shipped with the package (user-overridable)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cogbeh.llm.types import Usage

PRICES_FILE = Path(__file__).with_name("prices.yaml")
MILLION = 1_000_000


class Price(BaseModel):
    """Dollars per million tokens of each kind; cache prices default to the plain input price."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float | None = Field(default=None, ge=0)
    cache_read: float | None = Field(default=None, ge=0)


class ProviderPrices(BaseModel):
    """One provider's models and its batch discount (0.5 = half price)."""

    model_config = ConfigDict(extra="forbid")
    batch_discount: float = Field(default=0.5, ge=0, le=1)
    models: dict[str, Price] = Field(default_factory=dict)


class PriceTable(BaseModel):
    """The whole table; `version` goes into manifests so a cost can be traced to the prices used."""

    model_config = ConfigDict(extra="forbid")
    version: str
    currency: str = "USD"
    providers: dict[str, ProviderPrices]

    def price(self, provider: str, model: str) -> Price | None:
        """The entry whose key is the longest prefix of `model`, or None for an unknown model."""
        table = self.providers.get(provider)
        if table is None:
            return None
        matches = [key for key in table.models if model == key or model.startswith(key)]
        return table.models[max(matches, key=len)] if matches else None

    def cost(self, provider: str, model: str, usage: Usage, *, batch: bool = False) -> float | None:
        """Dollars for `usage`, or None when the model has no price."""
        price = self.price(provider, model)
        if price is None:
            return None
        dollars = (
            usage.input_tokens * price.input
            + usage.output_tokens * price.output
            + usage.cache_write_tokens * (price.cache_write if price.cache_write is not None else price.input)
            + usage.cache_read_tokens * (price.cache_read if price.cache_read is not None else price.input)
        ) / MILLION
        if batch:
            dollars *= 1.0 - self.providers[provider].batch_discount
        return dollars


class PriceError(ValueError):
    """A price file that cannot be read or does not have the expected shape."""


def _read(path: Path) -> PriceTable:
    try:
        return PriceTable.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as err:
        raise PriceError(f"cannot read price file {path}: {err}") from None
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise PriceError(f"price file {path}: {where}: {first['msg']}") from None


def load_prices(user_file: str | Path | None = None) -> PriceTable:
    """The shipped table, with a user file's models and discounts laid over it."""
    table = _read(PRICES_FILE)
    if user_file is None:
        return table
    extra = _read(Path(user_file))
    merged = {name: prices.model_copy(deep=True) for name, prices in table.providers.items()}
    for name, prices in extra.providers.items():
        base = merged.setdefault(name, ProviderPrices())
        base.models.update(prices.models)
        if "batch_discount" in prices.model_fields_set:
            base.batch_discount = prices.batch_discount
    return PriceTable(version=f"{table.version}+{extra.version}", currency=table.currency, providers=merged)


def estimate_tokens(text: str) -> int:
    """A deliberately high token estimate for text never sent (about 3.5 characters per token)."""
    return int(len(text) / 3.5) + 1
