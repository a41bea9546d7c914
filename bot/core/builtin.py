"""Commands every community has: /help, and /pause and /resume for the outbox."""

from __future__ import annotations

import re

from bot.core.commands import CommandSpec
from bot.core.context import Context
from bot.core.i18n import DEFAULT_LANGUAGE, N_, Translator
from bot.core.markup import Markup
from bot.core.plugin import Plugin, command
from bot.core.privilege import Privilege


class Builtin(Plugin):
    """The framework's own commands (always enabled)."""

    name = "core"
    enabled_by_default = True

    @command("help", help=N_("List the commands you can use"), private=True)
    async def help(self, ctx: Context) -> None:
        """List the commands the member may use, with localized descriptions."""
        privilege = await ctx.privilege()
        lines = [ctx.t("**Commands you can use:**")]
        for name, (plugin, spec) in sorted(self.app.dispatcher.commands().items()):
            if spec.privilege > privilege or not self.app.is_enabled(ctx.community, plugin):
                continue
            words = self.app.translator(plugin.name, ctx.language, ctx.community)
            usage = _usage(spec.usage(), name)
            if ctx.language != DEFAULT_LANGUAGE and usage != f"/{name}":
                usage = _localized_usage(spec, name, words)
            lines.append(
                Markup("`{usage}` — {description}").format(
                    usage=usage, description=words.plain(spec.help)
                )
            )
        await ctx.reply(Markup("\n").join(lines))

    @command(
        "pause",
        help=N_("Hold every automated post until /resume (crisis switch)"),
        privilege=Privilege.ADMIN,
    )
    async def pause(self, ctx: Context) -> None:
        """Hold automated posts; replies to commands still go out."""
        if self.app.outbox.is_paused(ctx.community.key):
            await ctx.reply(ctx.t("Already paused. /resume sends what is held."), private=True)
            return
        held = await self.app.outbox.pause(ctx.community.key)
        await ctx.reply(
            ctx.tn(
                "Paused. Automated posts are held until /resume ({n} held now).",
                "Paused. Automated posts are held until /resume ({n} held now).",
                held,
            )
        )

    @command("resume", help=N_("Send what was held and post again"), privilege=Privilege.ADMIN)
    async def resume(self, ctx: Context) -> None:
        """Release every held post."""
        if not self.app.outbox.is_paused(ctx.community.key):
            await ctx.reply(ctx.t("Nothing is paused."), private=True)
            return
        released = await self.app.outbox.resume(ctx.community.key)
        await ctx.reply(
            ctx.tn(
                "Resumed. {n} held post goes out now.",
                "Resumed. {n} held posts go out now.",
                released,
            )
        )


#: More optional arguments than this are options typed by name (``duration=3d``).
OPTIONS_BY_NAME = 3


def _usage(usage: str, name: str) -> str:
    return usage if usage.startswith(f"/{name}") else f"/{name}"


def _localized_usage(spec: CommandSpec, name: str, words: Translator) -> str:
    """``/award <مَن> <النقاط> <لماذا>``: arguments named in the reader's words.

    A positional argument's name is no word anyone types, so the first clause of its
    translated help stands in. Where a command has many optional arguments (``/poll``),
    they are options typed as ``name=value`` and keep their names.
    """
    optional = sum(not p.required for p in spec.params)
    parts = [f"/{name}"]
    for param in spec.params:
        if not param.required and optional > OPTIONS_BY_NAME:
            parts.append(f"[{param.name}]")
            continue
        label = words.plain(param.help) if param.help else param.name
        label = re.split(r"[,،;؛(:]", label, maxsplit=1)[0].strip() or param.name
        parts.append(f"<{label}>" if param.required else f"[{label}]")
    return " ".join(parts)
