"""The baseline: Stripe's official Checkout sample server (stripe-samples/checkout-one-time-payments,
server/python/server.py), reduced to its two routes, plus the DynamoDB write a real shop needs.

Written the way the sample is, on purpose, because that is what we measure against: everything
imported at module level, `stripe.api_key` set at import, a boto3 client built at import, the
global `stripe.checkout.Session.create(...)` and `stripe.Webhook.construct_event(...)`, broad
`except Exception`. Not how this project writes code (see shared/); never imported by it.

Only two lines are not the sample's: `stripe.api_base` and the DynamoDB endpoint come from the
environment, so the benchmark can point them at the local stand-ins. The sample also loads a .env
with python-dotenv and serves its static pages; neither is on the measured path.
"""

import json
import os

import boto3
import stripe
from flask import Flask, jsonify, redirect, request

stripe.set_app_info(
    "stripe-samples/checkout-one-time-payments",
    version="0.0.1",
    url="https://github.com/stripe-samples/checkout-one-time-payments")

stripe.api_key = os.getenv("STRIPE_SECRET_KEY")
stripe.api_base = os.getenv("STRIPE_API_BASE", stripe.api_base)  # bench: the local stand-in

dynamodb = boto3.client("dynamodb", endpoint_url=os.getenv("DYNAMODB_ENDPOINT_URL"))  # bench: local DynamoDB
TABLE = os.getenv("DYNAMODB_TABLE", "orders")

app = Flask(__name__)


@app.route("/create-checkout-session", methods=["POST"])
def create_checkout_session():
    quantity = request.form.get("quantity", 1)
    domain_url = os.getenv("DOMAIN")

    try:
        checkout_session = stripe.checkout.Session.create(
            success_url=domain_url + "/success.html?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=domain_url + "/canceled.html",
            mode="payment",
            line_items=[{
                "price": os.getenv("PRICE"),
                "quantity": quantity,
            }]
        )
        return redirect(checkout_session.url, code=303)
    except Exception as e:
        return jsonify({"error": {"message": str(e)}}), 400


@app.route("/webhook", methods=["POST"])
def webhook_received():
    webhook_secret = os.getenv("STRIPE_WEBHOOK_SECRET")
    request_data = json.loads(request.data)

    if webhook_secret:
        signature = request.headers.get("stripe-signature")
        try:
            event = stripe.Webhook.construct_event(
                payload=request.data, sig_header=signature, secret=webhook_secret)
            data = event["data"]
        except Exception as e:
            return jsonify({"error": {"message": str(e)}}), 400
        event_type = event["type"]
    else:
        data = request_data["data"]
        event_type = request_data["type"]
    data_object = data["object"]

    print("event " + event_type)

    if event_type == "checkout.session.completed":
        # Fulfilment, as a shop adds it to the sample: record the order once.
        try:
            dynamodb.put_item(
                TableName=TABLE,
                Item={"pk": {"S": "ORDER#" + data_object["id"]}, "status": {"S": "paid"},
                      "event_id": {"S": event["id"]}},
                ConditionExpression="attribute_not_exists(pk)")
        except dynamodb.exceptions.ConditionalCheckFailedException:
            pass

    return jsonify({"status": "success"})
