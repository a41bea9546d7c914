"""Commands every community has: /help, and /pause and /resume for the outbox."""

from __future__ import annotations

from bot.core.context import Context
from bot.core.i18n import DEFAULT_LANGUAGE, N_
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
                usage = _usage(spec.usage(words.plain), name)
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


def _usage(usage: str, name: str) -> str:
    return usage if usage.startswith(f"/{name}") else f"/{name}"
