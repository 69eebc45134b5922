"""AWS Lambda: the shared app behind mangum, for Function URLs and API Gateway HTTP (v2) and REST (v1) APIs.

mangum picks the event shape by its keys, decodes `isBase64Encoded` bodies to the bytes the client
sent (so webhook signatures verify), and folds multi-value headers and query strings into the ASGI
scope. Lifespan is off: mangum would run startup and shutdown on every invocation, and the app
needs neither — clients are built on first use and kept while the container stays warm. The app
writes its metrics at the end of every request, before the container can be frozen.
"""

from mangum import Mangum

from shared.web.app import create_app

handler = Mangum(create_app(), lifespan="off")
