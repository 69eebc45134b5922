"""Storage: the `Store` protocol the logic receives, the one home of the table's schema (keys and
named queries), DynamoDB behind it, and the embedded DynamoDB-compatible server for local runs.
"""
