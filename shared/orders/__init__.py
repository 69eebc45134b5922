"""Orders and subscriptions as records of facts: the model (pure), the changes events make, how they
are applied to the store, and fulfilment.
"""
