"""Platform adapters: each one only hands its platform's requests to `shared.app.create_app()`."""
