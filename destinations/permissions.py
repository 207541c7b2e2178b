"""Who may read and keep the destination-risk register.

Volunteers read it: they plan routes with the person and need what it says about a
country. It holds nothing about a person or a route (its help text sends those to the
case), so a volunteer account learns no more from it than the warnings its own cases show.
Only coordinators add and change entries: a planted "no" could send someone into a trap.
"""

from accounts.models import User


def can_read_register(user: User) -> bool:
    return user.is_active and user.has_perm("accounts.work_cases")


def can_edit_register(user: User) -> bool:
    return user.is_active and user.has_perm("accounts.coordinate_cases")
