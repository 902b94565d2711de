"""The function app: registers the blueprints of functions/. Nothing here connects or reads settings."""

import azure.functions as func

from functions import agent_api, graph_events, join, manage_api, openapi, provisioning, public_api, timers, webhooks

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

_BLUEPRINTS = (
    public_api.bp, manage_api.bp, join.bp, agent_api.bp, timers.bp, provisioning.bp, webhooks.bp, openapi.bp,
    graph_events.bp,
)
for blueprint in _BLUEPRINTS:
    app.register_functions(blueprint)
