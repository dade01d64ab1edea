"""The Analytics API and OTLP/HTTP receiver: FastAPI routes that decode, authorise and call the
query layer (``observability.queries``) or the store's span processor.

api = create_api(create_api_services(config, ClientRegistry(engine), TraceQueries(engine)))
st.App("ui.py", routes=api_routes(api))   # or serve ``api`` alone with uvicorn
"""

from observability.api.app import API_PATHS, api_routes, create_api
from observability.api.clients import ApiClient, ClientError, ClientRegistry, NewClient
from observability.api.config import ApiConfig, Scope, Tier
from observability.api.services import ApiServices, Readiness, SpanSink, create_api_services

__all__ = [
    "API_PATHS",
    "ApiClient",
    "ApiConfig",
    "ApiServices",
    "ClientError",
    "ClientRegistry",
    "NewClient",
    "Readiness",
    "Scope",
    "SpanSink",
    "Tier",
    "api_routes",
    "create_api",
    "create_api_services",
]
