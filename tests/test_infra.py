"""Tests of tools/check_infra.py (the offline checks of the Bicep, .funcignore and azure.yaml), and
of the Bicep defaults, allowed values, queues and tables against the code."""

from __future__ import annotations

import ast
import base64
import enum
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.domain.model import Language
from shared.settings import AllowedPresenters, LobbyBypassScope, MeetingChatMode, Settings
from tools import check_infra
from tools.check_infra import AppSetting, SettingRead

REPO_ROOT = Path(__file__).resolve().parent.parent

VALID_APP_SETTINGS_BICEP = """
param identityClientId string

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: 'func-test'
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    APP_ENV: 'production'
    AzureWebJobsStorage__clientId: identityClientId
    'AzureWebJobs.sweep.Disabled': 'false'
    %s
  }
}
"""


def bicep_settings(extra_line: str = "") -> dict[str, AppSetting]:
    tree, problem = check_infra.parse_bicep(VALID_APP_SETTINGS_BICEP % extra_line, "test.bicep")
    assert problem is None
    settings, problems = check_infra.app_settings_from_bicep({"test.bicep": tree})
    assert problems == []
    return settings


def read(name: str, case_sensitive: bool = False, accepts_prefix: bool = False) -> SettingRead:
    return SettingRead(name, "test", case_sensitive, accepts_prefix)


LOCAL_READS = [read(name) for name in check_infra.LOCAL_ONLY_SETTINGS]


# The repository itself


def test_repository_passes_every_check():
    sections = check_infra.run_checks(REPO_ROOT)

    for section in sections:
        assert section.problems == [], section.title


def test_command_line_exits_zero_on_repository():
    result = subprocess.run(
        [sys.executable, "-m", "tools.check_infra"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "infra check passed" in result.stdout


def test_command_line_exits_nonzero_on_broken_copy(tmp_path):
    for folder in ("infra", "shared"):
        shutil.copytree(REPO_ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("azure.yaml", ".funcignore"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    (tmp_path / "infra" / "modules" / "broken.bicep").write_text("param name string\nvar x = \n")

    result = subprocess.run(
        [sys.executable, "-m", "tools.check_infra", "--root", str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 1
    assert "infra/modules/broken.bicep:2:" in result.stdout
    assert "infra check failed" in result.stdout


# Bicep syntax


def test_bicep_syntax_error_reports_line_and_column():
    broken = "param name string\nresource r 'Microsoft.Web/sites@2024-04-01' = {\n  name: name\n  tags: {\n    a: [1, 2\n  }\n}\n"

    tree, problem = check_infra.parse_bicep(broken, "broken.bicep")

    assert tree is None
    assert problem.startswith("broken.bicep:6:3: invalid Bicep syntax")


def test_bicep_unclosed_multiline_string_is_reported():
    tree, problem = check_infra.parse_bicep("var text = '''\nno end\n", "open.bicep")

    assert tree is None
    assert "open.bicep" in problem


def test_bicep_files_in_infra_all_parse():
    trees, problems = check_infra.parse_bicep_files(REPO_ROOT)

    assert problems == []
    assert "infra/main.bicep" in trees
    assert "infra/modules/function-app.bicep" in trees


# Reading the app settings from the Bicep


def test_app_settings_keys_are_unquoted():
    settings = bicep_settings()

    assert set(settings) == {"APP_ENV", "AzureWebJobsStorage__clientId", "AzureWebJobs.sweep.Disabled"}


def test_app_settings_from_variable_are_rejected():
    text = (
        "var values = {\n  A: 'b'\n}\n"
        "resource s 'Microsoft.Web/sites/config@2024-04-01' = {\n  name: 'appsettings'\n  properties: values\n}\n"
    )
    tree, _ = check_infra.parse_bicep(text, "var.bicep")

    _, problems = check_infra.app_settings_from_bicep({"var.bicep": tree})

    assert len(problems) == 1
    assert "one literal object" in problems[0]


def test_missing_appsettings_resource_is_reported():
    tree, _ = check_infra.parse_bicep("param name string\n", "empty.bicep")

    _, problems = check_infra.app_settings_from_bicep({"empty.bicep": tree})

    assert problems == ["no Microsoft.Web/sites/config resource named 'appsettings' found in infra/"]


# Settings read by the code


class _ExtendedSettings(Settings):
    """The real Settings plus one field that the Bicep does not set."""

    report_hour: int = 6


def test_settings_names_from_aliases():
    class Example(BaseSettings):
        model_config = SettingsConfigDict(case_sensitive=False)

        app_env: str = "local"
        storage: str = Field(default="", validation_alias=AliasChoices("AzureWebJobsStorage", "storage"))
        other: str = Field(default="", validation_alias="OTHER_NAME")

    names = [read.name for read in check_infra.settings_class_reads(Example)]

    assert names == ["APP_ENV", "AzureWebJobsStorage", "OTHER_NAME"]


def test_settings_class_applies_env_prefix():
    class Prefixed(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="VL_")

        mailer: str = "outbox"

    names = [read.name for read in check_infra.settings_class_reads(Prefixed)]

    assert names == ["VL_MAILER"]


def test_new_settings_field_missing_from_bicep_fails():
    sections = check_infra.run_checks(REPO_ROOT, settings_class=_ExtendedSettings)

    problems = next(section for section in sections if section.title == "App settings").problems
    assert len(problems) == 1
    assert problems[0].startswith("REPORT_HOUR is read by tests.test_infra._ExtendedSettings.report_hour")
    assert "not set in the Bicep" in problems[0]


def test_decorator_schedule_and_connection_are_reads():
    source = '''
import azure.functions as func
bp = func.Blueprint()

@bp.timer_trigger(arg_name="timer", schedule="%RULES_SCHEDULE%")
def sweep(timer): ...

@bp.queue_trigger(arg_name="message", queue_name="%PROVISIONING_QUEUE%", connection="AzureWebJobsStorage")
async def provision(message): ...

@bp.route(route="bookings", methods=["POST"])
def book(request):
    return "100%"
'''

    reads = check_infra.decorator_reads(source, "functions/example.py")

    assert [read.name for read in reads] == ["RULES_SCHEDULE", "PROVISIONING_QUEUE", "AzureWebJobsStorage"]
    assert reads[0].source == "functions/example.py:5 (schedule=%RULES_SCHEDULE%)"
    assert [read.binding_expression for read in reads] == [True, True, False]
    assert reads[2].accepts_prefix


def test_environ_reads_are_found():
    source = '''
import os
from os import environ, getenv

a = os.environ["A_SETTING"]
b = os.getenv("B_SETTING", "")
c = os.environ.get("C_SETTING")
d = "D_SETTING" in os.environ
e = getenv("E_SETTING")
f = environ.get("F_SETTING")
'''

    reads, problems = check_infra.environ_reads(source, "shared/example.py")

    assert problems == []
    assert [read.name for read in reads] == ["A_SETTING", "B_SETTING", "C_SETTING", "D_SETTING", "E_SETTING", "F_SETTING"]
    assert all(read.case_sensitive for read in reads)


def test_environ_read_with_computed_name_is_a_problem():
    source = "import os\nname = 'X'\nvalue = os.environ.get(name)\n"

    reads, problems = check_infra.environ_reads(source, "shared/example.py")

    assert reads == []
    assert len(problems) == 1
    assert problems[0].startswith("shared/example.py:3: reads an environment variable whose name is not a string literal")


# Comparing both directions


def test_matching_reads_and_settings_pass():
    settings = bicep_settings()
    reads = [read("app_env"), read("AzureWebJobsStorage__clientId"), *LOCAL_READS]

    assert check_infra.compare_settings(reads, settings) == []


def test_setting_read_but_not_in_bicep_fails():
    reads = [read("APP_ENV"), read("RULES_SCHEDULE"), *LOCAL_READS]

    problems = check_infra.compare_settings(reads, bicep_settings())

    assert len(problems) == 1
    assert problems[0].startswith("RULES_SCHEDULE is read by test but not set in the Bicep")


def test_setting_in_bicep_read_by_nothing_fails():
    settings = bicep_settings("UNUSED_SETTING: 'x'")
    reads = [read("APP_ENV"), *LOCAL_READS]

    problems = check_infra.compare_settings(reads, settings)

    assert problems == [
        "test.bicep: app setting UNUSED_SETTING is read by nothing: remove it, or add it to PLATFORM_SETTINGS "
        "in tools/check_infra.py with the component that reads it"
    ]


def test_environment_read_is_case_sensitive():
    problems = check_infra.compare_settings([read("app_env", case_sensitive=True), *LOCAL_READS], bicep_settings())

    assert any(problem.startswith("app_env is read by test but not set") for problem in problems)
    assert any("app setting APP_ENV is read by nothing" in problem for problem in problems)


def test_connection_accepts_identity_based_settings():
    reads = [read("APP_ENV"), read("AzureWebJobsStorage__clientId"), read("MyQueue", accepts_prefix=True), *LOCAL_READS]
    settings = bicep_settings("MyQueue__queueServiceUri: 'https://x.queue.core.windows.net'")

    assert check_infra.compare_settings(reads, settings) == []


def test_local_only_setting_in_bicep_fails():
    settings = bicep_settings("OUTBOX_DIR: '/tmp/outbox'")
    reads = [read("APP_ENV"), *LOCAL_READS]

    problems = check_infra.compare_settings(reads, settings)

    assert len(problems) == 1
    assert problems[0].startswith("test.bicep: OUTBOX_DIR must not be set in Azure")


def test_local_only_entry_no_longer_read_fails():
    reads = [read("APP_ENV"), *(read(name) for name in check_infra.LOCAL_ONLY_SETTINGS if name != "OUTBOX_DIR")]

    problems = check_infra.compare_settings(reads, bicep_settings())

    assert problems == ["LOCAL_ONLY_SETTINGS lists OUTBOX_DIR, which the code no longer reads: remove it"]


def test_pending_setting_unread_passes_and_read_fails(monkeypatch):
    monkeypatch.setattr(check_infra, "PENDING_SETTINGS", {"GRAPH_MAILBOX": "for an adapter not written yet"})
    settings = bicep_settings("GRAPH_MAILBOX: 'desk@example.be'")
    reads = [read("APP_ENV"), *LOCAL_READS]

    assert check_infra.compare_settings(reads, settings) == []

    problems = check_infra.compare_settings([*reads, read("GRAPH_MAILBOX")], settings)
    assert problems == ["GRAPH_MAILBOX is read by the code now: remove it from PENDING_SETTINGS in tools/check_infra.py"]


@pytest.mark.parametrize("name", check_infra.SECRET_SETTINGS)
def test_secret_setting_must_be_key_vault_reference(name):
    plain = bicep_settings(f"{name}: secretValue")
    referenced = bicep_settings(f"{name}: '@Microsoft.KeyVault(SecretUri=${{uri}})'")
    conditional = bicep_settings(f"{name}: empty(x) ? '' : '@Microsoft.KeyVault(SecretUri=${{uri}})'")

    assert len(check_infra.check_secret_settings(plain)) == 1
    assert check_infra.check_secret_settings(referenced) == []
    assert check_infra.check_secret_settings(conditional) == []


# Security properties


def test_storage_with_shared_keys_fails():
    text = (REPO_ROOT / "infra/modules/storage.bicep").read_text()
    text = text.replace("allowSharedKeyAccess: false", "allowSharedKeyAccess: true")
    tree, _ = check_infra.parse_bicep(text, "storage.bicep")

    problems = check_infra.check_required_properties({"storage.bicep": tree})

    assert (
        "storage.bicep: Microsoft.Storage/storageAccounts sets properties.allowSharedKeyAccess to True; expected False"
        in problems
    )


def test_function_app_without_key_vault_identity_fails():
    trees, _ = check_infra.parse_bicep_files(REPO_ROOT)
    text = (REPO_ROOT / "infra/modules/function-app.bicep").read_text()
    text = text.replace("    keyVaultReferenceIdentity: identityId\n", "")
    trees["infra/modules/function-app.bicep"], _ = check_infra.parse_bicep(text, "function-app.bicep")

    problems = check_infra.check_required_properties(trees)

    assert problems == [
        "infra/modules/function-app.bicep: Microsoft.Web/sites has no properties.keyVaultReferenceIdentity"
    ]


# .funcignore


def test_funcignore_without_tests_fails():
    text = (REPO_ROOT / ".funcignore").read_text().replace("tests/\n", "")

    problems = check_infra.check_funcignore(text)

    assert problems == [".funcignore does not exclude tests/test_infra.py"]


def test_funcignore_excluding_shared_fails():
    text = (REPO_ROOT / ".funcignore").read_text() + "shared/\n"

    problems = check_infra.check_funcignore(text)

    assert ".funcignore excludes shared/__init__.py, which the app needs at run time" in problems
    assert ".funcignore excludes shared/mail/templates/base.html, which the app needs at run time" in problems


def test_funcignore_json_glob_hits_host_json():
    text = (REPO_ROOT / ".funcignore").read_text() + "*.json\n"

    problems = check_infra.check_funcignore(text)

    assert ".funcignore excludes host.json, which the app needs at run time" in problems
    assert ".funcignore excludes shared/data/postcodes.json, which the app needs at run time" in problems


def test_funcignore_negation_keeps_file():
    rules = check_infra.parse_ignore_rules("*.json\n!host.json\n/build/\n")

    assert not check_infra.is_ignored("host.json", rules)
    assert check_infra.is_ignored("shared/data/postcodes.json", rules)
    assert check_infra.is_ignored("build/out.txt", rules)
    assert not check_infra.is_ignored("shared/build/out.txt", rules)


def test_funcignore_directory_rule_skips_same_named_file():
    rules = check_infra.parse_ignore_rules("tests/\n")

    assert check_infra.is_ignored("tests/test_x.py", rules)
    assert not check_infra.is_ignored("docs/tests", rules)


def test_runtime_files_include_real_shared_files():
    files = check_infra.runtime_files(REPO_ROOT)

    assert "shared/settings.py" in files
    assert not any(path.endswith((".pyc", ".md")) for path in files)


# azure.yaml and main.parameters.json


def test_azure_yaml_with_wrong_host_fails():
    text = (REPO_ROOT / "azure.yaml").read_text().replace("host: function", "host: appservice")

    problems = check_infra.check_azure_yaml(text)

    assert problems == ["azure.yaml sets services.api.host to 'appservice'; expected 'function'"]


def test_azure_yaml_invalid_yaml_fails():
    problems = check_infra.check_azure_yaml("name: x\nservices: [unclosed\n")

    assert len(problems) == 1
    assert problems[0].startswith("azure.yaml is not valid YAML")


def test_azure_yaml_text_fallback_checks_lines():
    good = (REPO_ROOT / "azure.yaml").read_text()

    assert check_infra._check_azure_yaml_text(good) == []
    assert len(check_infra._check_azure_yaml_text(good.replace("language: python", "language: js"))) == 1


def test_parameters_file_unknown_and_missing_parameters_fail():
    tree, _ = check_infra.parse_bicep("param environmentName string\nparam sku string = 'FC1'\n", "main.bicep")
    text = '{"parameters": {"sku": {"value": "FC1"}, "colour": {"value": "blue"}}}'

    problems = check_infra.check_parameters_file(text, tree)

    assert problems == [
        "infra/main.parameters.json sets colour, which infra/main.bicep does not declare",
        "infra/main.bicep parameter environmentName has no default and no value in infra/main.parameters.json, "
        "so `azd provision --no-prompt` fails",
    ]


def _main_tree(parameters: str) -> dict:
    tree, problem = check_infra.parse_bicep(parameters, "main.bicep")
    assert problem is None
    return tree


def _parameters_text(values: dict[str, str]) -> str:
    return json.dumps({"parameters": {name: {"value": value} for name, value in values.items()}})


def test_parameters_file_reference_without_default_fails():
    tree = _main_tree("param rulesSchedule string = '0 */1 * * * *'\n")

    problems = check_infra.check_parameters_file(_parameters_text({"rulesSchedule": "${RULES_SCHEDULE}"}), tree)

    assert problems == [
        "infra/main.parameters.json maps rulesSchedule to ${RULES_SCHEDULE} without a default: azd substitutes "
        "an empty string when RULES_SCHEDULE is unset, which can replace the Bicep default '0 */1 * * * *'; "
        "write ${RULES_SCHEDULE=0 */1 * * * *}"
    ]


def test_parameters_file_default_differs_from_bicep_fails():
    tree = _main_tree("param retentionDays int = 30\nparam links bool = false\n")
    text = _parameters_text({"retentionDays": "${RETENTION_DAYS=31}", "links": "${LINKS=False}"})

    problems = check_infra.check_parameters_file(text, tree)

    assert problems == [
        "infra/main.parameters.json gives retentionDays the default '31' in ${RETENTION_DAYS=...}, "
        "but infra/main.bicep declares '30': make them equal",
        "infra/main.parameters.json gives links the default 'False' in ${LINKS=...}, "
        "but infra/main.bicep declares 'false': make them equal",
    ]


def test_parameters_file_matching_defaults_pass():
    tree = _main_tree(
        "param retentionDays int = 30\nparam links bool = false\nparam address string = ''\n"
        "param origin string\nparam schedule string = '0 30 2 * * *'\n"
    )
    text = _parameters_text({
        "retentionDays": "${RETENTION_DAYS=30}",
        "links": "${LINKS=false}",
        "address": "${TEAM_ALERT_ADDRESS}",
        "origin": "${WEBSITE_ORIGIN}",
        "schedule": "${PURGE_SCHEDULE=0 30 2 * * *}",
    })

    assert check_infra.check_parameters_file(text, tree) == []


# local.settings.example.json


def test_local_settings_missing_binding_expression_fails():
    rules = SettingRead("RULES_SCHEDULE", "timers.py:17 (schedule=%RULES_SCHEDULE%)", False, binding_expression=True)
    purge = SettingRead("PURGE_SCHEDULE", "timers.py:28 (schedule=%PURGE_SCHEDULE%)", False, binding_expression=True)
    reads = [rules, purge, read("RETENTION_DAYS")]
    text = json.dumps({"Values": {"rules_schedule": "0 */1 * * * *"}})

    problems = check_infra.check_local_settings(text, reads)

    assert problems == [
        "local.settings.example.json does not set PURGE_SCHEDULE, which timers.py:28 "
        "(schedule=%PURGE_SCHEDULE%) needs: add it to Values with the value for a local run"
    ]


def test_local_settings_without_values_fails():
    assert check_infra.check_local_settings("{}", []) == ["local.settings.example.json has no Values object"]
    assert check_infra.check_local_settings("[1]", [])[0].startswith("local.settings.example.json is not a JSON object")


# The Bicep values agree with the code


def _app_settings() -> dict[str, check_infra.AppSetting]:
    trees, _ = check_infra.parse_bicep_files(REPO_ROOT)
    settings, _ = check_infra.app_settings_from_bicep(trees)
    return settings


def _main_bicep() -> dict:
    trees, _ = check_infra.parse_bicep_files(REPO_ROOT)
    return trees["infra/main.bicep"]


def _literal_values(setting: check_infra.AppSetting) -> list[str]:
    """Return the string literals an app setting can take: its value, or both branches of a condition."""
    value = setting.value
    if isinstance(value, dict) and value.get("operator", {}).get("type") == "conditional":
        operands = value["operator"]["operands"]
        return [branch for branch in (operands["true_value"], operands["false_value"]) if isinstance(branch, str)]
    return [value] if isinstance(value, str) else []


def _settings_field(name: str) -> str | None:
    field = name.lower()
    return field if field in Settings.model_fields else None


def test_literal_app_settings_are_valid_settings():
    # pycep writes a Bicep identifier as a plain string too, so the parameter names of the module
    # are left out. APP_ENV=production needs the two settings that production requires.
    trees, _ = check_infra.parse_bicep_files(REPO_ROOT)
    identifiers = set(trees[check_infra.APP_SETTINGS_BICEP].get("parameters") or {})
    production = {"personal_data_key": base64.b64encode(bytes(32)).decode(), "table_service_uri": "https://x.invalid"}
    checked = []
    for name, setting in _app_settings().items():
        field = _settings_field(name)
        for value in _literal_values(setting):
            if field is None or value in identifiers or "${" in value or value == "":
                continue
            Settings.model_validate({"app_env": "local", **production, field: value})
            checked.append(name)

    assert {"MAILER", "PROVISIONING_MAX_ATTEMPTS", "GRAPH_ATTENDEE_CAMERA", "WEBHOOK_TIMEOUT_SECONDS"} <= set(checked)


# App settings whose Bicep value repeats the default in shared/settings.py.
CODE_DEFAULT_SETTINGS = (
    "CONFIG_CACHE_SECONDS", "MAX_REQUEST_BYTES", "PROVISIONING_MAX_ATTEMPTS", "PROVISIONING_RETRY_BASE_SECONDS",
    "PROVISIONING_RETRY_MAX_SECONDS", "PROVISIONING_MAX_INLINE_WAIT_SECONDS", "GRAPH_BASE_URL",
    "GRAPH_AUTHORITY_HOST", "GRAPH_TIMEOUT_SECONDS", "GRAPH_MAIL_CONCURRENCY", "WEBHOOK_MAX_ATTEMPTS",
    "WEBHOOK_TIMEOUT_SECONDS", "RULES_SETTLE_SECONDS", "GRAPH_CALL_EVENTS", "GRAPH_SUBSCRIPTION_WINDOW_HOURS",
    "GRAPH_ATTENDANCE_DELAY_MINUTES", "GRAPH_ATTENDANCE_LOOKBACK_HOURS",
)


@pytest.mark.parametrize("name", CODE_DEFAULT_SETTINGS)
def test_fixed_app_setting_equals_code_default(name):
    field = _settings_field(name)
    value = _app_settings()[name].value

    assert getattr(Settings.model_validate({field: value}), field) == Settings.model_fields[field].default


# main.bicep parameters that set an app setting, with the Settings field whose default they repeat.
PARAMETER_FIELDS = {
    "termsVersion": "terms_version",
    "termsUrl": "terms_url",
    "retentionDays": "retention_days",
    "teamAlertLanguage": "team_alert_language",
    "graphMeetingSubjectPrefix": "graph_meeting_subject_prefix",
    "graphLobbyBypassScope": "graph_lobby_bypass_scope",
    "graphAllowedPresenters": "graph_allowed_presenters",
    "graphMeetingChat": "graph_meeting_chat",
    "graphAnnounceEntryExit": "graph_announce_entry_exit",
    "graphAttendeeCamera": "graph_attendee_camera",
    "graphAttendeeMicrophone": "graph_attendee_microphone",
    "graphVirtualAppointmentLinks": "graph_virtual_appointment_links",
    "graphAttendanceReconciliation": "graph_attendance_reconciliation",
}


@pytest.mark.parametrize(("parameter", "field"), PARAMETER_FIELDS.items())
def test_parameter_default_equals_code_default(parameter, field):
    default = _main_bicep()["parameters"][parameter]["default"]

    assert default == Settings.model_fields[field].default


@pytest.mark.parametrize(("parameter", "values"), [
    ("teamAlertLanguage", Language),
    ("graphLobbyBypassScope", LobbyBypassScope),
    ("graphAllowedPresenters", AllowedPresenters),
    ("graphMeetingChat", MeetingChatMode),
])
def test_parameter_allows_every_code_value(parameter, values: type[enum.Enum]):
    decorators = _main_bicep()["parameters"][parameter]["decorators"]
    allowed = next(decorator["argument"] for decorator in decorators if decorator["type"] == "allowed")

    assert sorted(allowed) == sorted(member.value for member in values)


def test_retention_days_range_matches_settings():
    parameter = _main_bicep()["parameters"]["retentionDays"]
    decorators = {decorator["type"]: decorator.get("argument") for decorator in parameter["decorators"]}
    bounds = {type(item).__name__: item for item in Settings.model_fields["retention_days"].metadata}

    assert decorators["min_value"] == bounds["Ge"].ge
    assert decorators["max_value"] == bounds["Le"].le


def test_queue_names_match_code_defaults():
    variables = _main_bicep()["variables"]

    assert variables["provisioningQueueName"]["value"] == Settings.model_fields["provisioning_queue"].default
    assert variables["webhookQueueName"]["value"] == Settings.model_fields["webhook_queue"].default
    assert variables["graphEventsQueueName"]["value"] == Settings.model_fields["graph_events_queue"].default


def test_graph_beta_url_matches_derived_default():
    value = _app_settings()["GRAPH_BETA_BASE_URL"].value

    assert value == Settings.model_construct().graph_beta_url()


def test_created_tables_are_the_app_tables():
    source = (REPO_ROOT / "functions" / "dependencies.py").read_text(encoding="utf-8")
    opened = {
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_table"
        and node.args and isinstance(node.args[0], ast.Constant)
    }

    assert opened
    assert set(_main_bicep()["variables"]["tableNames"]["value"]) == opened
