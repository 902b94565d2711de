"""Check the deployment files offline, without Azure: Bicep syntax, app settings against the code,
.funcignore, azure.yaml, infra/main.parameters.json and local.settings.example.json.

Run from the repository root: `python -m tools.check_infra`. It prints a short report and exits with
status 1 when it finds a problem.

The app settings check works in both directions. Every setting that the code reads must be set in
the Bicep, unless LOCAL_ONLY_SETTINGS gives the reason Azure leaves it unset. Every app setting in the Bicep
must be read by the code, unless PLATFORM_SETTINGS names the component that reads it. The code's settings are:
the fields of shared.settings.Settings, the %NAME% and connection="NAME" values in the function
decorators of function_app.py and functions/, and os.environ / os.getenv reads in function_app.py,
functions/ and shared/.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lark
from pycep import BicepParser

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_SETTINGS_BICEP = "infra/modules/function-app.bicep"

# Set in the Bicep, read by the Functions host or a library rather than by our code.
# Keys are regular expressions matched against the whole setting name.
PLATFORM_SETTINGS = {
    r"AzureWebJobsStorage__\w+": "the Functions host connects to its storage account with these identity-based settings",
    r"APPLICATIONINSIGHTS_CONNECTION_STRING": "the Functions host and azure-monitor-opentelemetry send telemetry to it",
    r"APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "the Functions host and azure-monitor-opentelemetry-exporter "
    "(checked in 1.0.0b58) authenticate to Application Insights with the identity it names",
    r"AzureWebJobs\.\w+\.Disabled": "the Functions host skips the named function; the portal writes it",
}

# Read by the code but deliberately not set in Azure. Setting one of these in the Bicep is an error.
LOCAL_ONLY_SETTINGS = {
    "AzureWebJobsStorage": "an account-key connection string for Azurite; Azure storage rejects shared keys, "
    "so Azure uses the identity-based AzureWebJobsStorage__* settings",
    "OUTBOX_DIR": "the outbox mailer writes mails to files in local runs and tests; Azure sends mail through Graph",
    "TABLE_PREFIX": "separates the tables of test runs that share one Azurite account",
    "GRAPH_AUTHORITY_CA_FILE": "makes the Graph credential trust the certificate of the tests' local token endpoint; "
    "in Azure the real endpoint passes the default certificate check",
    "GRAPH_CLIENT_CERTIFICATE_PATH": "Azure signs in to Graph as the managed identity or with a client secret, "
    "and the deployment contains no certificate file",
    "GRAPH_CLIENT_CERTIFICATE_PASSWORD": "protects the certificate file of GRAPH_CLIENT_CERTIFICATE_PATH, "
    "which Azure does not use",
}
# GRAPH_CALL_EVENTS is off in Azure, because it needs a notification certificate file that the
# deployment does not contain, so the settings that only the call events read stay unset.
LOCAL_ONLY_SETTINGS.update({
    name: "only the Graph call events read it, and they are off in Azure without a notification certificate"
    for name in (
        "GRAPH_NOTIFICATION_URL", "GRAPH_LIFECYCLE_NOTIFICATION_URL", "GRAPH_NOTIFICATION_CLIENT_STATE",
        "GRAPH_NOTIFICATION_CERTIFICATE_PATH", "GRAPH_NOTIFICATION_CERTIFICATE_PASSWORD",
        "GRAPH_NOTIFICATION_CERTIFICATE_ID",
    )
})

# Set in the Bicep ahead of the code that reads them. The check fails once the code reads one of
# these, so the entry gets removed.
PENDING_SETTINGS: dict[str, str] = {}

# App settings that carry secrets: their Bicep value must be a Key Vault reference.
# A Graph notification URL contains the function key of receive_graph_notification.
SECRET_SETTINGS = (
    "PERSONAL_DATA_KEY", "GRAPH_CLIENT_SECRET", "GRAPH_CLIENT_CERTIFICATE_PASSWORD", "WEBHOOK_SECRET",
    "GRAPH_NOTIFICATION_URL", "GRAPH_LIFECYCLE_NOTIFICATION_URL", "GRAPH_NOTIFICATION_CLIENT_STATE",
    "GRAPH_NOTIFICATION_CERTIFICATE_PASSWORD",
)
KEY_VAULT_REFERENCE = "@Microsoft.KeyVault(SecretUri="

PRESENT = object()

# Security properties that the Bicep must keep: (resource type, property path, expected value).
# PRESENT only requires the property to exist.
REQUIRED_PROPERTIES: tuple[tuple[str, tuple[str, ...], object], ...] = (
    ("Microsoft.Storage/storageAccounts", ("properties", "allowSharedKeyAccess"), False),
    ("Microsoft.Storage/storageAccounts", ("properties", "allowBlobPublicAccess"), False),
    ("Microsoft.Storage/storageAccounts", ("properties", "minimumTlsVersion"), "TLS1_2"),
    ("Microsoft.KeyVault/vaults", ("properties", "enableRbacAuthorization"), True),
    ("Microsoft.KeyVault/vaults", ("properties", "enableSoftDelete"), True),
    ("Microsoft.KeyVault/vaults", ("properties", "enablePurgeProtection"), True),
    ("Microsoft.Insights/components", ("properties", "DisableLocalAuth"), True),
    ("Microsoft.OperationalInsights/workspaces", ("properties", "features", "disableLocalAuth"), True),
    ("Microsoft.Web/serverfarms", ("sku", "name"), "FC1"),
    ("Microsoft.Web/sites", ("properties", "httpsOnly"), True),
    ("Microsoft.Web/sites", ("properties", "keyVaultReferenceIdentity"), PRESENT),
    ("Microsoft.Web/sites", ("properties", "functionAppConfig"), PRESENT),
    ("Microsoft.Web/sites", ("properties", "siteConfig", "cors", "allowedOrigins"), PRESENT),
)

# Sample paths that the deployment package must leave out, and ones it must keep. Real files under
# shared/ and functions/ are checked as well.
FUNCIGNORE_MUST_EXCLUDE = (
    "tests/test_infra.py",
    "infra/main.bicep",
    "benchmarks/run.py",
    "tools/check_infra.py",
    ".venv/lib/python3.11/site-packages/six.py",
    "node_modules/azurite/package.json",
    ".local/outbox/mail.eml",
    ".azure/production/.env",
    "local.settings.json",
    ".git/config",
    "README.md",
)
FUNCIGNORE_MUST_KEEP = (
    "function_app.py",
    "host.json",
    "requirements.txt",
    "functions/__init__.py",
    "shared/__init__.py",
    "shared/locale/nl.json",
    "shared/mail/templates/base.html",
    "shared/mail/templates/booked.txt",
    "shared/data/postcodes.json",
)
# Files under shared/ and functions/ that the package may leave out.
NOT_NEEDED_AT_RUN_TIME = re.compile(r"(^|/)__pycache__/|\.pyc$|\.md$")

SETTING_REFERENCE = re.compile(r"%([A-Za-z_][A-Za-z0-9_.:-]*)%")

# A value of infra/main.parameters.json that azd replaces with an azd environment value:
# ${NAME}, or ${NAME=default} to use `default` when NAME is unset.
AZD_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:=(?P<default>[^}]*))?\}")


@dataclass(frozen=True)
class SettingRead:
    """One place in the code that reads an app setting."""

    name: str
    source: str
    case_sensitive: bool
    # connection="NAME" is satisfied by NAME itself or by identity-based NAME__* settings.
    accepts_prefix: bool = False
    # A %NAME% binding expression: the host cannot index the function while NAME is unset.
    binding_expression: bool = False

    def matches(self, setting_name: str) -> bool:
        expected, actual = self.name, setting_name
        if not self.case_sensitive:
            expected, actual = expected.casefold(), actual.casefold()
        return actual == expected or (self.accepts_prefix and actual.startswith(expected + "__"))


@dataclass(frozen=True)
class AppSetting:
    """One app setting in the Bicep, with its value as pycep parsed it."""

    name: str
    file: str
    value: Any


@dataclass
class Section:
    title: str
    summary: str
    problems: list[str]


# Bicep


def parse_bicep(text: str, label: str) -> tuple[dict | None, str | None]:
    """Parse Bicep text into pycep's tree, or return None and a message with the line and column."""
    try:
        return BicepParser().parse(text=text), None
    except lark.exceptions.UnexpectedInput as error:
        first_line = str(error).splitlines()[0]
        return None, f"{label}:{error.line}:{error.column}: invalid Bicep syntax: {first_line}"
    except (lark.exceptions.LarkError, ValueError) as error:
        return None, f"{label}: invalid Bicep syntax: {error}"


def parse_bicep_files(root: Path) -> tuple[dict[str, dict], list[str]]:
    trees: dict[str, dict] = {}
    problems: list[str] = []
    paths = sorted((root / "infra").rglob("*.bicep"))
    if not paths:
        problems.append("no .bicep files found under infra/")
    for path in paths:
        label = path.relative_to(root).as_posix()
        tree, problem = parse_bicep(path.read_text(encoding="utf-8"), label)
        if problem:
            problems.append(problem)
        else:
            trees[label] = tree
    return trees, problems


def _unquote(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == "'" else key


def _declared_resources(trees: dict[str, dict]) -> Iterator[tuple[str, str, dict]]:
    """Yield (file, resource type, config) for each resource that the Bicep creates."""
    for label, tree in trees.items():
        for resource in (tree.get("resources") or {}).values():
            if not resource.get("existing"):
                yield label, resource.get("type", ""), resource.get("config") or {}


def app_settings_from_bicep(trees: dict[str, dict]) -> tuple[dict[str, AppSetting], list[str]]:
    """Collect the app settings from every Microsoft.Web/sites/config 'appsettings' resource."""
    settings: dict[str, AppSetting] = {}
    problems: list[str] = []
    found = False
    for label, resource_type, config in _declared_resources(trees):
        if resource_type != "Microsoft.Web/sites/config" or config.get("name") != "appsettings":
            continue
        found = True
        properties = config.get("properties")
        if not isinstance(properties, dict):
            problems.append(
                f"{label}: the properties of the 'appsettings' resource must be one literal object, "
                "so that this check can read the setting names"
            )
            continue
        for key, value in properties.items():
            name = _unquote(key)
            if name in settings:
                problems.append(f"{name} is set twice: in {settings[name].file} and in {label}")
            settings[name] = AppSetting(name, label, value)
    if not found:
        problems.append("no Microsoft.Web/sites/config resource named 'appsettings' found in infra/")
    return settings, problems


def check_required_properties(trees: dict[str, dict]) -> list[str]:
    problems: list[str] = []
    seen_types = set()
    for label, resource_type, config in _declared_resources(trees):
        seen_types.add(resource_type)
        for expected_type, path, expected in REQUIRED_PROPERTIES:
            if resource_type != expected_type:
                continue
            value: Any = config
            for key in path:
                value = value.get(key, PRESENT) if isinstance(value, dict) else PRESENT
                if value is PRESENT:
                    break
            dotted = ".".join(path)
            if value is PRESENT:
                problems.append(f"{label}: {resource_type} has no {dotted}")
            elif expected is not PRESENT and value != expected:
                problems.append(f"{label}: {resource_type} sets {dotted} to {value!r}; expected {expected!r}")
    for expected_type in sorted({expected_type for expected_type, _, _ in REQUIRED_PROPERTIES} - seen_types):
        problems.append(f"no {expected_type} resource found in infra/")
    return problems


def check_secret_settings(settings: dict[str, AppSetting]) -> list[str]:
    problems: list[str] = []
    for name in SECRET_SETTINGS:
        setting = settings.get(name)
        if setting and KEY_VAULT_REFERENCE not in json.dumps(setting.value):
            problems.append(
                f"{setting.file}: {name} carries a secret, so its value must be a Key Vault reference "
                f"({KEY_VAULT_REFERENCE}...)"
            )
    return problems


# Settings that the code reads


def settings_class_reads(settings_class: type) -> list[SettingRead]:
    """Return the environment name of every field of a pydantic-settings class.

    The name is the field's validation alias (the first AliasChoices entry) or alias if it has one,
    else env_prefix plus the field name.
    """
    config = settings_class.model_config
    prefix = config.get("env_prefix", "")
    case_sensitive = bool(config.get("case_sensitive", False))
    reads = []
    for field_name, field in settings_class.model_fields.items():
        alias = field.validation_alias
        if alias is not None and hasattr(alias, "choices"):
            alias = alias.choices[0]
        if alias is not None and hasattr(alias, "path"):
            alias = alias.path[0]
        if alias is not None:
            name = str(alias)
        elif field.alias is not None:
            name = field.alias
        else:
            name = prefix + field_name
            name = name if case_sensitive else name.upper()
        source = f"{settings_class.__module__}.{settings_class.__name__}.{field_name}"
        reads.append(SettingRead(name, source, case_sensitive))
    return reads


def decorator_reads(source: str, label: str) -> list[SettingRead]:
    """Find %NAME% values and connection="NAME" arguments in the decorators of a module."""
    reads = []
    for node in ast.walk(ast.parse(source, filename=label)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            for call in ast.walk(decorator):
                if isinstance(call, ast.Call):
                    reads.extend(_call_setting_reads(call, label))
    return reads


def _call_setting_reads(call: ast.Call, label: str) -> Iterator[SettingRead]:
    # The host resolves both forms through .NET configuration, which ignores case.
    arguments = [(None, value) for value in call.args] + [(keyword.arg, keyword.value) for keyword in call.keywords]
    for keyword, value in arguments:
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            continue
        where = f"{label}:{value.lineno}"
        for match in SETTING_REFERENCE.finditer(value.value):
            source = f"{where} ({keyword or 'argument'}=%{match[1]}%)"
            yield SettingRead(match[1], source, case_sensitive=False, binding_expression=True)
        if keyword == "connection" and value.value:
            yield SettingRead(value.value, f"{where} (connection)", case_sensitive=False, accepts_prefix=True)


def _is_environ(node: ast.expr) -> bool:
    """True for `os.environ` and for `environ` imported from os."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"
    return isinstance(node, ast.Name) and node.id == "environ"


def _is_getenv(node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "getenv" and isinstance(node.value, ast.Name) and node.value.id == "os"
    return isinstance(node, ast.Name) and node.id == "getenv"


def _environ_key(node: ast.AST) -> ast.expr | None:
    """Return the expression naming the variable when `node` reads the environment, else None."""
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        return node.slice
    if isinstance(node, ast.Call) and node.args:
        function = node.func
        if _is_getenv(function):
            return node.args[0]
        if isinstance(function, ast.Attribute) and function.attr in {"get", "setdefault", "pop"}:
            if _is_environ(function.value):
                return node.args[0]
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
        if _is_environ(node.comparators[0]):
            return node.left
    return None


def environ_reads(source: str, label: str) -> tuple[list[SettingRead], list[str]]:
    """Find os.environ and os.getenv reads. A read whose name is not a string literal is a problem."""
    reads: list[SettingRead] = []
    problems: list[str] = []
    for node in ast.walk(ast.parse(source, filename=label)):
        key = _environ_key(node)
        if key is None:
            continue
        where = f"{label}:{node.lineno}"
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            reads.append(SettingRead(key.value, f"{where} (environment read)", case_sensitive=True))
        else:
            problems.append(
                f"{where}: reads an environment variable whose name is not a string literal, so this check "
                "cannot compare it with the Bicep; read it through shared.settings.Settings or use a literal name"
            )
    return reads, problems


def _python_files(root: Path, *relative_paths: str) -> Iterator[Path]:
    for relative in relative_paths:
        path = root / relative
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(path.rglob("*.py"))


def collect_code_reads(root: Path, settings_class: type | None = None) -> tuple[list[SettingRead], list[str]]:
    """Collect every setting read in the app code under root."""
    reads: list[SettingRead] = []
    problems: list[str] = []

    if settings_class is None:
        try:
            settings_class = importlib.import_module("shared.settings").Settings
        except Exception as error:  # shared.settings imports the app's packages, and any failure stops this check
            problems.append(f"cannot import shared.settings.Settings: {type(error).__name__}: {error}")
    if settings_class is not None:
        reads.extend(settings_class_reads(settings_class))

    for path in _python_files(root, "function_app.py", "functions"):
        label = path.relative_to(root).as_posix()
        reads.extend(decorator_reads(path.read_text(encoding="utf-8"), label))

    for path in _python_files(root, "function_app.py", "functions", "shared"):
        label = path.relative_to(root).as_posix()
        found, found_problems = environ_reads(path.read_text(encoding="utf-8"), label)
        reads.extend(found)
        problems.extend(found_problems)
    return reads, problems


# Comparing the two sides


def _platform_reason(name: str) -> str | None:
    for pattern, reason in PLATFORM_SETTINGS.items():
        if re.fullmatch(pattern, name):
            return reason
    return None


def _local_only_name(name: str) -> str | None:
    for local_name in LOCAL_ONLY_SETTINGS:
        if local_name.casefold() == name.casefold():
            return local_name
    return None


def compare_settings(reads: Iterable[SettingRead], settings: dict[str, AppSetting]) -> list[str]:
    """Compare the settings that the code reads with the app settings in the Bicep, both ways."""
    reads = list(reads)
    problems: list[str] = []

    sources_by_name: dict[str, list[str]] = {}
    for read in reads:
        if _local_only_name(read.name) or any(read.matches(name) for name in settings):
            continue
        sources_by_name.setdefault(read.name, []).append(read.source)
    for name, sources in sources_by_name.items():
        problems.append(
            f"{name} is read by {', '.join(sources)} but not set in the Bicep: add it to the appsettings in "
            f"{APP_SETTINGS_BICEP}, or to LOCAL_ONLY_SETTINGS in tools/check_infra.py with the reason Azure leaves it unset"
        )

    for name, setting in settings.items():
        local_name = _local_only_name(name)
        is_read = any(read.matches(name) for read in reads)
        if local_name:
            problems.append(f"{setting.file}: {name} must not be set in Azure: {LOCAL_ONLY_SETTINGS[local_name]}")
        elif is_read and name in PENDING_SETTINGS:
            problems.append(f"{name} is read by the code now: remove it from PENDING_SETTINGS in tools/check_infra.py")
        elif not is_read and name not in PENDING_SETTINGS and not _platform_reason(name):
            problems.append(
                f"{setting.file}: app setting {name} is read by nothing: remove it, or add it to PLATFORM_SETTINGS "
                "in tools/check_infra.py with the component that reads it"
            )

    for local_name in LOCAL_ONLY_SETTINGS:
        if not any(read.matches(local_name) and not read.accepts_prefix for read in reads):
            problems.append(f"LOCAL_ONLY_SETTINGS lists {local_name}, which the code no longer reads: remove it")
    return problems


# .funcignore


@dataclass(frozen=True)
class IgnoreRule:
    regex: re.Pattern[str]
    negated: bool
    directory_only: bool
    anchored: bool


def _glob_to_regex(glob: str) -> str:
    parts = []
    index = 0
    while index < len(glob):
        if glob.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif glob.startswith("**", index):
            parts.append(".*")
            index += 2
        elif glob[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif glob[index] == "?":
            parts.append("[^/]")
            index += 1
        else:
            parts.append(re.escape(glob[index]))
            index += 1
    return "".join(parts)


def parse_ignore_rules(text: str) -> list[IgnoreRule]:
    """Parse gitignore-style lines, the syntax .funcignore uses."""
    rules = []
    for raw_line in text.splitlines():
        line = raw_line.rstrip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = line[1:] if negated else line
        directory_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        regex = re.compile(_glob_to_regex(line.lstrip("/")))
        rules.append(IgnoreRule(regex, negated, directory_only, anchored))
    return rules


def is_ignored(path: str, rules: list[IgnoreRule]) -> bool:
    """Tell whether a relative file path is left out. A left-out directory leaves out everything in it."""
    parts = path.split("/")
    for depth in range(1, len(parts) + 1):
        candidate = "/".join(parts[:depth])
        is_directory = depth < len(parts)
        ignored = False
        for rule in rules:
            if rule.directory_only and not is_directory:
                continue
            subject = candidate if rule.anchored else parts[depth - 1]
            if rule.regex.fullmatch(subject):
                ignored = not rule.negated
        if ignored:
            return True
    return False


def check_funcignore(text: str, runtime_files: Iterable[str] = ()) -> list[str]:
    rules = parse_ignore_rules(text)
    problems = []
    for path in FUNCIGNORE_MUST_EXCLUDE:
        if not is_ignored(path, rules):
            problems.append(f".funcignore does not exclude {path}")
    for path in (*FUNCIGNORE_MUST_KEEP, *runtime_files):
        if is_ignored(path, rules):
            problems.append(f".funcignore excludes {path}, which the app needs at run time")
    return problems


def runtime_files(root: Path) -> list[str]:
    files = []
    for folder in ("shared", "functions"):
        for path in sorted((root / folder).rglob("*")):
            relative = path.relative_to(root).as_posix()
            if path.is_file() and not NOT_NEEDED_AT_RUN_TIME.search(relative):
                files.append(relative)
    return files


# azure.yaml and main.parameters.json


def check_azure_yaml(text: str) -> list[str]:
    try:
        import yaml
    except ImportError:
        return _check_azure_yaml_text(text)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        return [f"azure.yaml is not valid YAML: {error}"]
    if not isinstance(document, dict):
        return ["azure.yaml must be a mapping"]
    problems = []
    if not document.get("name"):
        problems.append("azure.yaml has no name")
    api = (document.get("services") or {}).get("api")
    if not isinstance(api, dict):
        return [*problems, "azure.yaml has no services.api"]
    for key, expected in (("project", "."), ("language", "python"), ("host", "function")):
        if api.get(key) != expected:
            problems.append(f"azure.yaml sets services.api.{key} to {api.get(key)!r}; expected {expected!r}")
    return problems


def _check_azure_yaml_text(text: str) -> list[str]:
    """Check the expected lines without a YAML parser, for machines without PyYAML."""
    problems = []
    for pattern in (r"^name:\s*\S+", r"^services:\s*$", r"^  api:\s*$", r"^    project:\s*\.\s*$",
                    r"^    language:\s*python\s*$", r"^    host:\s*function\s*$"):
        if not re.search(pattern, text, flags=re.MULTILINE):
            problems.append(f"azure.yaml has no line matching {pattern!r}")
    return problems


def check_parameters_file(text: str, main_tree: dict | None) -> list[str]:
    """Check that main.parameters.json sets only parameters of main.bicep, and every required one."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        return [f"infra/main.parameters.json is not valid JSON: {error}"]
    passed_names = set((document.get("parameters") or {}).keys())
    if main_tree is None:
        return []
    declared = main_tree.get("parameters") or {}
    problems = [f"infra/main.parameters.json sets {name}, which infra/main.bicep does not declare"
                for name in sorted(passed_names - set(declared))]
    for name, parameter in declared.items():
        if parameter.get("default") is None and name not in passed_names:
            problems.append(
                f"infra/main.bicep parameter {name} has no default and no value in infra/main.parameters.json, "
                "so `azd provision --no-prompt` fails"
            )
    for name, entry in (document.get("parameters") or {}).items():
        if name in declared and isinstance(entry, dict):
            problems.extend(_check_azd_default(name, entry.get("value"), declared[name].get("default")))
    return problems


def _bicep_literal(value: Any) -> str:
    """Write a Bicep default as azd reads it from main.parameters.json: true/false, digits, or the text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check_azd_default(name: str, value: Any, bicep_default: Any) -> list[str]:
    """Check that a parameter with a non-empty Bicep default gets an azd default, and that both are equal."""
    match = AZD_REFERENCE.fullmatch(value) if isinstance(value, str) else None
    if match is None or bicep_default is None:
        return []
    expected = _bicep_literal(bicep_default)
    variable, azd_default = match["name"], match["default"]
    if azd_default is None and expected != "":
        return [
            f"infra/main.parameters.json maps {name} to ${{{variable}}} without a default: azd substitutes an "
            f"empty string when {variable} is unset, which can replace the Bicep default {expected!r}; "
            f"write ${{{variable}={expected}}}"
        ]
    if azd_default is not None and azd_default != expected:
        return [
            f"infra/main.parameters.json gives {name} the default {azd_default!r} in ${{{variable}=...}}, "
            f"but infra/main.bicep declares {expected!r}: make them equal"
        ]
    return []


# local.settings.example.json


def check_local_settings(text: str, reads: Iterable[SettingRead]) -> list[str]:
    """Check that the example local settings set every %NAME% of the decorators.

    The local host, like the Functions host, cannot index a function whose %NAME% is unset.
    """
    try:
        values = json.loads(text).get("Values")
    except (json.JSONDecodeError, AttributeError) as error:
        return [f"local.settings.example.json is not a JSON object: {error}"]
    if not isinstance(values, dict):
        return ["local.settings.example.json has no Values object"]
    problems = []
    for read in reads:
        if read.binding_expression and not any(read.matches(name) for name in values):
            problems.append(
                f"local.settings.example.json does not set {read.name}, which {read.source} needs: "
                "add it to Values with the value for a local run"
            )
    return problems


# Running everything


def run_checks(root: Path, settings_class: type | None = None) -> list[Section]:
    trees, syntax_problems = parse_bicep_files(root)
    sections = [Section("Bicep syntax", f"{len(trees)} files parsed", syntax_problems)]

    app_settings, bicep_problems = app_settings_from_bicep(trees)
    reads, read_problems = collect_code_reads(root, settings_class)
    setting_problems = bicep_problems + read_problems
    if not bicep_problems:
        setting_problems += compare_settings(reads, app_settings) + check_secret_settings(app_settings)
    names_read = {read.name for read in reads}
    sections.append(Section(
        "App settings", f"{len(app_settings)} in the Bicep, {len(names_read)} read by the code", setting_problems
    ))

    sections.append(Section("Bicep security properties", f"{len(REQUIRED_PROPERTIES)} rules",
                            check_required_properties(trees)))

    funcignore = root / ".funcignore"
    if funcignore.is_file():
        problems = check_funcignore(funcignore.read_text(encoding="utf-8"), runtime_files(root))
    else:
        problems = [".funcignore not found"]
    sections.append(Section(".funcignore", "excludes and keeps checked", problems))

    azure_yaml = root / "azure.yaml"
    problems = check_azure_yaml(azure_yaml.read_text(encoding="utf-8")) if azure_yaml.is_file() else ["azure.yaml not found"]
    sections.append(Section("azure.yaml", "services.api checked", problems))

    parameters = root / "infra" / "main.parameters.json"
    if parameters.is_file():
        problems = check_parameters_file(parameters.read_text(encoding="utf-8"), trees.get("infra/main.bicep"))
    else:
        problems = ["infra/main.parameters.json not found"]
    sections.append(Section("main.parameters.json", "parameters checked", problems))

    local_settings = root / "local.settings.example.json"
    if local_settings.is_file():
        problems = check_local_settings(local_settings.read_text(encoding="utf-8"), reads)
    elif any(read.binding_expression for read in reads):
        problems = ["local.settings.example.json not found"]
    else:
        problems = []
    sections.append(Section("local.settings.example.json", "binding expressions checked", problems))
    return sections


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root to check (default: this repository)")
    arguments = parser.parse_args(argv)
    root = arguments.root.resolve()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))

    sections = run_checks(root)
    problem_count = 0
    for section in sections:
        status = "ok" if not section.problems else f"{len(section.problems)} problem(s)"
        print(f"{section.title}: {section.summary}: {status}")
        for problem in section.problems:
            print(f"  - {problem}")
        problem_count += len(section.problems)
    print("infra check passed" if problem_count == 0 else f"infra check failed: {problem_count} problem(s)")
    return 1 if problem_count else 0


if __name__ == "__main__":
    sys.exit(main())
