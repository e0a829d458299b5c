"""Reading prometheus-client's registry in tests: it belongs to the process, so tests compare
what a block added rather than absolute counts."""

from __future__ import annotations

from prometheus_client import REGISTRY


def value(name: str, **labels: str) -> float:
    """One sample's value; 0 for a series that does not exist yet."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Deltas:
    """`deltas = Deltas((name, labels), ...)`, then `deltas()`: what each series gained."""

    def __init__(self, *series: tuple[str, dict[str, str]]) -> None:
        self._series = series
        self._before = [value(name, **labels) for name, labels in series]

    def __call__(self) -> list[float]:
        return [value(name, **labels) - before
                for (name, labels), before in zip(self._series, self._before, strict=True)]
