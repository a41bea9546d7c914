"""Every outgoing action: stored first, delivered within rate limits, never lost.

An action is written to the database before it is tried, so a restart resumes what was
not yet delivered. One worker per platform picks the oldest action that its rate
limits allow, keeping order within a channel, and hands it to the adapter. "Retry after"
answers block the channel (or the whole bot) for as long as the platform says;
transient failures back off and retry; a permanent failure is recorded and reported to
the community's admins. While a community is paused, automated posts are held — kept,
not dropped — and direct replies to commands still go out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.core.actions import Action, EditMessage, SendMessage
from bot.core.platform import (
    Delivered,
    NeedsAdmin,
    PermanentError,
    Platform,
    RetryAfter,
    TransientError,
    Undeliverable,
)
from bot.core.ratelimit import RateLimiter

if TYPE_CHECKING:
    from bot.core.clock import Clock
    from bot.core.storage import Database

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 300.0
#: Waiting for an admin to fix permissions: retry this often, this many times (3 days).
ADMIN_FIX_RETRY_SECONDS = 3600.0
ADMIN_FIX_ATTEMPTS = 72
#: Statuses of stored actions.
PENDING, HELD, SENT, FAILED, UNDELIVERABLE = "pending", "held", "sent", "failed", "undeliverable"

Report = Callable[[Action, str, dict[str, Any]], Awaitable[None]]


@dataclass(slots=True)
class _Queued:
    id: int
    action: Action
    direct: bool
    attempts: int = 0
    ready_at: float = 0.0
    sent_at: float = 0.0
    parked: bool = False  # waiting for an admin's fix: does not hold up its channel


class _Lane:
    """One platform's queue and worker."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.limiter = RateLimiter(platform.rate_profile)
        self.queue: dict[int, _Queued] = {}
        self.in_flight: set[str] = set()
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.semaphore = asyncio.Semaphore(platform.rate_profile.concurrency)
        self.tasks: set[asyncio.Task[None]] = set()


class Outbox:
    """Stores, rate-limits, delivers and retries outgoing actions."""

    def __init__(self, db: Database, clock: Clock, report: Report) -> None:
        """``report`` tells a community's admins about an action that failed for good."""
        self.db = db
        self.clock = clock
        self._report = report
        self._lanes: dict[str, _Lane] = {}
        self._handles: dict[int, Any] = {}
        self._message_ids: dict[int, str | None] = {}
        self._waiters: dict[int, asyncio.Future[str | None]] = {}
        self._paused: set[str] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.stats = {"sent": 0, "retry_after": 0, "failed": 0, "undeliverable": 0, "retried": 0}

    # -- life cycle ---------------------------------------------------------------------

    async def start(self, platforms: dict[str, Platform], paused: set[str]) -> None:
        """Load what was not delivered before the last stop and start the workers."""
        self._paused = set(paused)
        for name, platform in platforms.items():
            self._lanes[name] = _Lane(platform)
        for row in await self.db.outbox_pending([PENDING]):
            lane = self._lanes.get(row.platform)
            if lane is None:
                log.warning("outbox: no platform %s for stored action %s", row.platform, row.id)
                continue
            lane.queue[row.id] = _Queued(
                row.id, Action.from_json(row.action), row.direct, row.attempts
            )
        for lane in self._lanes.values():
            lane.task = asyncio.get_running_loop().create_task(self._work(lane))
            lane.wake.set()
        self._update_idle()

    async def stop(self) -> None:
        """Stop the workers; undelivered actions stay stored for the next start."""
        for lane in self._lanes.values():
            if lane.task is not None:
                lane.task.cancel()
            for task in list(lane.tasks):
                task.cancel()
        for lane in self._lanes.values():
            waiting = [t for t in (lane.task, *lane.tasks) if t is not None]
            for task in waiting:
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        self._lanes.clear()

    # -- submitting ---------------------------------------------------------------------

    async def submit(
        self, action: Action, *, direct: bool = False, reply_handle: Any = None
    ) -> int:
        """Store an action and queue it; returns its outbox id.

        ``direct`` marks an answer to a member's own command or button: it goes out even
        while the community is paused.
        """
        platform = action.community.platform
        held = not direct and action.community.key in self._paused
        recipient = action.recipient
        action_id = await self.db.outbox_add(
            action.community.key,
            platform,
            action.to_json(),
            direct=direct,
            status=HELD if held else PENDING,
            member=recipient.id if recipient else None,
            now=self.clock.now(),
        )
        if reply_handle is not None:
            self._handles[action_id] = reply_handle
        if not held:
            lane = self._lanes.get(platform)
            if lane is None:
                raise RuntimeError(f"no platform {platform!r} is running")
            lane.queue[action_id] = _Queued(action_id, action, direct)
            self._idle.clear()
            lane.wake.set()
        return action_id

    async def delivered(self, action_id: int, timeout: float | None = None) -> str | None:
        """Wait until an action is delivered; the platform's message id."""
        if action_id in self._message_ids:
            return self._message_ids[action_id]
        future = self._waiters.get(action_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiters[action_id] = future
        return await asyncio.wait_for(asyncio.shield(future), timeout)

    async def idle(self, timeout: float = 30.0) -> None:
        """Wait until nothing is queued or in flight (tests and scripted stories)."""
        async def quiet() -> None:
            while True:
                await self._idle.wait()
                if all(not lane.queue and not lane.in_flight for lane in self._lanes.values()):
                    return
                self._idle.clear()

        await asyncio.wait_for(quiet(), timeout)

    def queued(self) -> int:
        """How many actions wait in memory across platforms."""
        return sum(len(lane.queue) for lane in self._lanes.values())

    # -- pause --------------------------------------------------------------------------

    def is_paused(self, community_key: str) -> bool:
        """Whether a community's automated posts are held."""
        return community_key in self._paused

    def wake(self, community_key: str) -> int:
        """Retry now what waits in a community (an admin changed roles or permissions)."""
        woken = 0
        for lane in self._lanes.values():
            for item in lane.queue.values():
                if item.action.community.key == community_key and item.ready_at:
                    item.ready_at = 0.0
                    woken += 1
            if woken:
                lane.wake.set()
        return woken

    def renamed(self, old: str, new: str) -> None:
        """Carry a community's pause over to its new key."""
        if old in self._paused:
            self._paused.discard(old)
            self._paused.add(new)

    async def pause(self, community_key: str) -> int:
        """Hold every automated post of a community; returns how many were held now."""
        self._paused.add(community_key)
        await self.db.update_community(community_key, paused=True)
        held = []
        for lane in self._lanes.values():
            for item in list(lane.queue.values()):
                if item.action.community.key == community_key and not item.direct:
                    del lane.queue[item.id]
                    held.append(item.id)
        await self.db.outbox_update(held, status=HELD)
        self._update_idle()
        return len(held)

    async def resume(self, community_key: str) -> int:
        """Release what was held; returns how many actions go out again."""
        self._paused.discard(community_key)
        await self.db.update_community(community_key, paused=False)
        ids = set(await self.db.outbox_release(community_key))
        if ids:
            for row in await self.db.outbox_pending([PENDING]):
                if row.id in ids and row.platform in self._lanes:
                    lane = self._lanes[row.platform]
                    lane.queue[row.id] = _Queued(row.id, Action.from_json(row.action), row.direct)
                    lane.wake.set()
            self._idle.clear()
        return len(ids)

    # -- the worker ---------------------------------------------------------------------

    def _update_idle(self) -> None:
        if all(not lane.queue and not lane.in_flight for lane in self._lanes.values()):
            self._idle.set()
        else:
            self._idle.clear()

    async def _work(self, lane: _Lane) -> None:
        loop = asyncio.get_running_loop()
        while True:
            lane.wake.clear()
            now = loop.time()
            soonest: float | None = None
            seen: set[str] = set()
            for item in list(lane.queue.values()):
                key = item.action.channel_key
                if item.parked and item.ready_at > now:
                    soonest = min(soonest or item.ready_at - now, item.ready_at - now)
                    continue
                if key in seen or key in lane.in_flight:
                    seen.add(key)
                    continue
                seen.add(key)
                group = item.action.community.id
                wait = max(item.ready_at - now, lane.limiter.wait(key, group, now))
                if wait > 0:
                    soonest = wait if soonest is None else min(soonest, wait)
                    continue
                if lane.semaphore.locked():
                    break
                await lane.semaphore.acquire()
                lane.limiter.record(key, group, now)
                item.sent_at = now
                lane.in_flight.add(key)
                del lane.queue[item.id]
                task = loop.create_task(self._deliver(lane, item))
                lane.tasks.add(task)
                task.add_done_callback(lane.tasks.discard)
            self._update_idle()
            try:
                await asyncio.wait_for(lane.wake.wait(), soonest)
            except TimeoutError:
                pass

    async def _deliver(self, lane: _Lane, item: _Queued) -> None:
        key = item.action.channel_key
        requeue = False
        try:
            action = await self._prepare(item.action)
            result: Delivered = await lane.platform.deliver(action, self._handles.get(item.id))
        except RetryAfter as exc:
            self.stats["retry_after"] += 1
            loop = asyncio.get_running_loop()
            lane.limiter.unrecord(key, item.action.community.id, item.sent_at)
            lane.limiter.block(exc.scope, key, loop.time() + exc.seconds)
            item.attempts += 1
            requeue = item.attempts < MAX_ATTEMPTS * 4
            if not requeue:
                await self._fail(item, f"rate limited {item.attempts} times")
        except Undeliverable as exc:
            await self._undeliverable(item, str(exc))
        except NeedsAdmin as exc:
            item.attempts += 1
            if item.attempts == 1:
                await self._report(item.action, exc.reason, exc.values)
            if item.attempts >= ADMIN_FIX_ATTEMPTS:
                await self._fail(item, str(exc))
            else:
                requeue = True
                item.parked = True
                item.ready_at = asyncio.get_running_loop().time() + ADMIN_FIX_RETRY_SECONDS
                await self.db.outbox_update(
                    [item.id],
                    attempts=item.attempts,
                    not_before=self.clock.now() + timedelta(seconds=ADMIN_FIX_RETRY_SECONDS),
                    error=str(exc),
                )
        except PermanentError as exc:
            await self._fail(item, str(exc), exc.reason, exc.values)
        except asyncio.CancelledError:
            raise
        except (TransientError, Exception) as exc:
            item.attempts += 1
            self.stats["retried"] += 1
            if item.attempts >= MAX_ATTEMPTS:
                await self._fail(item, repr(exc))
            else:
                log.warning("delivery of %s failed (%r); retrying", item.id, exc)
                item.ready_at = asyncio.get_running_loop().time() + min(
                    2.0**item.attempts, MAX_BACKOFF_SECONDS
                )
                requeue = True
                await self.db.outbox_update(
                    [item.id],
                    attempts=item.attempts,
                    not_before=self.clock.now() + timedelta(seconds=2.0**item.attempts),
                    error=repr(exc),
                )
        else:
            self.stats["sent"] += 1
            self._message_ids[item.id] = result.message_id
            await self.db.outbox_update([item.id], status=SENT, result=result.message_id)
            self._resolve(item.id, result.message_id)
        finally:
            lane.in_flight.discard(key)
            lane.semaphore.release()
            if requeue:
                lane.queue[item.id] = item
                # keep id order so the channel's order holds
                lane.queue = dict(sorted(lane.queue.items()))
            if not requeue:
                self._handles.pop(item.id, None)
            lane.wake.set()
            self._update_idle()

    async def _prepare(self, action: Action) -> Action:
        if isinstance(action, EditMessage):
            message_id = self._message_ids.get(action.original)
            if message_id is None:
                message_id = await self.db.outbox_result(action.original)
            if message_id is None:
                raise TransientError(f"original message {action.original} not delivered yet")
            return replace(action, message_id=message_id)
        return action

    def _resolve(self, action_id: int, message_id: str | None) -> None:
        future = self._waiters.pop(action_id, None)
        if future is not None and not future.done():
            future.set_result(message_id)

    async def message_id(self, action_id: int) -> str | None:
        """The platform id of a delivered message (for edits)."""
        if action_id in self._message_ids:
            return self._message_ids[action_id]
        return await self.db.outbox_result(action_id)

    async def _fail(
        self,
        item: _Queued,
        error: str,
        reason: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        self.stats["failed"] += 1
        log.error("action %s failed for good: %s", item.id, error)
        await self.db.outbox_update([item.id], status=FAILED, error=error, attempts=item.attempts)
        self._resolve(item.id, None)
        await self._report(item.action, reason or error, values or {})

    async def _undeliverable(self, item: _Queued, error: str) -> None:
        self.stats["undeliverable"] += 1
        await self.db.outbox_update([item.id], status=UNDELIVERABLE, error=error)
        self._resolve(item.id, None)
        action = item.action
        if isinstance(action, SendMessage) and action.fallback is not None:
            await self.submit(
                SendMessage(
                    community=action.community,
                    channel=action.fallback_channel,
                    content=action.fallback,
                ),
                direct=item.direct,
            )
        else:
            log.info("action %s undeliverable and has no fallback: %s", item.id, error)
