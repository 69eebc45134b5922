"""The one place that reaches DynamoDB.

botocore is imported and its client built on first use, never at import: the checkout path needs none.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import StoreUnavailable
from .attributes import dump, load
from .base import Claim, Item, VersionConflict
from .keys import INDEXES, TTL_ATTRIBUTE, index_attributes, table_definition

if TYPE_CHECKING:
    from ..settings import Settings


class DynamoStore:
    def __init__(self, table: str, *, client: Any = None, endpoint_url: str | None = None,
                 region: str | None = None, page_size: int | None = None) -> None:
        self.table = table
        self.page_size = page_size  # items per Query page in `query_range`; None: DynamoDB's 1 MB pages
        self._client = client
        self._endpoint_url = endpoint_url
        self._region = region

    @classmethod
    def from_settings(cls, settings: Settings) -> DynamoStore:
        return cls(settings.dynamodb_table, endpoint_url=settings.dynamodb_endpoint_url, region=settings.aws_region)

    @property
    def client(self) -> Any:
        if self._client is None:
            from .. import aws

            # Short timeouts and few retries (aws.client's defaults): a webhook that cannot store should
            # fail fast with a 5xx, and Stripe's own retries (for three days) take it from there.
            self._client = aws.client("dynamodb", endpoint_url=self._endpoint_url, region=self._region)
        return self._client

    def get(self, key: str) -> Item | None:
        response = self._call("get_item", TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True)
        return load(response["Item"]) if "Item" in response else None

    def put(self, key: str, item: Item, *, expected_version: int) -> None:
        body = {**item, **index_attributes(key, item), "pk": key, "version": expected_version + 1}
        if expected_version == 0:
            condition, values = "attribute_not_exists(pk)", {}
        else:
            condition, values = "version = :v", {":v": {"N": str(expected_version)}}
        self._conditional("put_item", VersionConflict, TableName=self.table, Item=dump(body),
                          ConditionExpression=condition, **({"ExpressionAttributeValues": values} if values else {}))

    def claim(self, key: str, token: str, *, now: int, until: int, expires_at: int | None = None,
              create: bool = True) -> Claim:
        values = {":t": {"S": token}, ":now": {"N": str(now)}, ":until": {"N": str(until)}, ":one": {"N": "1"},
                  ":zero": {"N": "0"}}
        update = "SET claim_token = :t, claim_until = :until, version = if_not_exists(version, :zero) + :one"
        if expires_at is not None:
            update += ", expires_at = :exp"
            values[":exp"] = {"N": str(expires_at)}
        free = "attribute_not_exists(done_at) AND (attribute_not_exists(claim_until) OR claim_until < :now)"
        condition = free if create else f"attribute_exists(pk) AND {free}"
        try:
            self._call("update_item", TableName=self.table, Key={"pk": {"S": key}}, UpdateExpression=update,
                       ConditionExpression=condition, ExpressionAttributeValues=values,
                       ReturnValuesOnConditionCheckFailure="ALL_OLD")
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

    def finish(self, key: str, token: str, *, now: int) -> None:
        self._conditional(
            "update_item", VersionConflict, TableName=self.table, Key={"pk": {"S": key}},
            UpdateExpression="SET done_at = :now, version = version + :one REMOVE claim_token, claim_until",
            ConditionExpression="claim_token = :t",
            ExpressionAttributeValues={":now": {"N": str(now)}, ":t": {"S": token}, ":one": {"N": "1"}})

    def release(self, key: str, token: str) -> None:
        try:
            self._conditional(
                "update_item", VersionConflict, TableName=self.table, Key={"pk": {"S": key}},
                UpdateExpression="SET version = version + :one REMOVE claim_token, claim_until",
                ConditionExpression="claim_token = :t",
                ExpressionAttributeValues={":t": {"S": token}, ":one": {"N": "1"}})
        except VersionConflict:
            pass  # the lease already passed to another invocation: nothing of ours to release

    def query(self, index: str, partition: str, *, limit: int) -> list[Item]:
        hash_key, _ = INDEXES[index]
        response = self._call("query", TableName=self.table, IndexName=index, Limit=limit, ScanIndexForward=False,
                              KeyConditionExpression="#h = :h", ExpressionAttributeNames={"#h": hash_key},
                              ExpressionAttributeValues={":h": {"S": partition}})
        return [load(item) for item in response.get("Items", [])]

    def query_range(self, index: str, partition: str, *, start: str = "",
                    attributes: Sequence[str] | None = None) -> Iterator[Item]:
        hash_key, range_key = INDEXES[index]
        condition, names, values = "#h = :h", {"#h": hash_key}, {":h": {"S": partition}}
        if start:  # DynamoDB takes no empty string in a key condition; every sort key is >= ""
            condition += " AND #r >= :r"
            names["#r"], values[":r"] = range_key, {"S": start}
        request: dict[str, Any] = {"TableName": self.table, "IndexName": index, "KeyConditionExpression": condition,
                                   "ExpressionAttributeValues": values}
        if attributes:
            names.update({f"#p{i}": name for i, name in enumerate(attributes)})
            request["ProjectionExpression"] = ", ".join(f"#p{i}" for i in range(len(attributes)))
        request["ExpressionAttributeNames"] = names
        if self.page_size:
            request["Limit"] = self.page_size
        while True:  # a page is at most 1 MB; LastEvaluatedKey says where the next one starts
            page = self._call("query", **request)
            yield from (load(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def increment(self, key: str, *, expires_at: int) -> int:
        response = self._call("update_item", TableName=self.table, Key={"pk": {"S": key}},
                              UpdateExpression="ADD hits :one SET expires_at = :exp",
                              ExpressionAttributeValues={":one": {"N": "1"}, ":exp": {"N": str(expires_at)}},
                              ReturnValues="UPDATED_NEW")
        return int(response["Attributes"]["hits"]["N"])

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
            raise StoreUnavailable(f"DynamoDB {operation} failed: {error.get('Code', 'error')}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB {operation} failed: {type(exc).__name__}") from exc


class _ConditionFailed(Exception):
    def __init__(self, item: dict[str, Any] | None) -> None:
        super().__init__("condition failed")
        self.item = item
