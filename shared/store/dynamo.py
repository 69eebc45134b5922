"""The one place that reaches DynamoDB.

botocore is imported and its client built on first use, never at import: the checkout path needs none.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import StoreUnavailable
from .attributes import dump, load
from .base import Claim, Item, Put, TransactionFailed, VersionConflict, Write
from .keys import INDEXES, TTL_ATTRIBUTE, index_attributes, table_definition

# A transaction DynamoDB cancels because another one touched the same item at that moment (a rush on the
# last units) is tried again, with jittered backoff; conditions that fail are the caller's answer.
TRANSACTION_ATTEMPTS = 6

if TYPE_CHECKING:
    from ..settings import Settings


class DynamoStore:
    def __init__(self, table: str, *, client: Any = None, endpoint_url: str | None = None,
                 region: str | None = None, page_size: int | None = None) -> None:
        self.table = table
        self.page_size = page_size  # items per Query page in `query_range`; None: DynamoDB's 1 MB pages
        self._client = client
        self._building = threading.Lock()
        self._endpoint_url = endpoint_url
        self._region = region
        self._raw: set[str] = set()  # operations whose answers are decoded by `attributes.load` alone

    @classmethod
    def from_settings(cls, settings: Settings) -> DynamoStore:
        return cls(settings.dynamodb_table, endpoint_url=settings.dynamodb_endpoint_url, region=settings.aws_region)

    @property
    def client(self) -> Any:
        if self._client is None:
            # Built once even when the first calls come at once (the rate limit's count and the stock
            # read run beside the price look-up on a cold start): a second client costs milliseconds.
            with self._building:
                if self._client is None:
                    from .. import aws

                    # Short timeouts and few retries (aws.client's defaults): a webhook that cannot store
                    # should fail fast with a 5xx, and Stripe's own retries (for three days) take it from there.
                    self._client = aws.client("dynamodb", endpoint_url=self._endpoint_url, region=self._region)
        return self._client

    def get(self, key: str) -> Item | None:
        response = self._read("GetItem", "get_item", TableName=self.table, Key={"pk": {"S": key}},
                              ConsistentRead=True)
        return load(response["Item"]) if "Item" in response else None

    def get_many(self, keys: Sequence[str]) -> dict[str, Item]:
        found: dict[str, Item] = {}
        pending = [{"pk": {"S": key}} for key in dict.fromkeys(keys)]
        for attempt in range(8):
            if not pending:
                return found
            response = self._read("BatchGetItem", "batch_get_item",
                                  RequestItems={self.table: {"Keys": pending, "ConsistentRead": True}})
            for raw in response.get("Responses", {}).get(self.table, []):
                item = load(raw)
                found[item["pk"]] = item
            # Keys DynamoDB did not get to (throttled, or over 16 MB) come back: ask again after a pause.
            pending = ((response.get("UnprocessedKeys") or {}).get(self.table) or {}).get("Keys", [])
            if pending:
                time.sleep(0.05 * 2**attempt)
        raise StoreUnavailable("DynamoDB batch_get_item left keys unread; retry.")

    def put(self, key: str, item: Item, *, expected_version: int) -> None:
        self._conditional("put_item", VersionConflict, **self._put_of(Put(key, item, expected_version)))

    def _put_of(self, put: Put) -> dict[str, Any]:
        """A versioned whole-item write: PutItem's arguments, and a transaction's Put."""
        body = {**put.item, **_present(index_attributes(put.key, put.item)), "pk": put.key,
                "version": put.expected_version + 1}
        request: dict[str, Any] = {"TableName": self.table, "Item": dump(body)}
        if put.expected_version == 0:
            request["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            request["ConditionExpression"] = "version = :v"
            request["ExpressionAttributeValues"] = {":v": {"N": str(put.expected_version)}}
        return request

    def claim(self, key: str, token: str, *, now: int, until: int, expires_at: int | None = None,
              create: bool = True, fields: Item | None = None) -> Claim:
        values = {":t": {"S": token}, ":now": {"N": str(now)}, ":until": {"N": str(until)}, ":one": {"N": "1"},
                  ":zero": {"N": "0"}}
        update = "SET claim_token = :t, claim_until = :until, version = if_not_exists(version, :zero) + :one"
        if expires_at is not None:
            update += ", expires_at = :exp"
            values[":exp"] = {"N": str(expires_at)}
        names: dict[str, str] = {}
        if fields:
            assigned, names, more = _assignments({**fields, **_present(index_attributes(key, fields))})
            update += f", {assigned}"
            values.update(more)
        free = "attribute_not_exists(done_at) AND (attribute_not_exists(claim_until) OR claim_until < :now)"
        condition = free if create else f"attribute_exists(pk) AND {free}"
        try:
            self._call("update_item", TableName=self.table, Key={"pk": {"S": key}}, UpdateExpression=update,
                       ConditionExpression=condition, ExpressionAttributeValues=values,
                       ReturnValuesOnConditionCheckFailure="ALL_OLD", **_names(names))
        except _ConditionFailed as failed:
            old = load(failed.item) if failed.item else None
            if old is None:
                if create:
                    raise StoreUnavailable("The claim failed without a reason; retry.") from None
                return Claim.IN_PROGRESS
            return Claim.DONE if old.get("done_at") is not None else Claim.IN_PROGRESS
        return Claim.CLAIMED

    def complete(self, key: str, *, now: int) -> Claim:
        free = "attribute_not_exists(done_at) AND (attribute_not_exists(claim_until) OR claim_until < :now)"
        try:
            self._call("update_item", TableName=self.table, Key={"pk": {"S": key}},
                       UpdateExpression="SET done_at = :now, version = version + :one REMOVE claim_token, claim_until",
                       ConditionExpression=f"attribute_exists(pk) AND {free}",
                       ExpressionAttributeValues={":now": {"N": str(now)}, ":one": {"N": "1"}},
                       ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except _ConditionFailed as failed:
            old = load(failed.item) if failed.item else None
            return Claim.DONE if old and old.get("done_at") is not None else Claim.IN_PROGRESS
        return Claim.CLAIMED

    def set_fields(self, key: str, fields: Item) -> Item:
        fields = {**fields, **_present(index_attributes(key, fields))}
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": value for i, value in enumerate(fields.values())}
        assignments = ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
        response = self._call(
            "update_item", TableName=self.table, Key={"pk": {"S": key}},
            UpdateExpression=f"SET {assignments}, version = if_not_exists(version, :zero) + :one",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={**dump(values), ":zero": {"N": "0"}, ":one": {"N": "1"}},
            ReturnValues="ALL_NEW")
        return load(response["Attributes"])

    def finish(self, key: str, token: str, *, now: int, fields: Item | None = None) -> None:
        assigned, names, values = _assignments(fields or {})
        self._conditional(
            "update_item", VersionConflict, TableName=self.table, Key={"pk": {"S": key}},
            UpdateExpression=f"SET done_at = :now, version = version + :one{', ' + assigned if assigned else ''} "
                             "REMOVE claim_token, claim_until",
            ConditionExpression="claim_token = :t",
            ExpressionAttributeValues={":now": {"N": str(now)}, ":t": {"S": token}, ":one": {"N": "1"}, **values},
            **_names(names))

    def release(self, key: str, token: str, *, fields: Item | None = None) -> None:
        assigned, names, values = _assignments(fields or {})
        try:
            self._conditional(
                "update_item", VersionConflict, TableName=self.table, Key={"pk": {"S": key}},
                UpdateExpression=f"SET version = version + :one{', ' + assigned if assigned else ''} "
                                 "REMOVE claim_token, claim_until",
                ConditionExpression="claim_token = :t",
                ExpressionAttributeValues={":t": {"S": token}, ":one": {"N": "1"}, **values}, **_names(names))
        except VersionConflict:
            pass  # the lease already passed to another invocation: nothing of ours to release

    def query(self, index: str, partition: str, *, limit: int) -> list[Item]:
        hash_key, _ = INDEXES[index]
        page = self._query_page(TableName=self.table, IndexName=index, Limit=limit, ScanIndexForward=False,
                                KeyConditionExpression="#h = :h", ExpressionAttributeNames={"#h": hash_key},
                                ExpressionAttributeValues={":h": {"S": partition}})
        return [load(item) for item in page.get("Items", [])]

    def query_range(self, index: str, partition: str, *, start: str = "",
                    attributes: Sequence[str] | None = None) -> Iterator[Item]:
        hash_key, range_key = INDEXES[index]
        condition, names, values = "#h = :h", {"#h": hash_key}, {":h": {"S": partition}}
        if start:  # DynamoDB takes no empty string in a key condition; every sort key is >= ""
            condition += " AND #r >= :r"
            names["#r"], values[":r"] = range_key, {"S": start}
        request: dict[str, Any] = {"TableName": self.table, "IndexName": index, "KeyConditionExpression": condition,
                                   "ExpressionAttributeValues": values}
        if attributes:  # fewer bytes to send and to parse; DynamoDB still reads (and bills) whole items
            names.update({f"#p{i}": name for i, name in enumerate(attributes)})
            request["ProjectionExpression"] = ", ".join(f"#p{i}" for i in range(len(attributes)))
        request["ExpressionAttributeNames"] = names
        if self.page_size:
            request["Limit"] = self.page_size
        while True:  # a page is at most 1 MB; LastEvaluatedKey says where the next one starts
            page = self._query_page(**request)
            yield from (load(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _query_page(self, **request: Any) -> dict[str, Any]:
        """One Query answer as DynamoDB sent it (`Items` in its attribute-value form, `LastEvaluatedKey`)."""
        return self._read("Query", "query", **request)

    def _read(self, operation: str, method: str, **request: Any) -> dict[str, Any]:
        """A read's answer as DynamoDB sent it, items in their attribute-value form.

        botocore parses every attribute value through its generic shape parser, some 10 µs each: a report
        over 50,000 orders spent three quarters of its time there, and a webhook reading an order of a
        few hundred values, milliseconds. A successful read's body is kept as it came instead
        (`_keep_raw_body`) and decoded in one pass by `attributes.load`; errors are parsed as usual.
        """
        if operation not in self._raw:
            self.client.meta.events.register(f"before-parse.dynamodb.{operation}", _keep_raw_body,
                                              unique_id=f"static-checkout-raw-{operation}")
            self._raw.add(operation)
        response = self._call(method, **request)
        return json.loads(response["RawBody"]) if "RawBody" in response else response

    def increment(self, key: str, *, expires_at: int) -> int:
        response = self._call("update_item", TableName=self.table, Key={"pk": {"S": key}},
                              UpdateExpression="ADD hits :one SET expires_at = :exp",
                              ExpressionAttributeValues={":one": {"N": "1"}, ":exp": {"N": str(expires_at)}},
                              ReturnValues="UPDATED_NEW")
        return int(response["Attributes"]["hits"]["N"])

    def transact(self, writes: Sequence[Write | Put]) -> None:
        items = [{"Put": {**self._put_of(write), "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}
                 if isinstance(write, Put) else {"Update": self._update_of(write)} for write in writes]
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                self._call("transact_write_items", TransactItems=items)
                return
            except _Cancelled as cancelled:
                reasons = cancelled.reasons
            failed = {i: (load(r["Item"]) if r.get("Item") else None)
                      for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"}
            if failed:
                raise TransactionFailed(failed)
            codes = sorted({str(r.get("Code")) for r in reasons} - {"None"})
            if codes != ["TransactionConflict"]:
                why = ", ".join(codes) or "no reason"
                raise StoreUnavailable(f"DynamoDB transact_write_items was cancelled: {why}")
            time.sleep(random.uniform(0, 0.02 * 2**attempt))
        raise StoreUnavailable("DynamoDB transact_write_items kept conflicting with other transactions; retry.")

    def _update_of(self, write: Write) -> dict[str, Any]:
        """One Update of a TransactWriteItems call: the write's conditions, sets, adds, and the index
        attributes its sets imply (None ones removed)."""
        indexed = index_attributes(write.key, dict(write.set))
        names: dict[str, str] = {}
        values: dict[str, Any] = {":one": 1}

        def name(attribute: str) -> str:
            placeholder = f"#n{len(names)}"
            names[placeholder] = attribute
            return placeholder

        def value(content: Any) -> str:
            placeholder = f":v{len(values)}"
            values[placeholder] = content
            return placeholder

        sets = [f"{name(k)} = {value(v)}" for k, v in {**write.set, **_present(indexed)}.items()]
        adds = [f"{name(k)} {value(v)}" for k, v in write.add.items()] + [f"{name('version')} :one"]
        removes = [name(k) for k, v in indexed.items() if v is None] + [name(k) for k in write.remove]
        conditions = ["attribute_not_exists(pk)"] if write.new else []
        conditions += [f"{name(k)} = {value(v)}" for k, v in write.equals.items()]
        conditions += [f"{name(k)} >= {value(v)}" for k, v in write.at_least.items()]
        expression = (f"SET {', '.join(sets)} " if sets else "") + f"ADD {', '.join(adds)}" + \
            (f" REMOVE {', '.join(removes)}" if removes else "")
        update: dict[str, Any] = {"TableName": self.table, "Key": {"pk": {"S": write.key}},
                                  "UpdateExpression": expression, "ExpressionAttributeNames": names,
                                  "ExpressionAttributeValues": dump(values),
                                  "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
        if conditions:
            update["ConditionExpression"] = " AND ".join(conditions)
        return update

    def create_table(self, *, wait: bool = True) -> bool:
        """Create the table with its indexes and TTL. Returns False when it already existed."""
        try:
            self._call("create_table", **table_definition(self.table))
        except StoreUnavailable as exc:
            if "ResourceInUseException" not in str(exc.__cause__):
                raise
            created = False
        else:
            created = True
        if wait:
            self.client.get_waiter("table_exists").wait(TableName=self.table, WaiterConfig={"Delay": 1})
        ttl = self._call("describe_time_to_live", TableName=self.table)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            self._call("update_time_to_live", TableName=self.table,
                       TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE})
        return created

    def _conditional(self, operation: str, conflict: type[Exception], **kwargs: Any) -> None:
        try:
            self._call(operation, **kwargs)
        except _ConditionFailed as exc:
            raise conflict() from exc

    def _call(self, operation: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "ConditionalCheckFailedException":
                raise _ConditionFailed(exc.response.get("Item")) from exc
            if error.get("Code") == "TransactionCanceledException":
                raise _Cancelled(exc.response.get("CancellationReasons") or []) from exc
            raise StoreUnavailable(f"DynamoDB {operation} failed: {error.get('Code', 'error')}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB {operation} failed: {type(exc).__name__}") from exc


def _assignments(fields: Item) -> tuple[str, dict[str, str], dict[str, Any]]:
    """`#a0 = :a0, …` for an update expression, with its names and (serialised) values."""
    names = {f"#a{i}": name for i, name in enumerate(fields)}
    values = dump({f":a{i}": value for i, value in enumerate(fields.values())})
    return ", ".join(f"#a{i} = :a{i}" for i in range(len(fields))), names, values


def _names(names: dict[str, str]) -> dict[str, Any]:
    # DynamoDB refuses an empty ExpressionAttributeNames.
    return {"ExpressionAttributeNames": names} if names else {}


def _present(attributes: Item) -> Item:
    """Index attributes to set (those set to None are removed, which only a transaction's update does)."""
    return {k: v for k, v in attributes.items() if v is not None}


class _Cancelled(Exception):
    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        super().__init__("transaction cancelled")
        self.reasons = reasons


class _ConditionFailed(Exception):
    def __init__(self, item: dict[str, Any] | None) -> None:
        super().__init__("condition failed")
        self.item = item


def _keep_raw_body(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    # botocore merges `customized_response_dict` into what it parsed: here, the body as it came, with
    # nothing left for its parser to do.
    if response_dict.get("status_code") == 200:
        customized_response_dict["RawBody"] = response_dict["body"]
        response_dict["body"] = b"{}"
