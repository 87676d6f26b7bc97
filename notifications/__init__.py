"""Notifications: Jinja2 e-mails rendered from domain events and delivered through an outbox.

(Being built for the notifications issue.)
"""
