"""Indexing the function app must stay light: heavy libraries load where they are used, not at import."""

import subprocess
import sys

HEAVY = ("msgraph", "azure.identity", "pydantic_settings", "babel", "jinja2", "holidays", "httpx", "cryptography")


def test_importing_function_app_loads_no_heavy_library():
    code = (
        "import sys, function_app; "
        f"print(sorted({{m.split('.')[0] if not m.startswith('azure.') else 'azure.identity' for m in sys.modules "
        f"if m.startswith({HEAVY!r})}}))"
    )

    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert output.strip() == "[]"
