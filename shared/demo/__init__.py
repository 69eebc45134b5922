"""The local demo: `python -m shared serve --demo` and a Stripe stand-in. Never deployed, never imported by
anything that is (tests/test_layout.py)."""
