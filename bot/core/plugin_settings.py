"""Plugin settings per community and channel: read, validate, write.

The service keeps every stored value of a community in memory once the community is
opened (one query), so a handler reads its settings without waiting: ``ctx.config``.
Cache: raw rows per community, loaded by :meth:`PluginSettings.load`, replaced by
:meth:`PluginSettings.set` (write-through), dropped by :meth:`PluginSettings.forget_community`
and on a plugin reload (:meth:`PluginSettings.plugin_changed`). Validated models are derived
from the raw rows and cached until those change. Another process that changes a value must
call :meth:`PluginSettings.invalidate` (the scale-out issue wires that to LISTEN/NOTIFY).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from bot.core.markup import Markup
from bot.core.refs import ChannelRef, CommunityRef

if TYPE_CHECKING:
    from bot.core.i18n import Translator
    from bot.core.plugin import Plugin
    from bot.core.storage import Database

log = logging.getLogger(__name__)


class SettingError(ValueError):
    """A setting value refused by the plugin's model; ``message`` is localized text."""

    def __init__(self, message: Markup) -> None:
        """Keep the explanation."""
        super().__init__(str(message))
        self.message = message


def _scope(channel: ChannelRef | None) -> str:
    return f"channel:{channel.id}" if channel is not None else ""


class PluginSettings:
    """Every plugin's settings, by community and channel scope."""

    def __init__(self, db: Database) -> None:
        """Start empty; communities load on first use."""
        self.db = db
        #: community -> (plugin, scope) -> stored values
        self._raw: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        self._models: dict[tuple[str, str, str], BaseModel] = {}
        self._loading: dict[str, asyncio.Future[None]] = {}

    # -- cache ------------------------------------------------------------------------

    def loaded(self, community: CommunityRef) -> bool:
        """Whether the community's values are in memory."""
        return community.key in self._raw

    async def load(self, community: CommunityRef) -> None:
        """Read every stored value of a community once (concurrent callers share it)."""
        key = community.key
        if key in self._raw:
            return
        pending = self._loading.get(key)
        if pending is not None:
            await asyncio.shield(pending)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            self._raw[key] = await self.db.community_settings(key)
            future.set_result(None)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the caller below re-raises it
            raise
        finally:
            self._loading.pop(key, None)

    def invalidate(self, community: CommunityRef | None = None) -> None:
        """Drop cached values (of one community, or all) so they are read again."""
        if community is None:
            self._raw.clear()
            self._models.clear()
            return
        self._raw.pop(community.key, None)
        self._models = {k: v for k, v in self._models.items() if k[1] != community.key}

    def plugin_changed(self, name: str) -> None:
        """A plugin was reloaded: its models are built again from the raw values."""
        self._models = {k: v for k, v in self._models.items() if k[0] != name}

    def forget_community(self, key: str) -> None:
        """Drop a community that moved to a new id."""
        self._raw.pop(key, None)
        self._models = {k: v for k, v in self._models.items() if k[1] != key}

    # -- reading ----------------------------------------------------------------------

    def get(
        self, plugin: Plugin, community: CommunityRef, channel: ChannelRef | None = None
    ) -> BaseModel:
        """Defaults, then community values, then channel values (no waiting).

        Before the community is loaded this answers the defaults; the dispatcher loads it
        before any handler runs.
        """
        scope = _scope(channel)
        cache_key = (plugin.name, community.key, scope)
        cached = self._models.get(cache_key)
        if cached is not None:
            return cached
        raw = self._raw.get(community.key)
        if raw is None:
            return plugin.settings()
        values = dict(raw.get((plugin.name, ""), {}))
        if scope:
            scoped: frozenset[str] = getattr(plugin.settings, "channel_scoped", frozenset())
            extra = raw.get((plugin.name, scope), {})
            values.update({k: v for k, v in extra.items() if k in scoped})
        try:
            model = plugin.settings.model_validate(values)
        except ValidationError:
            log.exception(
                "stored settings of %s in %s are invalid; using defaults",
                plugin.name,
                community.key,
            )
            model = plugin.settings()
        self._models[cache_key] = model
        return model

    async def read(
        self, plugin: Plugin, community: CommunityRef, channel: ChannelRef | None = None
    ) -> BaseModel:
        """Like :meth:`get`, loading the community first when needed."""
        if community.key not in self._raw:
            await self.load(community)
        return self.get(plugin, community, channel)

    # -- writing ----------------------------------------------------------------------

    async def set(
        self,
        plugin: Plugin,
        community: CommunityRef,
        key: str,
        value: Any,
        *,
        translator: Translator,
        core: Translator,
        channel: ChannelRef | None = None,
    ) -> BaseModel:
        """Validate and store one setting; nothing changes when it is refused.

        ``value`` None resets the key to its default. ``translator`` speaks the asking
        member's language in the plugin's domain, ``core`` in the core domain.

        Raises:
            SettingError: the key does not exist, is not channel-scoped, or the value is
                refused by the plugin's model.
        """
        from bot.core.validation import InvalidSetting, quote, validated_setting

        fields = plugin.settings.model_fields
        if key not in fields:
            raise SettingError(
                translator.t(
                    "{plugin} has no setting “{key}”. Its settings are: {keys}.",
                    plugin=plugin.name,
                    key=quote(key),
                    keys=", ".join(fields),
                )
            )
        scope = ""
        if channel is not None:
            if key not in getattr(plugin.settings, "channel_scoped", frozenset()):
                raise SettingError(
                    translator.t("“{key}” cannot be set per channel.", key=quote(key))
                )
            scope = _scope(channel)
        await self.load(community)
        raw = self._raw[community.key]
        try:
            model = validated_setting(
                plugin.settings, raw.get((plugin.name, scope), {}), key, value, translator, core
            )
        except InvalidSetting as exc:
            raise SettingError(exc.message) from None
        stored = None if value is None else model.model_dump(mode="json")[key]
        await self.db.set_setting(community.key, plugin.name, scope, key, stored)
        values = dict(raw.get((plugin.name, scope), {}))
        if stored is None:
            values.pop(key, None)
        else:
            values[key] = stored
        raw[(plugin.name, scope)] = values
        self._models = {
            k: v
            for k, v in self._models.items()
            if not (k[0] == plugin.name and k[1] == community.key)
        }
        return model


__all__ = ["PluginSettings", "SettingError"]
