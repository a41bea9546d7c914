"""Who may do what: bot owners, the platform's admins, the moderator role, overrides.

Cache: none of its own; the platform adapters cache their answers (Telegram 60 s).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from bot.core.privilege import Privilege
from bot.core.refs import CommunityRef, MemberRef

if TYPE_CHECKING:
    from bot.core.communities import CommunityDirectory
    from bot.core.platform import Platform
    from bot.core.rewards import RewardLedger


class Privileges:
    """The privilege ladder member < mod < admin < owner, as each platform answers it."""

    def __init__(
        self,
        owners: Iterable[str],
        communities: CommunityDirectory,
        rewards: RewardLedger,
        platform_of: Callable[[str], Platform | None],
    ) -> None:
        """``owners`` are ``platform:id`` strings from the process settings."""
        self.owners = frozenset(owners)
        self.communities = communities
        self.rewards = rewards
        self._platform_of = platform_of
        #: Raised or lowered privileges (tests, the console's ``:admin``).
        self.overrides: dict[tuple[str, str], Privilege] = {}

    async def of(self, community: CommunityRef, member: MemberRef) -> Privilege:
        """The member's privilege.

        Bot owners, then the platform's answer, the /setup moderator role, and overrides.
        """
        if f"{member.platform}:{member.id}" in self.owners:
            return Privilege.OWNER
        override = self.overrides.get((community.key, member.id))
        platform = self._platform_of(community.platform)
        found = Privilege.MEMBER
        if platform is not None:
            found = await platform.privilege_of(community, member)
        mod_role = self.communities.info(community).get("mod_role")
        if found < Privilege.MOD and mod_role and mod_role in await self.rewards.roles(
            community, member
        ):
            found = Privilege.MOD
        return max(found, override) if override is not None else found


__all__ = ["Privileges"]
