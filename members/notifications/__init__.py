"""Notifications: rows planned by each app (registry), swept and sent by members.tasks.

- models: Notification, NotificationPreference
- registry: kinds (label, templates, attachments) and periodic planners, filled by each app's ready()
- planning: plan / cancel rows; recipients helpers
- delivery: claim due rows and send them (e-mail over one connection per batch, inbox)
"""
