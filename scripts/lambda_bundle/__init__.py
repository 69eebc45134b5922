"""Build dist/lambda.zip, the AWS Lambda bundle `serverless deploy` ships: `python scripts/package_lambda.py`.

    contents.py        what ships: the runtime requirements, our packages without the seller's tools
    bytecode.py        which .pyc ship, compiled in a child (compile_child.py)
    archive.py         the reproducible zip
    smoke.py           serving requests from a bundle in a bare interpreter (requests_child.py), with a
                       Stripe and DynamoDB stand-in on loopback (standin.py)
    build.py           the whole build
    cli.py             the command line (scripts/package_lambda.py runs it)

The two children are run with `python -m lambda_bundle.<name>` from scripts/: this file imports
nothing, so starting them loads no more than the standard library.
"""
