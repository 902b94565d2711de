"""A small stand-in for `func start`: serves the function app's HTTP, timer and queue triggers locally.

Azure Functions Core Tools cannot be installed on the development machines, so this host reads the
app's own function metadata (`FunctionApp.get_functions()`) and runs each trigger the way the
Functions runtime does, close enough for development and tests. Run it with `python -m tools.localhost`.
"""
