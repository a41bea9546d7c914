"""The admin plugin: plugins, /config, languages, /setup, and members' data requests.

It keeps no tables: every choice it makes lands in the core's records (plugin state,
settings, the community's row), so there is nothing of its own to export or forget.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Annotated, Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from bot import (
    N_,
    Attachment,
    Button,
    ButtonStyle,
    ChannelRef,
    Context,
    Markup,
    MemberRef,
    Param,
    Payload,
    Plugin,
    Privilege,
    RoleRef,
    command,
    find_timezone,
    on_button,
    quote,
    show_setting,
    timezone_suggestions,
)

log = logging.getLogger(__name__)

PROTECTED = frozenset({"core", "admin"})
RESET = "reset"
EXPORT_FILE = "my_data.json"
DELIVERY_WAIT = 10.0
TIMEZONES = ("UTC", "Asia/Riyadh", "Africa/Cairo", "Asia/Dubai", "Europe/London",
             "America/New_York")


class Setup(Payload, prefix="admin.setup"):
    """A choice in the /setup walk-through: ``step`` and its ``value`` ("" skips)."""

    step: str
    value: str


class Forget(Payload, prefix="admin.forget"):
    """The confirmation under /forget_me; only ``member`` may press it."""

    member: str
    confirm: bool


class Admin(Plugin):
    """Community administration and members' privacy requests."""

    name = "admin"
    description = N_("Plugins, settings, languages, setup, and members' data requests")
    stores = N_("Nothing of its own; your language choice is kept with your membership.")

    # -- plugins ------------------------------------------------------------------------

    @command("plugins", help=N_("List the plugins and whether they are on here"),
             privilege=Privilege.ADMIN)
    async def plugins(self, ctx: Context) -> None:
        """Each plugin with its state here, and what this platform cannot offer it."""
        lines = [ctx.t("**Plugins in this community:**")]
        platform = ctx.community.platform
        for name, plugin in sorted(self.app.plugins.items()):
            if name == "core":
                continue
            state = (ctx.t("on") if self.app.is_enabled(ctx.community, plugin)
                     else ctx.t("off"))
            about = self.app.translator(name, ctx.language, ctx.community).plain(
                plugin.description) if plugin.description else ""
            lines.append(Markup("• **{name}** — {state}{sep}{about}").format(
                name=name, state=state, sep=" — " if about else "", about=about))
            errors = self.app.dispatcher.error_count(name)
            if errors:
                lines.append(ctx.tn("  ⚠ {n} error since the bot started (see the log)",
                                    "  ⚠ {n} errors since the bot started (see the log)",
                                    errors))
            missing = self.app.unavailable.get((name, platform))
            if missing:
                lines.append(ctx.t("  unavailable here: it needs {what}",
                                   what=_capability_names(ctx, missing)))
            lacking = sorted(set(plugin.wants) - set(_capabilities(self, platform)))
            if lacking:
                lines.append(ctx.t("  works here without {what} (a simpler fallback is used)",
                                   what=_capability_names(ctx, lacking)))
        for failure in self.app.load_failures:
            lines.append(ctx.t("• **{name}** — could not be loaded: {error}",
                               name=failure.name, error=failure.error))
        await ctx.reply(Markup("\n").join(lines), private=True)

    @command("plugin_enable", help=N_("Turn a plugin on in this community"),
             privilege=Privilege.ADMIN)
    async def plugin_enable(
        self, ctx: Context,
        name: Annotated[str, Param(help=N_("The plugin's name"), autocomplete="complete_plugin")],
    ) -> None:
        """Enable a plugin here, at run time."""
        await self._switch(ctx, name, True)

    @command("plugin_disable", help=N_("Turn a plugin off in this community"),
             privilege=Privilege.ADMIN)
    async def plugin_disable(
        self, ctx: Context,
        name: Annotated[str, Param(help=N_("The plugin's name"), autocomplete="complete_plugin")],
    ) -> None:
        """Disable a plugin here, at run time (admin and core cannot be turned off)."""
        await self._switch(ctx, name, False)

    async def _switch(self, ctx: Context, name: str, enabled: bool) -> None:
        name = name.strip().lower()
        plugin = self.app.plugins.get(name)
        if plugin is None or name == "core":
            await self._unknown_plugin(ctx, name)
            return
        if not enabled and name in PROTECTED:
            await ctx.reply(ctx.t("{name} cannot be turned off: you would lose these commands.",
                                  name=name), private=True)
            return
        if self.app.is_enabled(ctx.community, plugin) == enabled:
            await ctx.reply(ctx.t("{name} is already on.", name=name) if enabled
                            else ctx.t("{name} is already off.", name=name), private=True)
            return
        await self.app.set_enabled(ctx.community, name, enabled)
        log.info("%s %s in %s by %s", "enabled" if enabled else "disabled", name,
                 ctx.community.key, ctx.member.id if ctx.member else "?")
        await ctx.reply(ctx.t("{name} is now on.", name=name) if enabled
                        else ctx.t("{name} is now off.", name=name))

    @command("plugin_reload", help=N_("Load a plugin's code again without restarting"),
             privilege=Privilege.OWNER)
    async def plugin_reload(
        self, ctx: Context,
        name: Annotated[str, Param(help=N_("The plugin's name"), autocomplete="complete_plugin")],
    ) -> None:
        """Reload a plugin; on failure the old version keeps running and the reply says why."""
        name = name.strip().lower()
        if name not in self.app.plugins or name == "core":
            await self._unknown_plugin(ctx, name)
            return
        try:
            await self.app.reload_plugin(name)
        except Exception as exc:
            log.exception("reload of %s failed; the old version keeps running", name)
            await ctx.reply(ctx.t("Reloading {name} failed, so the old version keeps running. "
                                  "The error: {error}",
                                  name=name, error=quote(type(exc).__name__ + ": " + str(exc),
                                                         200)))
            return
        await ctx.reply(ctx.t("{name} was reloaded.", name=name))

    async def _unknown_plugin(self, ctx: Context, name: str) -> None:
        names = tuple(sorted(n for n in self.app.plugins if n != "core"))
        await ctx.reply(ctx.t("There is no plugin “{name}”. Choose one of: {names}.",
                              name=quote(name, 40), names=names), private=True)

    async def complete_plugin(self, ctx: Context, partial: str) -> list[str]:
        """Autocomplete for plugin names."""
        return [n for n in sorted(self.app.plugins) if n != "core" and n.startswith(partial)]

    async def complete_key(self, ctx: Context, partial: str, plugin: str = "") -> list[str]:
        """Autocomplete for setting keys of ``plugin`` (every plugin's when unknown)."""
        found = self.app.plugins.get(plugin)
        models = [found] if found is not None else list(self.app.plugins.values())
        keys = {k for p in models for k in p.settings.model_fields}
        return sorted(k for k in keys if k.startswith(partial))

    # -- settings -----------------------------------------------------------------------

    @command("config", help=N_("Show, change or reset a plugin's settings"),
             privilege=Privilege.ADMIN, private=True)
    async def config_command(
        self,
        ctx: Context,
        plugin: Annotated[str, Param(help=N_("The plugin's name"),
                                     autocomplete="complete_plugin")],
        key: Annotated[str | None, Param(help=N_("The setting"),
                                         autocomplete="complete_key")] = None,
        value: Annotated[str | None, Param(help=N_("The new value, or reset"))] = None,
        channel: Annotated[ChannelRef | None,
                           Param(help=N_("Only in this channel, where allowed"))] = None,
    ) -> None:
        """Generated from the plugin's settings model: no code per key."""
        found = self.app.plugins.get(plugin.strip().lower())
        if found is None or found.name == "core":
            await self._unknown_plugin(ctx, plugin)
            return
        if key is None:
            await self._show(ctx, found, channel)
            return
        if value is None:
            await self._show(ctx, found, channel, only=key)
            return
        new_value: Any = (None if value.strip().lower() == RESET
                          else _typed(found.settings.model_fields.get(key), value))
        before: BaseModel = await self.app.settings_of(found, ctx.community, channel)
        try:
            model = await self.app.set_setting(
                found, ctx.community, key, new_value, translator=ctx.i18n, channel=channel
            )
        except ValueError as exc:  # bot.app.SettingError: its message is localized
            await ctx.reply(getattr(exc, "message", str(exc)), private=True)
            return
        log.info("setting %s.%s in %s set to %r by %s", found.name, key, ctx.community.key,
                 quote(new_value) if new_value is not None else None,
                 ctx.member.id if ctx.member else "?")
        shown = _show_value(ctx, getattr(model, key))
        if getattr(before, key) == getattr(model, key):  # nothing changed: say so
            await ctx.reply(ctx.t("{plugin}.{key} is already its default: {value}",
                                  plugin=found.name, key=key, value=shown) if new_value is None
                            else ctx.t("{plugin}.{key} is already {value}",
                                       plugin=found.name, key=key, value=shown), private=True)
            return
        if new_value is None:
            await ctx.reply(ctx.t("{plugin}.{key} is back to its default: {value}",
                                  plugin=found.name, key=key, value=shown))
        else:
            await ctx.reply(ctx.t("{plugin}.{key} is now {value}",
                                  plugin=found.name, key=key, value=shown))

    async def _show(self, ctx: Context, plugin: Plugin, channel: ChannelRef | None,
                    only: str | None = None) -> None:
        fields = plugin.settings.model_fields
        if only is not None and only not in fields:
            await ctx.reply(ctx.t("{plugin} has no setting “{key}”. Its settings are: {keys}.",
                                  plugin=plugin.name, key=quote(only, 40),
                                  keys=ctx.i18n.plain(", ").join(fields) or "—"),
                            private=True)
            return
        if not fields:
            await ctx.reply(ctx.t("{plugin} has no settings.", plugin=plugin.name))
            return
        current: BaseModel = await self.app.settings_of(plugin, ctx.community, channel)
        scoped: frozenset[str] = getattr(plugin.settings, "channel_scoped", frozenset())
        strings = self.app.translator(plugin.name, ctx.language, ctx.community)
        lines = [ctx.t("**Settings of {plugin}:**", plugin=plugin.name)]
        for name, info in fields.items():
            if only is not None and name != only:
                continue
            description = strings.plain(info.description) if info.description else ""
            default = info.get_default(call_default_factory=True)
            lines.append(ctx.t("• `{key}` = {value} (default {default}) — {description}",
                               key=name, value=_show_value(ctx, getattr(current, name)),
                               default=_show_value(ctx, default), description=description))
            if name in scoped:
                lines.append(ctx.t("  can also be set per channel: channel=#name"))
        lines.append(ctx.t("Change one with /config {plugin} KEY VALUE, or put it back with "
                           "/config {plugin} KEY reset.", plugin=plugin.name))
        await ctx.reply(Markup("\n").join(lines))

    # -- languages ----------------------------------------------------------------------

    @command("language", help=N_("Set the community's language"), privilege=Privilege.ADMIN)
    async def language(
        self, ctx: Context, code: Annotated[str, Param(help=N_("A language code, like ar"))]
    ) -> None:
        """Change the language the bot speaks here by default."""
        chosen = await self._language_code(ctx, code)
        if chosen is None:
            return
        if chosen == self.app.language_for(ctx.community, None):
            await ctx.reply(ctx.t("I already speak {language} here.",
                                  language=_language_name(chosen, ctx.language)), private=True)
            return
        await self.app.update_community(ctx.community, language=chosen)
        ctx = self.app.context_for_event(self, ctx.event) if ctx.event else ctx
        await ctx.reply(ctx.t("From now on I speak {language} here.",
                              language=_language_name(chosen, chosen)))

    @command("my_language", help=N_("Choose the language I use with you"))
    async def my_language(
        self, ctx: Context, code: Annotated[str, Param(help=N_("A language code, or auto"))]
    ) -> None:
        """Record the member's own language (``auto`` goes back to the community's)."""
        assert ctx.member is not None
        if code.strip().lower() == "auto":
            chosen: str | None = None
        else:
            chosen = await self._language_code(ctx, code)
            if chosen is None:
                return
        await self.app.set_member_language(ctx.community, ctx.member, chosen)
        ctx = self.app.context_for_event(self, ctx.event) if ctx.event else ctx
        await ctx.reply(ctx.t("I will speak {language} with you.",
                              language=_language_name(ctx.language, ctx.language)),
                        private=True)

    async def _language_code(self, ctx: Context, code: str) -> str | None:
        wanted = code.strip().lower().replace("-", "_").split("_", 1)[0]
        languages = self.app.catalogs.languages()
        if wanted in languages:
            return wanted
        await ctx.reply(ctx.t("“{code}” is not a language I speak. Choose one of: {choices}.",
                              code=quote(code, 40), choices=tuple(languages)), private=True)
        return None

    @command("timezone", help=N_("Set the community's timezone, like Asia/Riyadh"),
             privilege=Privilege.ADMIN)
    async def timezone(
        self, ctx: Context, zone: Annotated[str, Param(help=N_("An IANA timezone name"))]
    ) -> None:
        """Change the timezone dates and schedules are read in."""
        name = find_timezone(zone)
        if name is None:
            near = timezone_suggestions(zone)
            message = ctx.t("“{zone}” is not a timezone. Use a region and a city, like "
                            "Asia/Riyadh or Europe/Berlin, or UTC.", zone=quote(zone.strip(), 60))
            if near:
                message = ctx.t("{message} Perhaps: {zones}", message=message,
                                zones=", ".join(near))
            await ctx.reply(message, private=True)
            return
        if name == await self.app.timezone_of(ctx.community):
            await ctx.reply(ctx.t("The timezone is already {zone}.",
                                  zone=ctx.i18n.zone_name(name)), private=True)
            return
        await self.app.update_community(ctx.community, timezone=name)
        await ctx.reply(ctx.t("The timezone is now {zone}.", zone=ctx.i18n.zone_name(name)))

    @command("mod_role", help=N_("Choose the role of moderators"), privilege=Privilege.ADMIN)
    async def mod_role(
        self, ctx: Context, role: Annotated[RoleRef, Param(help=N_("The moderators' role"))]
    ) -> None:
        """Record which role moderators have (used for alerts)."""
        if self.app.community_info(ctx.community).get("mod_role") == role.id:
            await ctx.reply(ctx.t("Moderators already are those with the role {role}.",
                                  role=role.name or role.id), private=True)
            return
        await self.app.update_community(ctx.community, mod_role=role.id)
        await ctx.reply(ctx.t("Moderators are now those with the role {role}.",
                              role=role.name or role.id))

    # -- setup --------------------------------------------------------------------------

    @command("setup", help=N_("Walk through the first choices: language, channels, timezone"),
             privilege=Privilege.ADMIN, private=True)
    async def setup_command(self, ctx: Context) -> None:
        """Start (or re-run) the walk-through at its first step."""
        await self._step(ctx, "language")

    async def _step(self, ctx: Context, step: str) -> None:
        skip = Button(ctx.i18n.plain("Skip"), Setup(step, ""))
        info = self.app.community_info(ctx.community)
        if step == "language":
            buttons = [Button(_language_name(code, ctx.language), Setup("language", code),
                              style=ButtonStyle.PRIMARY)
                       for code in self.app.catalogs.languages()]
            await ctx.reply(ctx.t("Setup 1/4 — Which language should I speak here?"),
                            buttons=[*buttons, skip])
        elif step == "welcome":
            here = ctx.channel.id if ctx.channel else ""
            await ctx.reply(
                ctx.t("Setup 2/4 — Where should I welcome newcomers and post announcements? "
                      "(now: {current})", current=info.get("welcome_channel") or "—"),
                buttons=[Button(ctx.i18n.plain("This channel"), Setup("welcome", here),
                                style=ButtonStyle.PRIMARY), skip],
            )
        elif step == "alerts":
            here = ctx.channel.id if ctx.channel else ""
            await ctx.reply(
                ctx.t("Setup 3/4 — Where should moderators get alerts? (now: {current}) "
                      "To name the moderators' role, send /mod_role ROLE.",
                      current=info.get("admin_channel") or "—"),
                buttons=[Button(ctx.i18n.plain("This channel"), Setup("alerts", here),
                                style=ButtonStyle.PRIMARY), skip],
            )
        elif step == "timezone":
            buttons = [Button(ctx.i18n.zone_name(zone), Setup("timezone", zone))
                       for zone in TIMEZONES]
            await ctx.reply(
                ctx.t("Setup 4/4 — Which timezone are you in? (now: {current}) "
                      "For another one, send /timezone ZONE.",
                      current=ctx.i18n.zone_name(info.get("timezone") or "UTC")),
                buttons=[*buttons, skip],
            )
        else:
            await ctx.reply(ctx.t("Setup is done. Run /setup again any time to change these, "
                                  "and /plugins to choose what runs here."))

    @on_button(Setup)
    async def setup_choice(self, payload: Setup, ctx: Context) -> None:
        """Apply one choice (admins only) and show the next step."""
        if await ctx.privilege() < Privilege.ADMIN:
            log.warning("refused a /setup button to %s in %s",
                        ctx.member.id if ctx.member else "?", ctx.community.key)
            await ctx.reply(ctx.t("Only admins can change the setup."), private=True)
            return
        steps = ("language", "welcome", "alerts", "timezone", "done")
        if payload.step not in steps[:-1]:
            return
        value = payload.value
        if value:
            if payload.step == "language" and value in self.app.catalogs.languages():
                await self.app.update_community(ctx.community, language=value)
                if ctx.event is not None:
                    ctx = self.app.context_for_event(self, ctx.event)
                    ctx.private_default = True
            elif payload.step == "welcome":
                await self.app.update_community(ctx.community, welcome_channel=value)
            elif payload.step == "alerts":
                await self.app.update_community(ctx.community, admin_channel=value)
            elif payload.step == "timezone" and find_timezone(value) is not None:
                await self.app.update_community(ctx.community, timezone=find_timezone(value))
        await self._step(ctx, steps[steps.index(payload.step) + 1])

    # -- privacy ------------------------------------------------------------------------

    @command("my_data", help=N_("Get everything I store about you, as a file"), private=True)
    async def my_data(self, ctx: Context) -> None:
        """Send the member their data as JSON, by direct message where possible."""
        assert ctx.member is not None
        data = await self.app.export_member(ctx.member)
        data = {"member": ctx.member.id, "platform": ctx.member.platform,
                "exported_at": self.clock.now().isoformat(), **data}
        raw = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")
        lines = [ctx.t("Here is everything I store about you. What each part keeps:")]
        for name, plugin in sorted(self.app.plugins.items()):
            if name == "core":
                continue
            stores = self.app.translator(name, ctx.language, ctx.community).plain(plugin.stores)
            lines.append(Markup("• **{name}**: {stores}").format(name=name, stores=stores))
        await ctx.dm(ctx.member, Markup("\n").join(lines),
                     attachments=[Attachment(EXPORT_FILE, raw)], direct=True)

    @command("forget_me", help=N_("Erase everything I store about you"), private=True)
    async def forget_me(self, ctx: Context) -> None:
        """Ask for confirmation with a button first."""
        assert ctx.member is not None
        await ctx.reply(
            ctx.t("This erases everything I store about you in every plugin, and cannot be "
                  "undone. Are you sure?"),
            buttons=[Button(ctx.i18n.plain("Yes, erase my data"), Forget(ctx.member.id, True),
                            style=ButtonStyle.DANGER),
                     Button(ctx.i18n.plain("Cancel"), Forget(ctx.member.id, False))],
            private=True,
        )

    @on_button(Forget)
    async def forget_choice(self, payload: Forget, ctx: Context) -> None:
        """Erase the member's data once they confirm (only they can confirm)."""
        member = ctx.member
        if member is None or member.id != payload.member:
            await ctx.reply(ctx.t("This button is not for you."), private=True)
            return
        if not payload.confirm:
            await ctx.reply(ctx.t("Nothing was erased."), private=True)
            return
        # The goodbye goes out first: a message sent after erasing would be a new record.
        sent = await ctx.reply(ctx.t("Erasing your data now. This is the last message I keep "
                                     "about you."), private=True)
        try:
            await self.app.outbox.delivered(sent, timeout=DELIVERY_WAIT)
        except TimeoutError:
            log.warning("the goodbye to a member was not delivered in time; erasing anyway")
        await self.app.forget_member(member)
        log.info("erased a member's data in every plugin (%s)", ctx.community.key)

    async def export(self, member: MemberRef) -> dict[str, Any]:
        """The admin plugin stores nothing of its own."""
        return {}

    async def forget(self, member: MemberRef) -> None:
        """Nothing of its own to erase."""


#: What each capability is called for an admin (its value is a code name).
CAPABILITY_NAMES = {
    "roles": N_("roles"),
    "direct_messages": N_("direct messages"),
    "native_polls": N_("the platform's own polls"),
    "buttons": N_("buttons"),
    "ephemeral": N_("replies only you can see"),
    "threads": N_("threads"),
    "scheduled_events": N_("scheduled events"),
    "message_text": N_("the text of messages"),
    "reactions": N_("reactions"),
    "edit_messages": N_("editing messages"),
    "images": N_("pictures"),
    "custom_titles": N_("custom titles"),
    "invite_links": N_("invite links"),
    "autocomplete": N_("suggestions while typing"),
    "member_events": N_("join and leave events"),
}


def _capability_names(ctx: Context, capabilities: Any) -> str:
    """Capabilities in the reader's words, joined by the language's comma."""
    words = [ctx.i18n.plain(CAPABILITY_NAMES.get(str(c), str(c))) for c in capabilities]
    return ctx.i18n.plain(", ").join(sorted(words))


def _capabilities(plugin: Plugin, platform: str) -> frozenset[Any]:
    found = plugin.app.platforms.get(platform)
    return found.capabilities if found is not None else frozenset()


def _holds_records(hint: Any) -> bool:
    """Whether a setting's type is, or contains, a pydantic model (a record)."""
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return True
    return any(_holds_records(arg) for arg in get_args(hint))


def _typed(info: FieldInfo | None, value: str) -> Any:
    """A typed value for the settings service: JSON for a setting made of records.

    Records (onboarding's interests) have no ``a=1, b=2`` form, so they are typed as they
    are shown, in JSON; text that is not JSON goes on, and the model says what it wants.
    """
    text = value.strip()
    if info is None or not text.startswith(("[", "{")) or not _holds_records(info.annotation):
        return value
    try:
        return json.loads(text)
    except ValueError:
        return value


def _show_value(ctx: Context, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return ctx.i18n.plain("yes") if value else ctx.i18n.plain("no")
    if isinstance(value, BaseModel):
        return json.dumps(value.model_dump(mode="json"), ensure_ascii=False)
    if isinstance(value, list | tuple) and value and isinstance(value[0], BaseModel):
        return json.dumps([v.model_dump(mode="json") for v in value], ensure_ascii=False)
    if isinstance(value, ChannelRef | RoleRef):
        return value.name or value.id
    if isinstance(value, int | float):
        return ctx.i18n.number(value)
    if isinstance(value, timedelta):  # in words, and as it is typed
        return f"{ctx.i18n.duration(value)} ({show_setting(value)})"
    if isinstance(value, dict | list | tuple | set | frozenset):
        return show_setting(value) or "—"
    return str(value) or "—"  # an empty text reads as "none", as None does


def _language_name(code: str, display: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(code).get_display_name(display)
    except (UnknownLocaleError, ValueError):
        return code
    return name or code
