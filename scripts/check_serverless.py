"""Package serverless.yml offline with Serverless Framework v3 and check the CloudFormation it makes.

    python scripts/check_serverless.py          # uses `npx --yes serverless@3` (npm registry only)
    SERVERLESS=/path/to/serverless python scripts/check_serverless.py

`serverless package` needs no AWS account, except that it resolves `${ssm:…}` variables by calling
SSM. So this runs it on a copy of serverless.yml whose required `${ssm:…}` secrets are replaced by
placeholders (and the optional one resolves to its fallback); everything else (function, URL, permissions,
table, IAM, conditions, the artifact) is packaged exactly as `serverless deploy` would, and the template is
checked for what docs/deploy.md promises. If `cfn-lint` is on PATH the template is linted too. Builds
dist/lambda.zip when missing.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OFFLINE_CONFIG = ROOT / "serverless.offline-check.yml"
TEMPLATE = ROOT / ".serverless" / "cloudformation-template-update-stack.json"
PARAMS = ["siteUrl=https://shop.example.com", "allowedPrices=price_123,price_456", "emailFrom=orders@example.com"]


def offline_config(text: str) -> str:
    """serverless.yml with each `${ssm:/path}` replaced by a placeholder naming the parameter; one with a
    fallback (`${ssm:/path, ''}`, an optional secret) as a parameter that does not exist, so it gets the fallback
    through the Framework's own resolver (an unset environment variable stands in for the missing parameter)."""
    secret = re.compile(r"\$\{ssm:((?:[^{},]|\$\{[^{}]*\})+)(,[^{}]*)?\}")

    def offline(match: re.Match[str]) -> str:
        if match.group(2):
            return "${env:STATIC_CHECKOUT_OFFLINE_CHECK_UNSET" + match.group(2) + "}"
        return "offline-placeholder-for-ssm:" + match.group(1).replace("${sls:stage}", "prod")

    return secret.sub(offline, text)


def run_package() -> dict:
    if not (ROOT / "dist" / "lambda.zip").exists():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "package_lambda.py")], check=True)
    command = shlex.split(os.environ.get("SERVERLESS", "npx --yes serverless@3"))
    OFFLINE_CONFIG.write_text(offline_config((ROOT / "serverless.yml").read_text()))
    env = {**os.environ, "SLS_TELEMETRY_DISABLED": "1", "SLS_NOTIFICATIONS_MODE": "off",
           # Packaging calls no AWS API; these only stop the SDK from searching for credentials.
           "AWS_ACCESS_KEY_ID": "offline", "AWS_SECRET_ACCESS_KEY": "offline"}
    try:
        subprocess.run([*command, "package", "--config", OFFLINE_CONFIG.name, "--stage", "prod",
                        *[f"--param={p}" for p in PARAMS]], cwd=ROOT, env=env, check=True)
    finally:
        OFFLINE_CONFIG.unlink(missing_ok=True)
    return json.loads(TEMPLATE.read_text())


def check(template: dict) -> list[str]:
    """What the packaged template must hold; returns the problems found."""
    resources = template["Resources"]
    problems = []
    function = resources.get("ApiLambdaFunction", {}).get("Properties", {})
    expect = {"Runtime": "python3.13", "Architectures": ["arm64"], "Handler": "functions/aws_lambda.handler"}
    problems += [f"function {k} is {function.get(k)!r}, not {v!r}" for k, v in expect.items() if function.get(k) != v]
    urls = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Url"]
    if not urls or urls[0]["Properties"].get("AuthType") != "NONE":
        problems.append("no public function URL")
    actions = {r["Properties"]["Action"] for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"}
    if not {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"} <= actions:
        problems.append(f"function URL permissions are {sorted(actions)}")
    table = resources.get("OrdersTable", {}).get("Properties", {})
    if table.get("BillingMode") != "PAY_PER_REQUEST" or not table.get("PointInTimeRecoverySpecification"):
        problems.append("table is not on-demand with point-in-time recovery")
    environment = function.get("Environment", {}).get("Variables", {})
    if not str(environment.get("STRIPE_SECRET_KEY", "")).startswith("offline-placeholder-for-ssm:"):
        problems.append("STRIPE_SECRET_KEY does not come from SSM")
    if environment.get("PROXY_SECRET", "missing") != "":
        problems.append("PROXY_SECRET is not empty when its SSM parameter does not exist")
    policy = resources.get("SendOrderEmailPolicy", {})
    if policy.get("Condition") != "SendsEmail":
        problems.append("ses:SendEmail is not conditional on EMAIL_FROM")
    return problems


def main() -> int:
    template = run_package()
    problems = check(template)
    artifact = ROOT / ".serverless" / "lambda.zip"
    print(f"serverless package: {len(template['Resources'])} resources in {TEMPLATE.relative_to(ROOT)}"
          + (f", artifact {artifact.stat().st_size / 2**20:.1f} MB" if artifact.exists() else ""))
    if shutil.which("cfn-lint"):
        lint = subprocess.run(["cfn-lint", str(TEMPLATE)], capture_output=True, text=True)
        print("cfn-lint:", "clean" if lint.returncode == 0 else lint.stdout)
        if lint.returncode not in (0, 4):  # 4: warnings only
            problems.append("cfn-lint found errors")
    else:
        print("cfn-lint: not installed (pip install cfn-lint to lint the template offline)")
    for problem in problems:
        print("problem:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
