"""The reward ledger: who holds which badge, and the role that came with it.

Recorded by the core for every platform, so any plugin can ask (poll eligibility by badge
or role). No cache: reads go to the database (they are rare: eligibility, privileges).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.messages import Reward
from bot.core.refs import CommunityRef, MemberRef

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.core.clock import Clock
    from bot.core.platform import Platform
    from bot.core.storage import Database


class RewardLedger:
    """Badges and roles granted through the core."""

    def __init__(
        self, db: Database, clock: Clock, platform_of: Callable[[str], Platform | None]
    ) -> None:
        """``platform_of`` finds a running platform by name (for its own role answer)."""
        self.db = db
        self.clock = clock
        self._platform_of = platform_of

    async def record(
        self, community: CommunityRef, member: MemberRef, reward: Reward, *, revoke: bool
    ) -> None:
        """Remember a grant (or its revocation)."""
        await self.db.record_reward(
            community.key, member.id, reward.badge, reward.role.id if reward.role else None,
            self.clock.now(), revoke=revoke,
        )

    async def badges(self, community: CommunityRef, member: MemberRef) -> set[str]:
        """Badges granted to a member through the core."""
        return {badge for badge, _ in await self.db.rewards_of(community.key, member.id)}

    async def roles(self, community: CommunityRef, member: MemberRef) -> set[str]:
        """Role ids a member holds: the platform's answer plus roles granted by the core."""
        roles = {role for _, role in await self.db.rewards_of(community.key, member.id) if role}
        ask = getattr(self._platform_of(community.platform), "member_roles", None)
        if ask is not None:
            found = await ask(community, member)
            if found is not None:
                roles |= set(found)
        return roles


__all__ = ["RewardLedger"]
