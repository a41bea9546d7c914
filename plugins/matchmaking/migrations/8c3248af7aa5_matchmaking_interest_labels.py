"""matchmaking interest labels: onboarding's interests kept by id, named per language.

Data: rows written before this revision hold an onboarding interest by its id ("2", the
oldest rows) or by its label then ("Board games"). Both become ``#<id>`` when the
community's onboarding settings name that interest, and ``matchmaking_labels`` is filled
from those settings (the label, and each language's), so every reader sees a name in their
language at once instead of waiting for members to pick again. Words typed with /interests
that name no onboarding interest stay as they are.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '8c3248af7aa5'
down_revision = 'e9c35d940533'
branch_labels = None
depends_on = '655583847e63'  # core_settings (its onboarding interests are read)

_settings = sa.table(
    "core_settings", sa.column("community", sa.String), sa.column("plugin", sa.String),
    sa.column("scope", sa.String), sa.column("key", sa.String), sa.column("value", sa.JSON))
_members = sa.table(
    "matchmaking_members", sa.column("community", sa.String), sa.column("member", sa.String),
    sa.column("interests", sa.String))
_groups = sa.table(
    "matchmaking_groups", sa.column("round", sa.Integer), sa.column("member", sa.String),
    sa.column("community", sa.String), sa.column("shared", sa.String))


def _catalogs(conn: Any) -> dict[str, list[dict[str, Any]]]:
    """Each community's onboarding interests (valid entries only)."""
    rows = conn.execute(sa.select(_settings.c.community, _settings.c.value).where(
        _settings.c.plugin == "onboarding", _settings.c.scope == "",
        _settings.c.key == "interests"))
    out: dict[str, list[dict[str, Any]]] = {}
    for community, value in rows:
        items = [i for i in value or [] if isinstance(i, dict) and isinstance(i.get("id"), int)
                 and isinstance(i.get("label"), str) and i["label"]]
        if items:
            out[community] = items
    return out


def _resolver(items: list[dict[str, Any]]) -> dict[str, str]:
    """Stored token (an id, or any label without case) -> ``#<id>``."""
    names: dict[str, str] = {}
    for item in items:
        token = f"#{item['id']}"
        labels = item.get("labels") if isinstance(item.get("labels"), dict) else {}
        for label in (item["label"], *labels.values()):
            if isinstance(label, str) and label:
                names.setdefault(" ".join(label.replace(",", " ").split()).casefold(), token)
    for item in items:
        names[str(item["id"])] = f"#{item['id']}"  # an id wins over a label spelled "2"
    return names


def _convert(text: str, names: dict[str, str]) -> str:
    tokens = [names.get(t.casefold(), t) for t in text.split(",") if t]
    return ",".join(dict.fromkeys(tokens))[:1000]


def upgrade() -> None:
    op.create_table('matchmaking_labels',
    sa.Column('community', sa.String(length=96), nullable=False),
    sa.Column('interest', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('community', 'interest', 'language', name=op.f('pk_matchmaking_labels'))
    )
    conn = op.get_bind()
    labels = sa.table("matchmaking_labels", sa.column("community", sa.String),
                      sa.column("interest", sa.String), sa.column("language", sa.String),
                      sa.column("label", sa.String))
    for community, items in _catalogs(conn).items():
        rows = []
        for item in items:
            extra = item.get("labels") if isinstance(item.get("labels"), dict) else {}
            named = {"": item["label"], **{k: v for k, v in extra.items()
                                           if isinstance(v, str) and v}}
            rows += [{"community": community, "interest": str(item["id"]), "language": code,
                      "label": label[:40]} for code, label in named.items()]
        conn.execute(labels.insert(), rows)
        names = _resolver(items)
        for member, text in conn.execute(sa.select(_members.c.member, _members.c.interests)
                                         .where(_members.c.community == community)).all():
            new = _convert(text, names)
            if new != text:
                conn.execute(_members.update().where(
                    _members.c.community == community, _members.c.member == member,
                ).values(interests=new))
        for rnd, member, text in conn.execute(
                sa.select(_groups.c.round, _groups.c.member, _groups.c.shared)
                .where(_groups.c.community == community)).all():
            new = _convert(text, names)
            if new != text:
                conn.execute(_groups.update().where(
                    _groups.c.round == rnd, _groups.c.member == member).values(shared=new))


def downgrade() -> None:
    op.drop_table('matchmaking_labels')
