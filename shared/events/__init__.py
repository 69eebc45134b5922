"""Stripe's events coming in: the signature, what each event means (pure), the webhook and EventBridge
intake, and recovery when events are late or lost.
"""
