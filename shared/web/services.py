"""What a request needs — settings, Stripe, the store, fulfilment — built on first use, then reused.

Nothing is built at import or in an ASGI lifespan (mangum runs that on every invocation): a warm
function keeps these between requests, and a cold one builds only what its first request needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..settings import Settings

if TYPE_CHECKING:
    from ..checkout.options import CheckoutOptions
    from ..checkout.prices import PriceCatalog
    from ..checkout.stock import StockView
    from ..checkout.stripe_api import StripeGateway
    from ..orders.fulfilment import Fulfiller
    from ..store.base import Store


class Services:
    def __init__(self, settings: Settings | None = None, *, environ: Mapping[str, str] | None = None,
                 stripe_client: Any = None, store: Store | None = None,
                 fulfiller: Fulfiller | None = None, checkout_options: CheckoutOptions | None = None) -> None:
        self._settings = settings
        self._environ = environ
        self._stripe_client = stripe_client
        self._store = store
        self._fulfiller = fulfiller
        self._gateway: StripeGateway | None = None
        self._catalog: PriceCatalog | None = None
        self._checkout_options = checkout_options
        self._stock_view: StockView | None = None

    @property
    def settings(self) -> Settings:
        # Read until it succeeds: a platform that fixes its environment needs no redeploy of code.
        if self._settings is None:
            self._settings = Settings.from_env(self._environ)
        return self._settings

    @property
    def gateway(self) -> StripeGateway:
        if self._gateway is None:
            from ..checkout.stripe_api import StripeGateway

            self._gateway = StripeGateway(self.settings, client=self._stripe_client)
        return self._gateway

    @property
    def catalog(self) -> PriceCatalog:
        if self._catalog is None:
            from ..checkout.prices import PriceCatalog

            allowed = self.settings.require("allowed_prices")
            self._catalog = PriceCatalog(allowed, self.gateway)
        return self._catalog

    @property
    def checkout_options(self) -> CheckoutOptions:
        """checkout.toml (or CHECKOUT_CONFIG's file), read on first use; until it reads, every use says why not."""
        if self._checkout_options is None:
            from ..checkout.options import load

            self._checkout_options = load(self.settings.checkout_config)
        return self._checkout_options

    @property
    def stock_view(self) -> StockView:
        """What pages see of stock, cached a few seconds in this warm instance."""
        if self._stock_view is None:
            from ..checkout.stock import StockView

            self._stock_view = StockView()
        return self._stock_view

    @property
    def store(self) -> Store:
        if self._store is None:
            from ..store.dynamo import DynamoStore

            self._store = DynamoStore.from_settings(self.settings)
        return self._store

    @property
    def fulfiller(self) -> Fulfiller:
        if self._fulfiller is None:
            from ..orders.fulfilment import Fulfiller

            self._fulfiller = Fulfiller.from_settings(self.settings)
        return self._fulfiller
