"""Every outgoing action: stored first, delivered within rate limits, never lost.

An action is written to the database before it is tried, so a restart resumes what was
not yet delivered. One worker per platform waits until its adapter is connected, then
delivers the oldest action of each ordering stream (one channel, one member) as soon as
the action's rate-limit buckets allow; "retry after" answers block the bucket the
platform refused (or every send) for as long as it says, and never count as attempts.
Server and network errors back off with jitter within a time budget; what fails for good
is logged and reported to the community's admins. Each part of a multi-part action is
delivered once: the adapter records parts in a :class:`~bot.core.platform.Progress` the
outbox stores with the action. While a community is paused, automated posts are held —
kept, not dropped — and direct replies to commands still go out.

A DM that cannot be delivered posts its fallback in the channel. DMs sent together about one
thing (:meth:`bot.core.context.Context.dm_many`) share one fallback: once the group's last DM
is done, one post mentions exactly the members none reached. The group's claim is stored in
the transaction that stores that post, so it is made once, and start-up makes the posts of
groups done but not claimed when the last run stopped.

Scheduling is by ready time, not by rescanning the queue: a stream whose head waits for a
bucket is parked on that bucket, and a timer per bucket releases its oldest waiters as
the window frees, so a delivery costs O(log n) however many actions wait.

Direct replies go ahead of background work: they have their own ordering stream per
member and channel (an answer to a /help is not queued behind fifty level-up notes in the
same channel, nor behind other members' answers there), they are released first from any
bucket or delivery slot they wait on, and a background action does not take a window or
slot a direct reply is waiting for. One member's direct replies in one place keep their
order.
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
import logging
import random
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.actions import (
    FALLBACK_MENTIONS,
    Action,
    EditMessage,
    PinMessage,
    SendMessage,
    UnpinMessage,
)
from bot.core.causal import TURN, wait_turn
from bot.core.i18n import N_
from bot.core.markup import Markup, mention
from bot.core.platform import (
    Declined,
    Delivered,
    NeedsAdmin,
    NotConnected,
    PermanentError,
    Platform,
    Progress,
    RetryAfter,
    Undeliverable,
)
from bot.core.ratelimit import GLOBAL, Bucket, RateLimiter, legacy_keys
from bot.core.refs import MemberRef
from bot.core.storage import ANSWERING, NewOutboxRow

if TYPE_CHECKING:
    from bot.core.clock import Clock
    from bot.core.storage import Database

log = logging.getLogger(__name__)

#: Server and network errors are retried for this long (from the first one), then dropped.
RETRY_BUDGET_SECONDS = 3600.0
#: Backoff after the n-th consecutive error: ``base * 2**n`` capped, half of it jittered.
BACKOFF_BASE_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300.0
#: After "not connected" although the adapter said it was ready: a short constant pause,
#: so a reconnecting adapter is not hammered (no exponential block, no attempt counted).
NOT_CONNECTED_PAUSE_SECONDS = 0.5
#: Waiting for an admin to fix permissions: retry this often, this many times (3 days).
ADMIN_FIX_RETRY_SECONDS = 3600.0
ADMIN_FIX_ATTEMPTS = 72
#: Delivered (and finally failed) actions are kept this long for edits, then pruned.
KEEP_FINISHED = timedelta(days=7)
PRUNE_EVERY_SECONDS = 3600.0
#: Platform message ids remembered in memory (older ones are read from the database).
MESSAGE_IDS_KEPT = 4096
#: Direct replies go ahead of background actions (off only to measure without).
DIRECT_FIRST = True
#: Statuses of stored actions.
PENDING, HELD, SENT, FAILED, UNDELIVERABLE = "pending", "held", "sent", "failed", "undeliverable"

#: At most this many new rows and status changes go in one of the writer's transactions,
#: so a direct reply handed over during a large background batch waits for that one only.
WRITE_BATCH = 256

Report = Callable[[Action, str, dict[str, Any]], Awaitable[None]]

#: Waiters' rank offset of direct replies: below every background rank (``-len(stream)``).
_DIRECT_RANK = -(1 << 40)
#: Where a send waits when every delivery slot (``RateProfile.concurrency``) is taken.
SLOTS: Bucket = ("slots", "")
# Timer kinds in a lane's heap.
_STREAM, _BUCKET, _PARKED = 0, 1, 2


class _Parts(dict[int, str]):
    """``Progress.parts`` that tells the outbox at once when the adapter records a part.

    The part is then stored while the adapter goes on to the next one, so a crash right
    after part 1 does not post part 1 again at the next start.
    """

    __slots__ = ("on_change",)

    def __init__(self, parts: dict[int, str], on_change: Callable[[], None]) -> None:
        super().__init__(parts)
        self.on_change = on_change

    def __setitem__(self, key: int, value: str) -> None:
        super().__setitem__(key, value)
        self.on_change()


@dataclass(slots=True)
class _Queued:
    id: int
    action: Action
    direct: bool
    keys: tuple[Bucket, ...] = ()
    attempts: int = 0
    ready_at: float = 0.0  # loop time before which it is not tried (backoff)
    sent_at: float = 0.0
    progress: Progress = field(default_factory=Progress)
    saved_parts: dict[int, str] = field(default_factory=dict)
    failing_since: datetime | None = None
    failing_mono: float | None = None
    handle: Any = None
    writing: asyncio.Task[None] | None = None
    finished: bool = False


@dataclass(slots=True)
class _Write:
    """A new row (with what runs once it is committed) or a change of a stored one."""

    future: asyncio.Future[int]
    row: NewOutboxRow | None = None
    stored: Callable[[int], None] | None = None
    change: tuple[int, dict[str, Any]] | None = None


class _Writer:
    """A writer of the outbox's rows: group commit.

    Whatever was handed over while the previous transaction committed goes into the next
    one, in one transaction, so a burst of level-up notes costs a few commits, not two
    per note. There is no timer: a lone write starts at once. The outbox has two: one
    for background work and one for answers (direct replies, a member waiting), whose
    transactions take the answering line of SQLite's write lock. A batch holds at most
    :data:`WRITE_BATCH`, so an answer waits behind one background batch at most, never
    behind the backlog handed to the background writer.
    """

    def __init__(self, db: Database, urgent: bool) -> None:
        self.db = db
        self.urgent = urgent
        # changes of stored rows go first: each holds a delivery slot until committed, while
        # a new row only joins the queue (a backlog of new rows must not hold slots)
        self.changes: deque[_Write] = deque()
        self.pending: deque[_Write] = deque()
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.commits = 0  # transactions the writer committed (tests, benchmarks)

    def _put(self, write: _Write) -> asyncio.Future[int]:
        (self.pending if write.change is None else self.changes).append(write)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())
        self.wake.set()
        return write.future

    async def add(self, row: NewOutboxRow, stored: Callable[[int], None]) -> int:
        """Store a new action; ``stored(id)`` runs once it is committed. Returns its id."""
        future = asyncio.get_running_loop().create_future()
        return await self._put(_Write(future, row=row, stored=stored))

    async def change(self, action_id: int, **values: Any) -> None:
        """Change a stored action; returns once the change is committed."""
        future = asyncio.get_running_loop().create_future()
        await self._put(_Write(future, change=(action_id, values)))

    async def close(self) -> None:
        """Commit everything handed over, then stop."""
        task = self.task
        if task is None:
            return
        if not task.done():
            barrier = asyncio.get_running_loop().create_future()
            await self._put(_Write(barrier))  # resolved once all before it are done
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self.task = None

    async def _run(self) -> None:
        changes, pending = self.changes, self.pending
        try:
            while True:
                await self.wake.wait()
                self.wake.clear()
                while changes or pending:
                    # Changes of delivered actions are small, and each holds a delivery
                    # slot a direct reply may be waiting for: they take the answering line
                    # of the write lock, in batches of their own. New background rows wait
                    # in the other line; nothing holds a slot for them.
                    line = changes if changes else pending
                    ANSWERING.set(self.urgent or line is changes)
                    batch = [line.popleft() for _ in range(min(len(line), WRITE_BATCH))]
                    await self._write(batch)
        finally:
            # stopped (or broken): nobody may wait for ever on what was not written
            for line in (changes, pending):
                while line:
                    future = line.popleft().future
                    if not future.done():
                        future.set_exception(RuntimeError("the outbox writer stopped"))

    async def _write(self, batch: list[_Write]) -> None:
        rows = [w.row for w in batch if w.row is not None]
        changes = [w.change for w in batch if w.change is not None]
        ids: list[int] = []
        if rows or changes:
            try:
                ids = await self.db.outbox_write(rows, changes)
            except asyncio.CancelledError:
                for w in batch:
                    w.future.cancel()
                raise
            except Exception as exc:
                if len(rows) + len(changes) > 1:
                    # one faulty write fails alone: the others are written one by one
                    for w in batch:
                        await self._write([w])
                    return
                for w in batch:
                    if w.future.done():
                        continue
                    if w.row is None and w.change is None:
                        w.future.set_result(0)  # a barrier: nothing of its own failed
                    else:
                        w.future.set_exception(exc)
                return
            self.commits += 1
        new = iter(ids)
        for w in batch:
            result = 0
            if w.row is not None:
                result = next(new)
                if w.stored is not None:
                    try:
                        w.stored(result)  # queued for delivery only now it is committed
                    except Exception:
                        log.exception("outbox: queueing stored action %s failed", result)
            if not w.future.done():
                w.future.set_result(result)


class _Lane:
    """One platform's queue, buckets and worker."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.limiter = RateLimiter(platform.rate_profile)
        self.concurrency = max(platform.rate_profile.concurrency, 1)
        self.rate_keys = getattr(platform, "rate_keys", None)
        self.wait_ready = getattr(platform, "wait_ready", None)
        try:
            self.takes_progress = "progress" in inspect.signature(platform.deliver).parameters
        except (TypeError, ValueError):
            self.takes_progress = False
        # ordering streams: the head is the only one tried; it stays first while in flight
        self.streams: dict[str, deque[_Queued]] = {}
        self.gen: dict[str, int] = {}
        self.in_flight: set[str] = set()
        self.parked: dict[int, tuple[str, _Queued]] = {}
        self.size = 0  # actions in streams and parked, in flight included
        # (time, seq, kind, key, generation)
        self.timers: list[tuple[float, int, int, Any, int]] = []
        # (rank, action id, stream, generation); see Outbox._try for the rank
        self.waiters: dict[Bucket, list[tuple[int, int, str, int]]] = {}
        self.armed: dict[Bucket, float] = {}
        self.stalled: set[Bucket] = set()
        self.seq = 0
        self.ready = False
        self.paused_until = 0.0
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def keys_of(self, action: Action) -> tuple[Bucket, ...]:
        if self.rate_keys is not None:
            return tuple(self.rate_keys(action))
        return legacy_keys(self.platform.rate_profile, action.channel_key, action.community.id)

    def own_window(self, keys: tuple[Bucket, ...]) -> bool:
        windows = self.limiter.windows
        return any(key[0] in windows and key != GLOBAL for key in keys)

    @property
    def free(self) -> int:
        return self.concurrency - len(self.in_flight)

    def timer(self, at: float, kind: int, key: Any, gen: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.timers, (at, self.seq, kind, key, gen))
        self.wake.set()

    def arm(self, bucket: Bucket, at: float) -> None:
        if self.armed.get(bucket, float("inf")) > at:
            self.armed[bucket] = at
            self.timer(at, _BUCKET, bucket)


class Outbox:
    """Stores, rate-limits, delivers and retries outgoing actions."""

    def __init__(self, db: Database, clock: Clock, report: Report) -> None:
        """``report`` tells a community's admins about an action that failed for good."""
        self.db = db
        self.clock = clock
        self._report = report
        self._lanes: dict[str, _Lane] = {}
        self._message_ids: OrderedDict[int, str | None] = OrderedDict()
        self._waiters: dict[int, asyncio.Future[str | None]] = {}
        self._live: set[int] = set()
        self._paused: set[str] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._pruner: asyncio.Task[None] | None = None
        #: Background rows and states, and answers' (see :class:`_Writer`).
        self._writers = (_Writer(db, False), _Writer(db, True))
        self._stopping = False
        self.retry_budget = RETRY_BUDGET_SECONDS
        self.backoff_base = BACKOFF_BASE_SECONDS
        self.not_connected_pause = NOT_CONNECTED_PAUSE_SECONDS
        self.stats = {
            "sent": 0, "retry_after": 0, "failed": 0, "undeliverable": 0, "retried": 0,
            "not_connected": 0, "declined": 0,
        }  # fmt: skip

    # -- life cycle ---------------------------------------------------------------------

    async def start(self, platforms: dict[str, Platform], paused: set[str]) -> None:
        """Load what was not delivered before the last stop and start the workers.

        Workers deliver nothing before their adapter says it is ready.
        """
        self._paused = set(paused)
        for name, platform in platforms.items():
            self._lanes[name] = _Lane(platform)
        for row in await self.db.outbox_pending([PENDING]):
            lane = self._lanes.get(row.platform)
            if lane is None:
                log.warning("outbox: no platform %s for stored action %s", row.platform, row.id)
                continue
            if "kind" not in row.action:
                # erased at the member's request while it waited: nothing left to say
                log.info("outbox: stored action %s was redacted; not sent", row.id)
                await self.db.outbox_update([row.id], status=FAILED, error="redacted")
                continue
            action = Action.from_json(row.action)
            item = self._item(lane, row.id, action, row.direct, row.progress)
            item.attempts = row.attempts
            item.failing_since = row.failing_since
            if row.reply is not None:
                restore = getattr(lane.platform, "restore_handle", None)
                item.handle = restore(row.reply) if restore is not None else None
            self._enqueue(lane, item)
        # groups of DMs that were all done when the last run stopped, their post not made
        for group, community in await self.db.outbox_groups_open():
            await self._group_done(group, community)
        loop = asyncio.get_running_loop()
        for lane in self._lanes.values():
            lane.task = loop.create_task(self._work(lane))
        self._pruner = loop.create_task(self._prune_loop())
        self._update_idle()

    async def stop(self) -> None:
        """Stop the workers; undelivered actions stay stored for the next start."""
        self._stopping = True
        tasks: list[asyncio.Task[Any]] = []
        if self._pruner is not None:
            tasks.append(self._pruner)
        for lane in self._lanes.values():
            if lane.task is not None:
                tasks.append(lane.task)
            tasks.extend(lane.tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        # what the deliveries stored on their way out (parts, "sent") is committed now
        for writer in self._writers:
            await writer.close()
        self._pruner = None
        self._lanes.clear()
        self._live.clear()
        self._stopping = False

    def _item(
        self,
        lane: _Lane,
        action_id: int,
        action: Action,
        direct: bool,
        parts: dict[int, str] | None = None,
    ) -> _Queued:
        done = dict(parts or {})
        item = _Queued(action_id, action, direct, lane.keys_of(action), saved_parts=done)
        item.progress = Progress(f"mj{action_id}", _Parts(done, lambda: self._part_done(item)))
        return item

    def _part_done(self, item: _Queued) -> None:
        if item.writing is None or item.writing.done():
            item.writing = asyncio.get_running_loop().create_task(self._write_parts(item))

    async def _write_parts(self, item: _Queued) -> None:
        # runs once the adapter yields; a last part is stored with the "sent" mark instead
        if not item.finished:
            await self._save_progress(item)

    # -- submitting ---------------------------------------------------------------------

    async def submit(
        self, action: Action, *, direct: bool = False, reply_handle: Any = None
    ) -> int:
        """Store an action and queue it; returns its outbox id.

        ``direct`` marks an answer to a member's own command or button: it goes out even
        while the community is paused. A reply handle with a ``to_json()`` is stored in
        that form too, so the adapter (``restore_handle``) can still answer after a restart.
        An action of a handler's task waits until the tasks its event set off before it
        have submitted theirs (see :mod:`bot.core.causal`), unless it is submitted inside
        a transaction.
        """
        turn = TURN.get()
        if turn is not None and turn[0].first < turn[1] and not self.db.in_transaction():
            # inside a transaction this task holds the write lock the earlier tasks may be
            # waiting for: waiting for them would stall both (until CAUSAL_WAIT)
            await wait_turn()
        platform = action.community.platform
        held = not direct and action.community.key in self._paused
        recipient = action.recipient
        to_json = getattr(reply_handle, "to_json", None)
        lane = None if held else self._lanes.get(platform)

        def queue(action_id: int) -> None:
            if lane is None or self._stopping or self._lanes.get(platform) is not lane:
                return  # stopped meanwhile: the stored row is loaded at the next start
            item = self._item(lane, action_id, action, direct)
            item.handle = reply_handle
            self._enqueue(lane, item)
            self._idle.clear()

        row = NewOutboxRow(
            action.community.key,
            platform,
            action.to_json(),
            direct,
            HELD if held else PENDING,
            recipient.id if recipient else None,
            self.clock.now(),
            tuple(action.members_named()),
            to_json() if callable(to_json) else None,
            _group_of(action),
        )
        if self.db.in_transaction():
            # inside a plugin's transaction the row may still roll back: it is written on
            # that transaction's connection and delivered once that commits
            action_id = await self.db.outbox_add(
                row.community,
                row.platform,
                row.action,
                direct=row.direct,
                status=row.status,
                member=row.member,
                now=row.now,
                subjects=row.subjects,
                reply=row.reply,
                group=row.group,
            )
            if not held:
                self.db.after_commit(lambda: queue(action_id))
        else:
            # one writer stores it with whatever else is waiting; queued once committed
            writer = self._writers[DIRECT_FIRST and (direct or ANSWERING.get())]
            action_id = await writer.add(row, queue)
        if not held and lane is None:
            raise RuntimeError(f"no platform {platform!r} is running")
        return action_id

    async def delivered(self, action_id: int, timeout: float | None = None) -> str | None:
        """Wait until an action is delivered; the platform's message id (None if it failed)."""
        if action_id in self._message_ids:
            return self._message_ids[action_id]
        future = self._waiters.get(action_id)
        if future is None:
            if action_id not in self._live:
                state = await self.db.outbox_state(action_id)
                if state is None or (state[0] != PENDING and state[0] != HELD):
                    return state[1] if state is not None and state[0] == SENT else None
            future = asyncio.get_running_loop().create_future()
            self._waiters[action_id] = future
        return await asyncio.wait_for(asyncio.shield(future), timeout)

    async def idle(self, timeout: float = 30.0) -> None:
        """Wait until nothing is queued or in flight (tests and scripted stories)."""
        async def quiet() -> None:
            while True:
                await self._idle.wait()
                if all(lane.size == 0 for lane in self._lanes.values()):
                    return
                self._idle.clear()

        await asyncio.wait_for(quiet(), timeout)

    def queued(self) -> int:
        """How many actions wait in memory across platforms (not counting those in flight)."""
        return sum(lane.size - len(lane.in_flight) for lane in self._lanes.values())

    # -- pause --------------------------------------------------------------------------

    def is_paused(self, community_key: str) -> bool:
        """Whether a community's automated posts are held."""
        return community_key in self._paused

    def wake(self, community_key: str) -> int:
        """Retry now what waits in a community (an admin changed roles or permissions)."""
        woken = 0
        now = asyncio.get_running_loop().time()
        for lane in self._lanes.values():
            for action_id, (_, item) in list(lane.parked.items()):
                if item.action.community.key == community_key:
                    self._unpark(lane, action_id, now)
                    woken += 1
            for sk, stream in lane.streams.items():
                head = stream[0]
                if (
                    head.action.community.key == community_key
                    and head.ready_at > now
                    and sk not in lane.in_flight
                ):
                    head.ready_at = 0.0
                    self._try(lane, sk, now)
                    woken += 1
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
        held: list[int] = []
        now = asyncio.get_running_loop().time()
        for lane in self._lanes.values():
            for action_id, (_, item) in list(lane.parked.items()):
                if item.action.community.key == community_key and not item.direct:
                    del lane.parked[action_id]
                    lane.size -= 1
                    held.append(action_id)
            for sk in list(lane.streams):
                stream = lane.streams[sk]
                flying = stream[0] if sk in lane.in_flight else None
                keep = deque(
                    i for i in stream
                    if i is flying or i.action.community.key != community_key or i.direct
                )  # fmt: skip
                if len(keep) == len(stream):
                    continue
                kept = {i.id for i in keep}
                held.extend(i.id for i in stream if i.id not in kept)
                lane.size -= len(stream) - len(keep)
                if keep:
                    lane.streams[sk] = keep
                    self._try(lane, sk, now)
                else:
                    del lane.streams[sk]
                    lane.gen.pop(sk, None)
        self._live.difference_update(held)
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
                if row.id in ids and row.platform in self._lanes and "kind" in row.action:
                    lane = self._lanes[row.platform]
                    item = self._item(
                        lane, row.id, Action.from_json(row.action), row.direct, row.progress
                    )
                    self._enqueue(lane, item)
            self._idle.clear()
        return len(ids)

    # -- scheduling (no awaits: runs between deliveries on the event loop) ----------------

    def _update_idle(self) -> None:
        if all(lane.size == 0 for lane in self._lanes.values()):
            self._idle.set()
        else:
            self._idle.clear()

    def _enqueue(self, lane: _Lane, item: _Queued) -> None:
        sk = _stream_of(item)
        lane.size += 1
        self._live.add(item.id)
        stream = lane.streams.get(sk)
        if stream is None:
            lane.streams[sk] = deque((item,))
            self._try(lane, sk, asyncio.get_running_loop().time())
            return
        if item.id > stream[-1].id:
            stream.append(item)
            return
        # an older action comes back (resumed, woken): it goes before newer ones, but never
        # before a head already in flight
        first = 1 if sk in lane.in_flight else 0
        items = sorted([*list(stream)[first:], item], key=lambda i: i.id)
        lane.streams[sk] = deque([*list(stream)[:first], *items])
        if not first:
            self._try(lane, sk, asyncio.get_running_loop().time())

    def _try(self, lane: _Lane, sk: str, now: float) -> None:
        """Deliver the head of stream ``sk`` now, or file it where it waits.

        Held by the global limit (or by all delivery slots being taken), the longest
        streams go first when their own (chat, channel) bucket bounds them: such a stream
        can take no more of the global rate than its own bucket allows, so a busy channel
        keeps its pace while a burst of DMs shares the rest. Among equals, the oldest
        action goes first.
        """
        stream = lane.streams.get(sk)
        if not stream or sk in lane.in_flight:
            return
        gen = lane.gen[sk] = lane.gen.get(sk, 0) + 1  # older entries for sk are stale now
        head = stream[0]
        if not lane.ready:
            return  # every stream is tried again once the platform is ready
        if head.ready_at > now:
            lane.timer(head.ready_at, _STREAM, sk, gen)
            return
        wait, why = lane.limiter.wait(head.keys, now)
        if wait <= 0 and lane.free <= 0:
            why = SLOTS
        if why is None and not head.direct and DIRECT_FIRST:
            why = _direct_waiting(lane, head.keys)  # a direct reply waits for this window
        if why is not None:
            shared = why in (GLOBAL, SLOTS) and lane.own_window(head.keys)
            # its queue and what its own window holds: a chat that keeps its window full
            # keeps its pace to its last message
            rank = -(len(stream) + lane.limiter.used(head.keys, now)) if shared else 0
            if head.direct and DIRECT_FIRST:
                rank += _DIRECT_RANK
            heapq.heappush(lane.waiters.setdefault(why, []), (rank, head.id, sk, gen))
            if why == SLOTS:
                lane.stalled.add(SLOTS)  # released as deliveries finish
            else:
                lane.arm(why, now + wait)
            return
        lane.limiter.record(head.keys, now)
        head.sent_at = now
        lane.in_flight.add(sk)
        task = asyncio.get_running_loop().create_task(self._deliver(lane, sk, head))
        lane.tasks.add(task)
        task.add_done_callback(lane.tasks.discard)

    def _stale(self, lane: _Lane, sk: str, gen: int) -> bool:
        return lane.gen.get(sk) != gen or sk in lane.in_flight or sk not in lane.streams

    def _release(self, lane: _Lane, bucket: Bucket, now: float) -> None:
        """A bucket's window freed: try its oldest waiters while it allows sends."""
        heap = lane.waiters.get(bucket)
        while heap:
            if lane.free <= 0 or not lane.ready:
                lane.stalled.add(bucket)
                return
            # only this bucket's own wait: a waiter then held by the global limit queues
            # there by age, beside everyone else's (else slow buckets would lose to it)
            wait = lane.limiter.bucket_wait(bucket, now)
            if wait > 0:
                lane.arm(bucket, now + wait)
                return
            _, _, sk, gen = heapq.heappop(heap)
            if not self._stale(lane, sk, gen):
                self._try(lane, sk, now)
        lane.waiters.pop(bucket, None)

    def _pump(self, lane: _Lane) -> None:
        """Use free delivery slots for what waits on them and on buckets that stalled."""
        if not lane.ready:
            return
        now = asyncio.get_running_loop().time()
        while lane.stalled and lane.free > 0:
            self._release(lane, lane.stalled.pop(), now)

    def _fire(self, lane: _Lane, now: float) -> None:
        while lane.timers and lane.timers[0][0] <= now:
            at, _, kind, key, gen = heapq.heappop(lane.timers)
            if kind == _BUCKET:
                if lane.armed.get(key) == at:
                    del lane.armed[key]
                    self._release(lane, key, now)
            elif kind == _PARKED:
                if key in lane.parked:
                    self._unpark(lane, key, now)
            elif not self._stale(lane, key, gen):
                self._try(lane, key, now)

    def _unpark(self, lane: _Lane, action_id: int, now: float) -> None:
        _, item = lane.parked.pop(action_id)
        lane.size -= 1
        item.ready_at = 0.0
        self._enqueue(lane, item)

    # -- the worker ---------------------------------------------------------------------

    async def _work(self, lane: _Lane) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not lane.ready:
                await self._wait_ready(lane)
                lane.ready = True
                # everything filed while not ready is re-filed by its buckets now
                now = loop.time()
                for sk in list(lane.streams):
                    self._try(lane, sk, now)
            lane.wake.clear()
            self._fire(lane, loop.time())
            self._pump(lane)
            self._update_idle()
            delay = max(lane.timers[0][0] - loop.time(), 0.0) if lane.timers else None
            try:
                # not wait_for: on 3.11 it loses a cancel that lands as the wait ends (stop
                # then waits for ever on this loop)
                async with asyncio.timeout(delay):
                    await lane.wake.wait()
            except TimeoutError:
                pass

    async def _wait_ready(self, lane: _Lane) -> None:
        loop = asyncio.get_running_loop()
        pause = lane.paused_until - loop.time()
        if pause > 0:
            await asyncio.sleep(pause)
        if lane.wait_ready is not None:
            await lane.wait_ready()

    async def _deliver(self, lane: _Lane, sk: str, item: _Queued) -> None:
        # this task's writes go first for a direct reply only, whoever started it (a reply's
        # delivery starts the next background one when it ends: that must not inherit it)
        ANSWERING.set(item.direct and DIRECT_FIRST)
        loop = asyncio.get_running_loop()
        done = False  # the action leaves its stream (sent, failed, parked)
        try:
            action = await self._prepare(item.action)
            if lane.takes_progress:
                result: Delivered = await lane.platform.deliver(
                    action, item.handle, progress=item.progress
                )
            else:
                result = await lane.platform.deliver(action, item.handle)
        except RetryAfter as exc:
            # never an attempt: the platform's wait is honoured for its bucket only
            self.stats["retry_after"] += 1
            lane.limiter.unrecord(item.keys, item.sent_at)
            until = loop.time() + exc.seconds
            bucket = GLOBAL if exc.scope == "global" else exc.bucket
            if bucket is not None:
                lane.limiter.block(bucket, until)
            elif item.keys:
                for key in item.keys:
                    if key != GLOBAL:
                        lane.limiter.block(key, until)
            if (bucket is None and not any(k != GLOBAL for k in item.keys)) or (
                bucket is not None and bucket != GLOBAL and bucket not in item.keys
            ):
                item.ready_at = until  # a wait no bucket of this action would honour
            await self._save_progress(item)
        except NotConnected:
            # not an attempt, nothing blocked: wait for the adapter, then go on
            self.stats["not_connected"] += 1
            lane.limiter.unrecord(item.keys, item.sent_at)
            lane.ready = False
            lane.paused_until = loop.time() + self.not_connected_pause
            lane.wake.set()
            await self._save_progress(item)
        except Undeliverable as exc:
            done = True
            await self._save_progress(item)
            await self._undeliverable(item, str(exc))
        except NeedsAdmin as exc:
            done = True
            item.attempts += 1
            await self._save_progress(item)
            if item.attempts == 1:
                await self._report(item.action, exc.reason, exc.values)
            if item.attempts >= ADMIN_FIX_ATTEMPTS:
                await self._fail(item, str(exc))
            else:
                # parked: does not hold up its channel; retried hourly or when woken
                lane.parked[item.id] = (sk, item)
                lane.size += 1
                lane.timer(loop.time() + ADMIN_FIX_RETRY_SECONDS, _PARKED, item.id)
                await self._change(
                    item,
                    attempts=item.attempts,
                    not_before=self.clock.now() + timedelta(seconds=ADMIN_FIX_RETRY_SECONDS),
                    error=str(exc),
                )
        except Declined as exc:
            done = True
            await self._save_progress(item)
            await self._decline(item, str(exc))
        except PermanentError as exc:
            done = True
            await self._save_progress(item)
            await self._fail(item, str(exc), exc.reason, exc.values)
        except asyncio.CancelledError:
            await asyncio.shield(self._save_progress(item))
            raise
        except Exception as exc:  # TransientError, and whatever an adapter did not expect
            done = await self._transient(item, exc)
        else:
            done = True
            item.finished = True
            if item.writing is not None and not item.writing.done():
                await item.writing
            self.stats["sent"] += 1
            self._remember(item.id, result.message_id)
            parts = item.progress.parts
            # committed (with whatever else is waiting) before the stream goes on, so a
            # crash re-sends at most what was in flight, as before
            await self._change(
                item,
                status=SENT,
                result=result.message_id,
                progress={str(k): v for k, v in parts.items()} if parts else None,
                failing_since=None,
                reply=None,  # a reply handle may hold a secret (an interaction's token)
            )
            self._resolve(item.id, result.message_id)
            await self._settled(item)
        finally:
            lane.in_flight.discard(sk)
            stream = lane.streams.get(sk)
            if done and stream and stream[0] is item:
                stream.popleft()
                lane.size -= 1
                if item.id not in lane.parked:
                    self._live.discard(item.id)
            if stream is not None and not stream:
                del lane.streams[sk]
                lane.gen.pop(sk, None)
            if not self._stopping:
                self._try(lane, sk, loop.time())
                self._pump(lane)
                lane.wake.set()
            self._update_idle()

    async def _transient(self, item: _Queued, exc: Exception) -> bool:
        """Back off and retry within the time budget; True when dropped for good."""
        loop = asyncio.get_running_loop()
        await self._save_progress(item)
        item.attempts += 1
        self.stats["retried"] += 1
        now = self.clock.now()
        if item.failing_since is None:
            item.failing_since = now
        if item.failing_mono is None:
            item.failing_mono = loop.time()
        failing_for = max(
            (now - item.failing_since).total_seconds(), loop.time() - item.failing_mono
        )
        if failing_for >= self.retry_budget:
            await self._fail(item, f"gave up after {failing_for:.0f}s of errors: {exc!r}")
            return True
        ceiling = min(self.backoff_base * 2.0 ** min(item.attempts, 30), MAX_BACKOFF_SECONDS)
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        log.warning("delivery of %s failed (%r); retrying in %.1fs", item.id, exc, delay)
        item.ready_at = loop.time() + delay
        await self._change(
            item,
            attempts=item.attempts,
            not_before=now + timedelta(seconds=delay),
            failing_since=item.failing_since,
            error=repr(exc),
        )
        return False

    async def _save_progress(self, item: _Queued) -> None:
        """Store the parts the adapter delivered so far, until what is stored is current."""
        writing = item.writing
        if writing is not None and writing is not asyncio.current_task() and not writing.done():
            await writing
        parts = item.progress.parts
        while parts != item.saved_parts:
            snapshot = dict(parts)
            await self._change(item, progress={str(k): v for k, v in snapshot.items()})
            item.saved_parts = snapshot

    async def _change(self, item: _Queued, **values: Any) -> None:
        """Store a change of an action's state through the writer (committed on return)."""
        await self._writers[DIRECT_FIRST and item.direct].change(item.id, **values)

    async def _prepare(self, action: Action) -> Action:
        if isinstance(action, EditMessage | PinMessage | UnpinMessage):
            gone, never = _LOST[type(action)]
            message_id = self._message_ids.get(action.original)
            if message_id is None:
                state = await self.db.outbox_state(action.original)
                if state is None:
                    raise PermanentError(gone, days=KEEP_FINISHED.days)
                if state[0] in (FAILED, UNDELIVERABLE):
                    raise PermanentError(never)
                message_id = state[1]
            if message_id is None:
                raise _NotYet(f"original message {action.original} not delivered yet")
            return replace(action, message_id=message_id)
        return action

    def _remember(self, action_id: int, message_id: str | None) -> None:
        ids = self._message_ids
        ids[action_id] = message_id
        ids.move_to_end(action_id)
        while len(ids) > MESSAGE_IDS_KEPT:
            ids.popitem(last=False)

    def _resolve(self, action_id: int, message_id: str | None) -> None:
        future = self._waiters.pop(action_id, None)
        if future is not None and not future.done():
            future.set_result(message_id)

    async def message_id(self, action_id: int) -> str | None:
        """The platform id of a delivered message (for edits)."""
        if action_id in self._message_ids:
            return self._message_ids[action_id]
        return await self.db.outbox_result(action_id)

    # -- housekeeping ---------------------------------------------------------------------

    async def prune(self) -> int:
        """Delete finished actions older than :data:`KEEP_FINISHED`; returns how many.

        A delivered post sent with ``keep`` stays: its sender edits or unpins it later.
        """
        return await self.db.outbox_prune(
            self.clock.now() - KEEP_FINISHED, [SENT, FAILED, UNDELIVERABLE], kept=SENT
        )

    async def _prune_loop(self) -> None:
        while True:
            try:
                pruned = await self.prune()
                if pruned:
                    log.info("outbox: pruned %d finished actions", pruned)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox: pruning failed")
            await asyncio.sleep(PRUNE_EVERY_SECONDS)

    async def _fail(
        self,
        item: _Queued,
        error: str,
        reason: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        self.stats["failed"] += 1
        log.error("action %s failed for good: %s", item.id, error)
        await self._change(item, status=FAILED, error=error, attempts=item.attempts,
                           reply=None)
        self._resolve(item.id, None)
        await self._report(item.action, reason or error, values or {})
        await self._settled(item)

    async def _decline(self, item: _Queued, error: str) -> None:
        """Drop an optional action the platform refused for want of a right; no report."""
        self.stats["declined"] += 1
        log.warning("action %s (%s) declined by the platform, dropped: %s", item.id,
                    item.action.kind, error)
        await self._change(item, status=FAILED, error=error, attempts=item.attempts,
                           reply=None)
        self._resolve(item.id, None)
        await self._settled(item)

    async def _undeliverable(self, item: _Queued, error: str) -> None:
        self.stats["undeliverable"] += 1
        await self._change(item, status=UNDELIVERABLE, error=error, reply=None)
        self._resolve(item.id, None)
        action = item.action
        if isinstance(action, SendMessage) and action.fallback_group is not None:
            await self._settled(item)  # one post for the group, once all its DMs are done
        elif isinstance(action, SendMessage) and action.fallback is not None:
            await self.submit(
                SendMessage(
                    community=action.community,
                    channel=action.fallback_channel,
                    content=action.fallback,
                    subjects=action.subjects,
                    unreached=True,
                ),
                direct=item.direct,
            )
        else:
            log.info("action %s undeliverable and has no fallback: %s", item.id, error)


    # -- groups of DMs with one fallback ------------------------------------------------

    async def _settled(self, item: _Queued) -> None:
        """An action is done for good: if it was its group's last DM, make the group's post."""
        action = item.action
        if isinstance(action, SendMessage) and action.fallback_group is not None:
            await self._group_done(action.fallback_group, action.community.key)

    async def _group_done(self, group: str, community: str) -> None:
        """Post a group's fallback once, if all its DMs are done, mentioning the unreached.

        A group whose DMs were all delivered needs no post and gets no claim.

        The group's claim and its post are stored in one transaction: a crash loses
        neither alone, and a group claimed before (by another delivery, another process
        or an earlier run) is never posted again. :meth:`start` calls it for the groups
        done but not claimed when the last run stopped.
        """
        try:
            if not await self.db.outbox_group_due(group):
                return  # the common case (one still waits, or all were delivered): one read
            async with self.db.transaction():
                rows = await self.db.outbox_group_claim(group, community, self.clock.now())
                if rows is None:
                    return
                post = _group_post(rows)
                if post is not None:
                    await self.submit(post)
        except asyncio.CancelledError:
            raise
        except Exception:
            # left unclaimed: the next start posts it
            log.exception("outbox: the fallback of DM group %s failed", group)


def _group_of(action: Action) -> str | None:
    return action.fallback_group if isinstance(action, SendMessage) else None


def _group_post(rows: list[tuple[str, dict[str, Any]]]) -> SendMessage | None:
    """The one post of a group of DMs: its fallback, mentioning the members none reached.

    None when every DM was delivered. A DM erased at a member's request (redacted) says
    nothing any more, and its member is not named.
    """
    template: SendMessage | None = None
    missed: list[MemberRef] = []
    for status, data in rows:
        if "kind" not in data:
            continue
        action = Action.from_json(data)
        if not isinstance(action, SendMessage) or action.fallback is None:
            continue
        template = template or action
        member = action.member
        if status == UNDELIVERABLE and member is not None and member not in missed:
            missed.append(member)
    if template is None or template.fallback is None or not missed:
        return None
    names = Markup(" ").join(mention(m.id, m.display_name) for m in missed)
    fallback = template.fallback
    text = Markup(str(fallback.text).replace(FALLBACK_MENTIONS, names))
    ids = tuple(dict.fromkeys((*fallback.mention_ids, *(m.id for m in missed))))
    # what the DMs were about (who acted, whom the event names), and whom the post names
    own = template.member.id if template.member is not None else None
    about = [s for s in template.subjects if s != own]
    return SendMessage(
        community=template.community,
        channel=template.fallback_channel,
        content=replace(fallback, text=text, mention_ids=ids),
        subjects=tuple(dict.fromkeys((*about, *ids))),
        unreached=True,
    )


def _stream_of(item: _Queued) -> str:
    """The ordering stream: one channel or member; direct replies per member apart.

    A direct reply is never queued behind background posts to the same channel, nor
    behind other members' answers there; one member's answers keep their order.
    """
    action = item.action
    if not (item.direct and DIRECT_FIRST):
        return action.channel_key
    member = getattr(action, "member", None)
    who = member.id if member is not None else ""
    return f"direct:{who}:{action.channel_key}"


def _direct_waiting(lane: _Lane, keys: tuple[Bucket, ...]) -> Bucket | None:
    """A bucket of ``keys`` (or the delivery slots) where a direct reply waits first in line.

    Only the top of each heap is looked at: O(1) per key. A stale top is dropped by the
    next release, which then tries the background head filed behind it.
    """
    waiters = lane.waiters
    if not waiters:
        return None
    for key in (*keys, SLOTS):
        heap = waiters.get(key)
        if heap and heap[0][0] <= _DIRECT_RANK // 2:
            return key
    return None


#: Why an action on an earlier message cannot be done: that message's outbox row is pruned,
#: or it was never delivered (the admins' report, msgids).
_LOST: dict[type[Action], tuple[str, str]] = {
    EditMessage: (
        N_("The message to edit is older than the {days} days the bot keeps track of."),
        N_("The message to edit was never delivered."),
    ),
    PinMessage: (
        N_("The message to pin is older than the {days} days the bot keeps track of."),
        N_("The message to pin was never delivered."),
    ),
    UnpinMessage: (
        N_("The message to unpin is older than the {days} days the bot keeps track of."),
        N_("The message to unpin was never delivered."),
    ),
}


class _NotYet(Exception):
    """An edit whose original is not delivered yet: retried like a transient error."""
