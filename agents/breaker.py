"""A circuit breaker per model: during an outage, one timeout, not one per turn.

After `failures` failures of a model within `window_s` seconds the breaker opens: for
`cooldown_s` seconds the model is skipped and every turn is answered at once by the next in
the chain. Then it is half-open: the first turn to ask makes one trial call (the others keep
skipping while it runs), and that call decides: success closes the breaker, failure opens it
for another cool-down.

The state is kept in `SharedState` (the store every worker process shares), so one process
finding the model down spares the others the wait too. Its expiry does the timing, so the
breaker reads no clock of its own. Keys, per model name:

    parley:breaker:<model>:failures   a counter, per window
    parley:breaker:<model>            set while the breaker is open or half-open
    parley:breaker:<model>:open       set for the cool-down
    parley:breaker:<model>:trial      the claim of the one process making the trial call

A closed breaker costs one read a turn.
"""

from __future__ import annotations

import logging
from typing import Literal

from parley_bot.agents.config import BreakerSettings
from parley_bot.agents.shared import SharedState

log = logging.getLogger("parley.breaker")

Permit = Literal["closed", "trial"]
"""Why a call may go ahead: the breaker is closed, or this is the one trial call."""

# How long an opened breaker is remembered past its cool-down when no turn comes to try the
# model: after that, it starts closed again (and counts failures afresh).
_REMEMBER_S = 3600.0


class CircuitBreaker:
    """The breakers of all models of one bot, over shared state."""

    def __init__(self, shared: SharedState) -> None:
        self._shared = shared

    async def permit(self, model: str, trial_s: float) -> Permit | None:
        """Whether `model` may be called now, and as what; None: skip it.

        Args:
            model: the model's name in flows.yaml.
            trial_s: how long a trial call may take (the model's timeout), after which
                another process may try.
        """
        if await self._shared.get(_key(model)) is None:
            return "closed"
        if await self._shared.get(_key(model, "open")) is not None:
            return None
        claimed = await self._shared.put(_key(model, "trial"), "1", trial_s, only_new=True)
        return "trial" if claimed else None

    async def succeeded(self, model: str, permit: Permit) -> None:
        """Record a good answer; a successful trial closes the breaker."""
        if permit == "trial":
            for part in (None, "open", "trial"):
                await self._shared.delete(_key(model, part))
            log.warning("model %s answers again; using it again", model)

    async def failed(self, model: str, permit: Permit, settings: BreakerSettings) -> None:
        """Record a failure; the `failures`-th within a window, or a failed trial, opens it."""
        if permit == "closed":
            count = await self._shared.incr(_key(model, "failures"), settings.window_s)
            if count < settings.failures:
                return
            await self._shared.delete(_key(model, "failures"))
            log.warning("model %s failed %d times within %g s; skipping it for %g s",
                        model, count, settings.window_s, settings.cooldown_s)
        else:
            log.warning("model %s failed its trial call; skipping it for %g s",
                        model, settings.cooldown_s)
        await self._shared.put(_key(model), "1", settings.cooldown_s + _REMEMBER_S)
        await self._shared.put(_key(model, "open"), "1", settings.cooldown_s)
        await self._shared.delete(_key(model, "trial"))


def _key(model: str, part: str | None = None) -> str:
    return f"parley:breaker:{model}" + (f":{part}" if part else "")
