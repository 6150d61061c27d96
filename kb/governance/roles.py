"""Roles and what each may do; checked by the KnowledgeBase on every write, whatever the front end shows."""

from __future__ import annotations

from dataclasses import dataclass

from kb.models import KBError

ROLES: tuple[str, ...] = ("operator", "engineer", "qa", "admin")

# Each role can do what the roles before it can, plus its own actions.
_OWN_ACTIONS: dict[str, frozenset[str]] = {
    "operator": frozenset({"search", "feedback", "add:cue", "add:deviation"}),
    "engineer": frozenset(
        {
            "add:know_how",
            "add:fix",
            "add:lesson",
            "add:document",
            "add:doc_chunk",
            "edit",
            "link",
            "import",
            "workshop",
        }
    ),
    "qa": frozenset({"retire", "restore", "sign", "cluster"}),
    "admin": frozenset({"users", "templates", "vocabulary", "backup", "restore_backup", "transfer"}),
}


def actions_of(role: str) -> frozenset[str]:
    """Return every action a role may take."""
    if role not in ROLES:
        raise KBError(f"unknown role '{role}' (roles: {', '.join(ROLES)})")
    allowed: set[str] = set()
    for name in ROLES[: ROLES.index(role) + 1]:
        allowed |= _OWN_ACTIONS[name]
    return frozenset(allowed)


class PermissionDenied(KBError):
    """The acting user's role does not allow this action."""


@dataclass(frozen=True)
class Actor:
    """Who is acting and in which role; written on every record they create or change."""

    name: str
    role: str

    def require(self, action: str) -> None:
        """Raise PermissionDenied unless this actor's role allows the action."""
        if action not in actions_of(self.role):
            raise PermissionDenied(f"{self.name} ({self.role}) may not {action.replace(':', ' ')}")
