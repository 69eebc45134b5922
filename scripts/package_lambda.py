"""Build dist/lambda.zip, the AWS Lambda bundle `serverless deploy` ships: `python scripts/package_lambda.py --help`.

The build lives in the lambda_bundle package beside this file (lambda_bundle/cli.py says what it does).
"""

import sys

from lambda_bundle.cli import main

if __name__ == "__main__":
    sys.exit(main())
