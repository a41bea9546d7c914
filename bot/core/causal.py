"""Causal order: what one incoming event sets off reaches the outbox in the order it was caused.

Each incoming event's handler tasks (and the tasks they spawn, and the handlers of events
they emit) form a :class:`Chain`: each task takes the next ticket when it is started. A
task may hand an action to the outbox once every task started before it in its chain is
done, so a member sees a badge announced by the first handler before the reply of the
second, and a follow-up event's messages after those of the handler that emitted it,
whichever task's database work happens to finish first.

A task that waits longer than :data:`CAUSAL_WAIT` for an earlier one goes ahead anyway (a
handler that waits on the network, or on a later task, delays no other for long). Work with
no chain (scheduler jobs, adapters) submits at once; so does a task whose turn it is, which
is the common case and costs one context-variable read.
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar

log = logging.getLogger(__name__)

#: How long a task waits, at most, for the tasks started before it in its chain (seconds).
CAUSAL_WAIT = 2.0


class Chain:
    """The tasks one incoming event set off, by ticket; ``first`` is the oldest not done."""

    __slots__ = ("done", "first", "issued", "waiters")

    def __init__(self) -> None:
        """An empty chain: the first task started takes ticket 0."""
        self.issued = 0
        self.first = 0
        self.done: set[int] = set()
        self.waiters: dict[int, asyncio.Future[None]] = {}

    def ticket(self) -> int:
        """The next task's place in the chain."""
        ticket = self.issued
        self.issued += 1
        return ticket

    def finished(self, ticket: int) -> None:
        """A task is done (or failed, or was cancelled): the next one may submit."""
        if ticket != self.first:
            self.done.add(ticket)
            return
        first = ticket + 1
        done = self.done
        while first in done:
            done.remove(first)
            first += 1
        self.first = first
        waiter = self.waiters.pop(first, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


#: The chain and ticket of the task running now (None outside any chain).
TURN: ContextVar[tuple[Chain, int] | None] = ContextVar("majlis_turn", default=None)


async def wait_turn() -> None:
    """Return once every task started before this one in its chain is done."""
    turn = TURN.get()
    if turn is None:
        return
    chain, ticket = turn
    if chain.first >= ticket:
        return
    waiter = asyncio.get_running_loop().create_future()
    chain.waiters[ticket] = waiter
    try:
        await asyncio.wait_for(waiter, CAUSAL_WAIT)
    except TimeoutError:
        log.warning("a task waited %.1f s for an earlier one of its event; going ahead",
                    CAUSAL_WAIT)
        TURN.set(None)  # this task no longer waits for its chain
    finally:
        if chain.waiters.get(ticket) is waiter:
            del chain.waiters[ticket]
