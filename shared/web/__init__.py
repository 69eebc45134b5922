"""The HTTP edge: the Starlette app, request bodies, headers, CORS, the rate limit, and the map from
our errors to status codes. Only `functions/` and the command line import it.
"""
