"""What hosted models cost: a maintained default table, overridden by flows.yaml.

Prices are USD per million tokens, as the providers list them (checked 2025-11). A model
served from your own `base_url` costs what you say (`eval.prices`, or a model's
`price_in_per_mtok`/`price_out_per_mtok`), else nothing.
"""

from __future__ import annotations

from parley_bot.agents.config import EvalConfig, ModelSpec, Price
from parley_bot.channels.messages import Usage

DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "o4-mini": (1.10, 4.40),
    "claude-opus-4-1": (15.00, 75.00),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "gemini-2.5-pro": (1.25, 10.00),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "mistral-large-latest": (2.00, 6.00),
    "mistral-small-latest": (0.10, 0.30),
}
"""Model id (without its provider) → (input, output) USD per million tokens. A dated id
('gpt-4o-2024-08-06', 'claude-haiku-4-5-20251001') takes its longest listed prefix."""


def price_of(spec: ModelSpec, settings: EvalConfig) -> Price:
    """The price of `spec`: `eval.prices`, then the spec's own figures, then the default
    table for a hosted model; zero for the rest (extractive, self-hosted without a figure)."""
    if spec.name in settings.prices:
        return settings.prices[spec.name]
    if spec.price_in_per_mtok or spec.price_out_per_mtok:
        return Price(in_per_mtok=spec.price_in_per_mtok, out_per_mtok=spec.price_out_per_mtok)
    model = spec.name.split(":", 1)[-1]
    listed = [key for key in DEFAULT_PRICES if model == key or model.startswith(key + "-")]
    if spec.base_url is None and listed:
        price_in, price_out = DEFAULT_PRICES[max(listed, key=len)]
        return Price(in_per_mtok=price_in, out_per_mtok=price_out)
    return Price()


def cost(usage: Usage | None, price: Price) -> float:
    """USD of one reply's tokens at `price`."""
    if usage is None:
        return 0.0
    return (usage.input_tokens * price.in_per_mtok + usage.output_tokens * price.out_per_mtok) / 1e6
