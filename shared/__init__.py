"""static-checkout: Stripe Checkout for static websites, as one serverless function bundle.

Nothing heavy is imported here: each request path imports only what it needs, because on a
serverless platform import time is latency the buyer feels on a cold start.
"""

__version__ = "0.1.0"
