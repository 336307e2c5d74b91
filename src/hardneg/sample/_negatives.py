"""The negative strategies, by name: which candidate windows each draws from and what kind it labels them.

A *pool* (:data:`NEGATIVE_POOLS`) is one kind of negative: the mask of
candidate windows it may draw and the ``kind`` a drawn window gets. A
*strategy* (:data:`NEGATIVE_STRATEGIES`, what ``neg_strategy`` names) is the
pools it draws, in draw order, and how the requested number of negatives is
shared among them: ``mixed`` gives ``neg_mixed_near_frac`` of them to ``near``
and the rest to ``far``. Near is drawn first, so a window that qualifies as
near is taken as near.

Examples
--------
>>> NEGATIVE_STRATEGIES["mixed"].pools
('near', 'far')
>>> NEGATIVE_STRATEGIES["mixed"].requested(10, near_fraction=0.6)
{'near': 6, 'far': 4}
>>> NEGATIVE_STRATEGIES["uniform"].kinds
('uniform', 'near')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hardneg.sample._candidates import CandidatePool

__all__ = ["NEGATIVE_POOLS", "NEGATIVE_STRATEGIES", "NegativePool", "NegativeStrategy"]


@dataclass(frozen=True)
class NegativePool:
    """One kind of negative window: which candidates qualify and how a drawn one is labelled.

    Attributes
    ----------
    kind : str
        The ``kind`` a drawn window gets (one of :data:`hardneg._schema.KINDS`).
    description : str
        Which candidates qualify, in words.
    mask : callable
        ``mask(candidates) -> ndarray of bool``, one entry per candidate of a
        :class:`~hardneg.sample._candidates.CandidatePool`; a new array, which
        the draw narrows further (motion filters).
    near_wins : bool
        A drawn window that also qualifies as near is labelled ``near``.
    """

    kind: str
    description: str
    mask: Callable[[CandidatePool], np.ndarray]
    near_wins: bool = False

    @property
    def kinds(self) -> tuple[str, ...]:
        """Every kind a window drawn from this pool can be labelled."""
        return (self.kind, "near") if self.near_wins and self.kind != "near" else (self.kind,)

    def labels(self, near_event: np.ndarray) -> np.ndarray:
        """The kind of each drawn window, given its near event (-1 where it has none)."""
        kinds = np.full(len(near_event), self.kind, dtype=object)
        if self.near_wins:
            kinds[near_event >= 0] = "near"  # a window that qualifies as near is labelled near
        return kinds


def _near(candidates: CandidatePool) -> np.ndarray:
    return candidates.near_mask()


def _far(candidates: CandidatePool) -> np.ndarray:
    return candidates.far & ~candidates.near_mask()


def _every(candidates: CandidatePool) -> np.ndarray:
    return np.ones(len(candidates), dtype=bool)


#: Pool kind -> :class:`NegativePool`, in the order pools are drawn.
NEGATIVE_POOLS: dict[str, NegativePool] = {
    pool.kind: pool
    for pool in (
        NegativePool("near", "ends at most near_max_ms before the positive window of the event that follows", _near),
        NegativePool("far", "at least far_min_ms from every event, and not near", _far),
        NegativePool("uniform", "any candidate; one that qualifies as near is labelled near", _every, near_wins=True),
    )
}


@dataclass(frozen=True)
class NegativeStrategy:
    """A value of ``neg_strategy``: the pools it draws, in draw order, and how many from each.

    Attributes
    ----------
    name : str
    description : str
    pools : tuple of str
        Keys of :data:`NEGATIVE_POOLS`, in draw order.
    share : callable
        ``share(total, near_fraction) -> counts``, one per pool; the default gives the one pool everything.
    """

    name: str
    description: str
    pools: tuple[str, ...]
    share: Callable[[int, float], tuple[int, ...]] = lambda total, near_fraction: (total,)

    @property
    def kinds(self) -> tuple[str, ...]:
        """Every kind this strategy's windows can be labelled."""
        return tuple(dict.fromkeys(kind for pool in self.pools for kind in NEGATIVE_POOLS[pool].kinds))

    def requested(self, total: int, near_fraction: float) -> dict[str, int]:
        """How many of ``total`` negatives to draw from each pool; ``near_fraction`` shares a near/far mix."""
        return dict(zip(self.pools, self.share(total, near_fraction), strict=True))


def _near_then_far(total: int, near_fraction: float) -> tuple[int, int]:
    near = int(np.floor(near_fraction * total + 0.5))
    return near, total - near


#: ``neg_strategy`` name -> :class:`NegativeStrategy`.
NEGATIVE_STRATEGIES: dict[str, NegativeStrategy] = {
    strategy.name: strategy
    for strategy in (
        NegativeStrategy("near", "only windows just before an event", ("near",)),
        NegativeStrategy("far", "only windows far from every event", ("far",)),
        NegativeStrategy("mixed", "neg_mixed_near_frac of them near, the rest far", ("near", "far"), _near_then_far),
        NegativeStrategy("uniform", "windows drawn uniformly from every candidate", ("uniform",)),
    )
}
