"""The privilege ladder: each level implies the ones below it."""

from enum import IntEnum


class Privilege(IntEnum):
    """Who may run a command: member < mod < admin < owner."""

    MEMBER = 0
    MOD = 1
    ADMIN = 2
    OWNER = 3
