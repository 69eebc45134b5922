"""The seller's command line (`python -m shared …`) and each command's logic. Nothing but `__main__`
imports it, and it is not shipped in the functions.
"""
