"""Jobs stored in the database and fired through APScheduler.

The database is the source of truth: an item holds its next firing time and, when it
recurs, an RFC 5545 RRULE or a cron line read in an IANA timezone. APScheduler 3.x's
``AsyncIOScheduler`` is only the alarm clock that wakes us at the next due time; at start
the alarms are rebuilt from the database.

Each occurrence fires at least once and, in normal operation, once. Claiming a due
occurrence leases it (item, occurrence) for :data:`LEASE`: no other scheduler can claim it
while the lease holds, and the item keeps it as its next run. Only once the job's handler
returned is the occurrence recorded as fired and the item moved on (to the next occurrence
when it recurs), in one transaction. On the real clock up to :data:`IN_FLIGHT` due jobs run
at once, started in time order (a slow job holds one place, the others go on); an item's
own occurrences never overlap, since its next one is neither due nor claimable before the
one running is recorded. A process killed mid-firing leaves the lease to run out; the
occurrence is then claimed again (at start-up, at the poll or by the alarm set for the
lease's end) and run again: handlers are idempotent. (A batch that is behind records its
firings in groups, so a kill then re-runs up to a group besides the jobs that were
running.) A firing missed while the bot was down is run once late or skipped, by the rule
the job declared. With a :class:`ManualClock`, :meth:`Scheduler.advance` fires due items in
time order, one at a time, instead.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from dateutil.rrule import rrulestr

from bot.core.clock import Clock
from bot.core.refs import CommunityRef, MemberRef

if TYPE_CHECKING:
    from bot.core.storage import Database, ScheduledRow

log = logging.getLogger(__name__)

#: A firing this late (or later) counts as missed and follows the job's misfire rule.
MISFIRE_GRACE = timedelta(seconds=60)
#: How often the database is re-read for items another process scheduled.
POLL_INTERVAL_SECONDS = 60
#: How long stopping waits for a firing in progress.
STOP_WAIT_SECONDS = 5.0
#: How long a claimed occurrence stays reserved for the scheduler that claimed it. Its
#: process renews the lease while it works; a dead one's occurrence runs again after it.
LEASE = timedelta(minutes=2)
#: How often a scheduler that holds leases renews them.
RENEW_SECONDS = 30.0
#: A batch whose next job is this late is behind: its firings are recorded in groups.
BEHIND = timedelta(milliseconds=250)
#: How many firings a batch that is behind records in one write.
RECORD_GROUP = 50
#: Due items read per query when many are due at once.
DUE_BATCH = 500
#: How many due jobs run at once on the real clock (a manual clock runs one at a time).
IN_FLIGHT = 8


@dataclass
class _Batch:
    """Occurrences one claim leased: the token of their leases and how their jobs went."""

    token: str
    tasks: list[asyncio.Task[bool]] = field(default_factory=list)
    #: What a job of the batch raised past its handler (the process is dying, or recording
    #: failed): nothing more of the batch starts, and what it claimed stays leased.
    failed: BaseException | None = None


class Misfire(StrEnum):
    """What to do with a firing missed while the bot was down."""

    RUN_LATE = "run_late"
    SKIP = "skip"


class ScheduleError(ValueError):
    """A recurrence rule or timezone that cannot be used."""


def check_timezone(name: str) -> ZoneInfo:
    """The IANA zone ``name``, or ScheduleError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown timezone {name!r}") from exc


def next_occurrence(
    rule: str, timezone: str, anchor: datetime, after: datetime
) -> datetime | None:
    """The first occurrence of ``rule`` strictly after ``after`` (UTC), or None when done.

    ``anchor`` is the series' start (its wall-clock time in ``timezone`` is kept across
    DST changes). ``rule`` is an RRULE body or ``cron:<crontab>``.
    """
    zone = check_timezone(timezone)
    if rule.startswith("cron:"):
        try:
            trigger = CronTrigger.from_crontab(_standard_cron(rule[5:]), timezone=zone)
        except ValueError as exc:
            raise ScheduleError(str(exc)) from exc
        start = max(after, anchor - timedelta(seconds=1)) + timedelta(seconds=1)
        found = trigger.get_next_fire_time(None, start.astimezone(zone))
        return None if found is None else found.astimezone(UTC)
    local_anchor = anchor.astimezone(zone).replace(tzinfo=None)
    body = rule.removeprefix("RRULE:")
    try:
        series = rrulestr(body, dtstart=local_anchor, ignoretz=True)
    except (ValueError, TypeError) as exc:
        raise ScheduleError(str(exc)) from exc
    local_after = after.astimezone(zone).replace(tzinfo=None)
    if after < anchor:
        local_after = local_anchor - timedelta(microseconds=1)
    found_local = series.after(local_after, inc=False)
    if found_local is None:
        return None
    result = found_local.replace(tzinfo=zone).astimezone(UTC)
    if result <= after:  # a repeated wall-clock hour at the end of DST
        return next_occurrence(rule, timezone, anchor, after + timedelta(hours=1))
    return result


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _standard_cron(expression: str) -> str:
    """Name the weekdays: crontab counts 0=Sunday, APScheduler 3 counts 0=Monday."""
    fields = expression.split()
    if len(fields) == 5:
        fields[4] = re.sub(r"\d+", lambda m: _DAYS[int(m.group()) % 8], fields[4])
    return " ".join(fields)


Fire = Callable[["ScheduledRow", datetime], Awaitable[None]]


class Scheduler:
    """Stores, rebuilds and fires scheduled items."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        fire: Fire,
        misfire_of: Callable[[str, str], Misfire],
        settle: Callable[[], Awaitable[None]] | None = None,
        in_flight: int | None = None,
    ) -> None:
        """``fire`` runs one item's job; ``misfire_of(plugin, job)`` gives its rule.

        ``settle`` waits for what a firing set off (its messages), so that on a manual
        clock every effect happens at the firing's time, before the clock moves on.
        ``in_flight`` is how many due jobs run at once: :data:`IN_FLIGHT` on the real
        clock, one on a manual clock (firings there happen in time order, one by one).
        """
        self.db = db
        self._settle = settle
        self.clock = clock
        self._fire = fire
        self._misfire_of = misfire_of
        self._aps: AsyncIOScheduler | None = None
        self._armed: datetime | None = None
        #: Held while due items are claimed and their jobs started (not while they run).
        self._running = asyncio.Lock()
        self._stopping = False
        self._slots = asyncio.Semaphore(in_flight or (1 if clock.manual else IN_FLIGHT))
        #: Items whose job runs now (in this process), and those jobs.
        self._busy: set[int] = set()
        self._firings: set[asyncio.Task[bool]] = set()
        #: Runs the alarm and the poll started (ours: APScheduler cancels its own at stop).
        self._wakes: set[asyncio.Task[None]] = set()
        #: Firings done but not recorded yet (a batch that is behind records in groups).
        self._pending: list[tuple[int, datetime, str, datetime | None]] = []
        #: When the job waiting for a place to run was due (None: none waits).
        self._waiting: datetime | None = None
        self.fired = 0

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Catch up what was missed, then arm the alarm for the soonest item.

        Only one alarm is armed at a time — for the earliest due item, read from the
        ``next_run_at`` index — so start-up costs one query however many items are stored,
        and a firing re-arms once. A slow poll is a safety net for items another process
        stored.
        """
        self._stopping = False
        if not self.clock.manual:
            self._aps = AsyncIOScheduler(timezone=UTC)
            self._aps.add_job(
                self._wake,
                IntervalTrigger(seconds=POLL_INTERVAL_SECONDS),
                id="majlis-poll",
                coalesce=True,
                max_instances=1,
            )
            self._aps.start()
        await self.run_due()

    async def stop(self) -> None:
        """Stop the alarms (what is stored stays) and wait for the firings in progress.

        A batch in progress starts no more jobs: the occurrences it claimed and did not
        start are given back, so the next start runs them at once. The jobs running finish
        (up to :data:`STOP_WAIT_SECONDS`) and are recorded.
        """
        self._stopping = True
        if self._aps is not None:
            # only the alarms: their runs are our tasks, which its shutdown does not cancel
            self._aps.shutdown(wait=False)
            self._aps = None
        self._armed = None
        try:  # let the firings in progress finish, so that they are recorded
            async with asyncio.timeout(STOP_WAIT_SECONDS):
                await self._running.acquire()
                self._running.release()
                while self._wakes or self._firings:
                    await asyncio.wait({*self._wakes, *self._firings})
                await self._flush()
        except TimeoutError:
            log.warning("a scheduled job was still running at shutdown; it runs again once "
                        "its lease ends")

    def _arm(self, when: datetime | None) -> None:
        """Set the one alarm to ``when`` if that is sooner than the one set."""
        if self._aps is None or when is None:
            return
        if self._armed is not None and self._armed <= when:
            return
        self._armed = when
        self._aps.add_job(
            self._alarm,
            DateTrigger(run_date=when),
            id="majlis-alarm",
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=4,
        )

    async def _alarm(self) -> None:
        self._armed = None
        await self._wake()

    async def _wake(self) -> None:
        """Run what is due in a task of ours, and return at once.

        Run inside APScheduler's job, a firing would be cancelled by its shutdown (it
        cancels the coroutine jobs still running) instead of finishing and being recorded.
        """
        if self._stopping:
            return
        task = asyncio.get_running_loop().create_task(self._run_due_logged())
        self._wakes.add(task)
        task.add_done_callback(self._wakes.discard)

    async def _run_due_logged(self) -> None:
        try:
            await self.run_due()
        except Exception:
            log.exception("running the due scheduled jobs failed; the poll tries again")

    # -- scheduling ---------------------------------------------------------------------

    async def schedule(
        self,
        *,
        plugin: str,
        job: str,
        community: CommunityRef,
        at: datetime | None,
        rule: str | None,
        timezone: str,
        key: str,
        data: dict[str, Any],
        member: MemberRef | None = None,
    ) -> int:
        """Store an item (replacing one with the same key) and arm its alarm.

        An empty ``key`` stores a new item every call (two reminders asked for in the same
        second are two items); a non-empty one replaces the item scheduled under it.
        """
        check_timezone(timezone)
        now = self.clock.now()
        anchor = at or now
        if anchor.tzinfo is None:
            raise ScheduleError("a scheduled time needs a timezone")
        first: datetime | None = anchor
        if rule is not None:
            first = next_occurrence(rule, timezone, anchor, anchor - timedelta(microseconds=1))
            if first is None:
                raise ScheduleError("the recurrence rule never fires")
            data = {**data, "_anchor": anchor.isoformat()}
        item_key = f"{plugin}:{job}:{community.key}:{key or uuid.uuid4().hex}"
        item_id = await self.db.schedule_upsert(
            {
                "key": item_key,
                "plugin": plugin,
                "job": job,
                "community": community.key,
                "data": data,
                "next_run_at": first,
                "rule": rule,
                "timezone": timezone,
                "status": "active",
                "member": member.id if member else None,
            }
        )
        self._arm(first)
        return item_id

    async def next_runs(
        self, plugin: str, job: str, community: CommunityRef
    ) -> dict[str, datetime]:
        """When each active item of a job fires next, by the key it was scheduled with."""
        prefix = f"{plugin}:{job}:{community.key}:"
        return {
            item.key.removeprefix(prefix): item.next_run_at
            for item in await self.db.scheduled_items(key_prefix=prefix)
            if item.next_run_at is not None
        }

    async def cancel(self, plugin: str, job: str, community: CommunityRef, key: str = "") -> bool:
        """Cancel an item by its parts."""
        return await self.db.schedule_cancel(f"{plugin}:{job}:{community.key}:{key}")

    # -- firing -------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Fire every item whose time has come, soonest first; returns how many fired.

        The due items are leased together in one transaction, then their jobs started in
        order, as places free up (:data:`IN_FLIGHT`), each recorded once its handler
        returned. Claiming and starting is one run at a time; the jobs it started run on
        while the next run (the alarm of a job due meanwhile) claims and starts more.
        """
        if self._stopping:
            return 0
        renewing: list[asyncio.Task[None]] = []
        batches: list[_Batch] = []
        try:
            async with self._running:
                while not self._stopping:
                    now = self.clock.now()
                    due = [item for item in await self.db.due_items(now, limit=DUE_BATCH)
                           if item.id not in self._busy]
                    if not due:
                        break
                    plans = [self._plan(item, now) for item in due]
                    batch = _Batch(uuid.uuid4().hex)
                    claimed = await self.db.claim_occurrences(
                        [(item.id, plan[0]) for item, plan in zip(due, plans, strict=True)],
                        now,
                        now + LEASE,
                        batch.token,
                    )
                    mine = [(item, plan)
                            for item, plan, ok in zip(due, plans, claimed, strict=True) if ok]
                    if mine:
                        renewing.append(
                            asyncio.get_running_loop().create_task(self._renew(batch.token)))
                    batches.append(batch)
                    await self._start_claimed(mine, batch)
                    if len(due) < DUE_BATCH or not mine or batch.failed is not None:
                        break  # none claimed: they would return
                if not self._stopping:
                    self._armed = None
                    self._arm(await self.db.earliest_due())
            count = 0
            for batch in batches:
                count += await self._finish(batch)
        finally:
            for task in renewing:
                task.cancel()
        return count

    async def _renew(self, token: str) -> None:
        """Keep the leases of a batch in progress from running out while it works."""
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            try:
                await self.db.renew_leases(token, self.clock.now() + LEASE)
            except Exception:
                log.warning("renewing the scheduler's leases failed", exc_info=True)

    def _plan(
        self, item: ScheduledRow, now: datetime
    ) -> tuple[datetime, str, datetime | None, bool]:
        """What a due item's firing does: (occurrence, outcome, next run, late).

        An occurrence whose firing died is late from when its lease ran out, not from when
        it was due: re-run promptly, it is not a firing missed.
        """
        occurrence = item.next_run_at
        assert occurrence is not None
        since = occurrence if item.leased_until is None else max(occurrence, item.leased_until)
        late = now - since > MISFIRE_GRACE
        misfire = self._misfire_of(item.plugin, item.job)
        outcome = "skipped" if late and misfire is Misfire.SKIP else "fired"
        upcoming: datetime | None = None
        if item.rule:
            anchor = datetime.fromisoformat(item.data.get("_anchor", occurrence.isoformat()))
            # After a long outage, catch up once and carry on from now, not every missed time.
            upcoming = next_occurrence(item.rule, item.timezone, anchor, max(occurrence, now))
        return occurrence, outcome, upcoming, late

    async def _run(self, item: ScheduledRow, now: datetime) -> int:
        plan = self._plan(item, now)
        batch = _Batch(uuid.uuid4().hex)
        claimed = await self.db.claim_occurrences([(item.id, plan[0])], now, now + LEASE,
                                                  batch.token)
        if not claimed[0]:
            return 0
        await self._start_claimed([(item, plan)], batch)
        return await self._finish(batch)

    async def _start_claimed(
        self,
        claimed: list[tuple[ScheduledRow, tuple[datetime, str, datetime | None, bool]]],
        batch: _Batch,
    ) -> None:
        """Start the jobs of leased occurrences in order (missed ones to skip are recorded).

        Each starts once a place is free. Stopping (or a job of the batch failing past its
        handler) starts no more: on stopping, the occurrences not started are given back.
        """
        skipped = [(item, plan) for item, plan in claimed if plan[1] == "skipped"]
        for item, (occurrence, _, _, _) in skipped:
            log.warning(
                "skipped a missed firing of %s.%s in %s (due %s)",
                item.plugin,
                item.job,
                item.community,
                occurrence.isoformat(),
            )
        await self._record([(item.id, plan[0], "skipped", plan[2]) for item, plan in skipped])
        to_fire = [(item, plan) for item, plan in claimed if plan[1] != "skipped"]
        loop = asyncio.get_running_loop()
        try:
            for index, (item, plan) in enumerate(to_fire):
                self._waiting = plan[0]
                await self._slots.acquire()
                if self._stopping or batch.failed is not None:
                    self._slots.release()
                    if batch.failed is None:
                        await self.db.release_leases(
                            batch.token,
                            [(rest.id, rest_plan[0]) for rest, rest_plan in to_fire[index:]])
                    return
                self._busy.add(item.id)
                task = loop.create_task(self._fire_one(item, plan, batch))
                self._firings.add(task)
                task.add_done_callback(self._firings.discard)
                batch.tasks.append(task)
        finally:
            self._waiting = None

    async def _fire_one(
        self,
        item: ScheduledRow,
        plan: tuple[datetime, str, datetime | None, bool],
        batch: _Batch,
    ) -> bool:
        """Run one leased occurrence's job and record it; False when it could not run.

        It is recorded at once, unless firings are behind (the job waiting for a place is
        already :data:`BEHIND` late: a backlog after an outage, or more due at once than
        single writes keep up with): then up to :data:`RECORD_GROUP` firings are recorded
        together, and a process killed meanwhile runs those again.
        """
        try:
            if not await self._fire_planned(item, plan):
                return False
            self._pending.append((item.id, plan[0], "fired", plan[2]))
            waiting = self._waiting
            behind = waiting is not None and self.clock.now() - waiting > BEHIND
            if not behind or len(self._pending) >= RECORD_GROUP:
                await self._flush()
            return True
        except BaseException as exc:
            batch.failed = exc
            raise
        finally:
            self._busy.discard(item.id)
            self._slots.release()

    async def _finish(self, batch: _Batch) -> int:
        """Wait for a batch's jobs, record what is left; how many fired."""
        fired = 0
        for task in batch.tasks:
            fired += await task  # what a job raised past its handler is raised here
        await self._flush()
        return fired

    async def _flush(self) -> None:
        """Record the firings done and not recorded yet."""
        done, self._pending = self._pending, []
        await self._record(done)

    async def _record(self, done: list[tuple[int, datetime, str, datetime | None]]) -> None:
        """Record firings (item, occurrence, outcome, next run) and arm their next runs."""
        if not done:
            return
        await self.db.record_occurrences(done, self.clock.now())
        for _, _, _, upcoming in done:
            self._arm(upcoming)

    async def _fire_planned(
        self, item: ScheduledRow, plan: tuple[datetime, str, datetime | None, bool]
    ) -> bool:
        """Run one leased occurrence's job; False when it could not run (it stays leased)."""
        occurrence, _, _, late = plan
        if late:
            log.info("running %s.%s late (due %s)", item.plugin, item.job, occurrence.isoformat())
        self.fired += 1
        try:
            await self._fire(item, occurrence)
        except Exception:  # not the handler's failure (reported where it ran): ours
            log.exception("scheduled job %s.%s could not run; it runs again once its lease "
                          "ends", item.plugin, item.job)
            return False
        return True

    async def advance(self, delta: timedelta) -> int:
        """Move a manual clock by ``delta``, firing due items in time order."""
        set_time = getattr(self.clock, "set", None)
        if set_time is None:
            raise RuntimeError("advance needs a ManualClock")
        target = self.clock.now() + delta
        fired = 0
        previous: tuple[int, datetime] | None = None
        while True:
            due = await self.db.due_items(target, limit=1)
            if not due:
                break
            soonest = due[0]
            assert soonest.next_run_at is not None
            if previous == (soonest.id, soonest.next_run_at):
                # its firing could not be recorded (it did not move on): trying again
                # would loop for ever; the running scheduler's alarm retries it later
                log.error("scheduled item %s did not move on from %s; advance stops firing",
                          soonest.id, soonest.next_run_at)
                break
            previous = (soonest.id, soonest.next_run_at)
            when = max(soonest.next_run_at, soonest.leased_until or soonest.next_run_at)
            if when > self.clock.now():
                set_time(when)
            fired += await self._run(soonest, self.clock.now())
            if self._settle is not None:
                await self._settle()
        set_time(target)
        return fired
