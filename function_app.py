"""The function app: registers the blueprints of functions/. Nothing here connects or reads settings."""

import azure.functions as func

from functions import join, provisioning, public_api

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

for blueprint in (public_api.bp, join.bp, provisioning.bp):
    app.register_functions(blueprint)
