"""Accounts are managed in the app (Members), never in Django's admin.

The admin once let an admin put itself in a team's coordinator group, set another user's
password and sign in as them. Users, groups and teams have no admin page now: roles and
teams change by two people (casework.services.access), passwords only by their owner or
through a single-use link (accounts.services).
"""

from django.contrib import admin
from django.contrib.auth.models import Group

# django.contrib.auth registers Group on its own; nothing edits roles here.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)
