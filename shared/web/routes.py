"""The API's paths, written once. The app routes them; `scripts/netlify_redirects.py` proxies them (it
imports this file with the standard library alone, at Netlify's build, so nothing may be imported here);
tests check `vercel.json`, `public/openapi.json` and the pages' links against `API_ROUTES`.
"""

API_PREFIX = "/api/"
CREATE_CHECKOUT_SESSION = "/api/create-checkout-session"
CHECKOUT_SESSION = "/api/checkout-session"
CREATE_PORTAL_SESSION = "/api/create-portal-session"
CONFIG = "/api/config"
WEBHOOK = "/api/webhook"
HEALTH = "/api/health"
STOCK = "/api/stock"
RELEASE_STALE = "/api/release-stale"  # Vercel Cron's; Lambda runs the same work on a schedule of its own

API_ROUTES = (CREATE_CHECKOUT_SESSION, CHECKOUT_SESSION, CREATE_PORTAL_SESSION, CONFIG, WEBHOOK, HEALTH, STOCK,
              RELEASE_STALE)
