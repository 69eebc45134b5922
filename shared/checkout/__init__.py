"""Buying: the purchase rules, the price allow-list and its cache, the customer portal, and the
Stripe calls the request path makes.
"""
