"""A review session's queue between two groupings.

Grouping replays every pair of the database (13-17 s at 500,000 records), so a review
session does not regroup after each verdict: it saves each verdict at once (nothing is
lost if the session dies; the next `litrev dedupe` applies it) and takes the next pair
from the queue as the last grouping left it, minus what the session has decided since.
A "same" joins two works, so their pairs with a third work become pairs of one joined
work and are shown once; a "different" settles every pair between its two works, as
`storage.review_queue` does after a grouping. The session regroups when this round's
queue is done, then goes on with whatever the grouping queued anew.
"""

from typing import Any


class QueueRound:
    """The queue of one grouping (`storage.review_queue`, likeliest first), as this session
    has answered it since."""

    def __init__(self, queue: list[dict[str, Any]]):
        self.queue = queue
        self.joined: dict[int, int] = {}  # work -> the work a "same" joined it to
        self.apart: list[tuple[int, int]] = []  # works a "different" settled
        self.verdicts = 0

    def work(self, work_id: int) -> int:
        """The work this one is part of, after this session's "same" verdicts."""
        while work_id in self.joined:
            work_id = self.joined[work_id]
        return work_id

    def pending(self, skipped: set[tuple[str, str]] = frozenset()) -> list[dict[str, Any]]:
        """Pairs still to judge: one per two works, neither joined nor settled, nor skipped."""
        settled = {self._works(a, b) for a, b in self.apart}
        out, seen = [], set()
        for pair in self.queue:
            works = self._works(pair["work_a"], pair["work_b"])
            if works[0] == works[1] or works in settled or works in seen \
                    or (pair["record_a"], pair["record_b"]) in skipped:
                continue
            seen.add(works)
            out.append(pair)
        return out

    def answered(self, pair: dict[str, Any], verdict: str) -> None:
        a, b = self._works(pair["work_a"], pair["work_b"])
        if verdict == "same":
            self.joined[b] = a
        else:
            self.apart.append((a, b))
        self.verdicts += 1

    def _works(self, x: int, y: int) -> tuple[int, int]:
        x, y = self.work(x), self.work(y)
        return (x, y) if x <= y else (y, x)
