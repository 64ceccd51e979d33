"""Secret shapes (trace.secrets) against the cases of a maintained scanner, detect-secrets.

detect-secrets (Yelp, on PyPI) is not a dependency: its keyword, AWS,
private-key and JWT plugins' cases are ported here as tests of our rules,
which stay ours (one regex pass per shape, gated by a substring check, inside
publish's time budget). Its high-entropy plugin is not ported: hashes, commit
ids and base64 payloads fill tool results, and replacing them would corrupt
training data; known token shapes and secret-named settings cover what it
would add in traces.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from trajforge.dataset import CurationSettings, publish
from trajforge.trace.secrets import REPLACEMENT, Redactor

from .curation_data import varied, write_run

SECRET = "s3cr3tV4lue9"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


# detect-secrets' keyword plugin, by the forms its regexes take (equal sign, colon, quotes, :=, =>, JSON, YAML,
# INI, env files, shell exports), with the names of its denylist
@pytest.mark.parametrize(
    "text",
    [
        f'password = "{SECRET}"',
        f"password='{SECRET}'",
        f"password = {SECRET}",
        f"my_password := {SECRET}",
        f'my_password := "{SECRET}"',
        f'$password = "{SECRET}";',
        f"'password' => '{SECRET}',",
        f'api_key: "{SECRET}"',
        f"api_key: {SECRET}",
        f'{{"api_key": "{SECRET}"}}',
        f'{{"apiKey":"{SECRET}"}}',
        f"export DB_PASSWORD={SECRET}",
        f"DATABASE_PASSWORD={SECRET}",
        f"[database]\npasswd = {SECRET}",
        f"  secret: {SECRET}",
        f"client_secret={SECRET}",
        f"private_key = '{SECRET}'",
        f"auth_key: {SECRET}",
        f"GITHUB_TOKEN={SECRET}",
        f"accessToken: '{SECRET}'",
        f"X-Api-Key: {SECRET}",
        f"aws_secret_access_key={AWS_SECRET}",
        f'aws_secret_access_key = "{AWS_SECRET}"',
        f"pwd={SECRET}",
    ],
)
def test_secret_named_settings_lose_their_value_and_keep_their_name(text: str) -> None:
    clean, count = Redactor().redact(text)
    assert count == 1 and SECRET not in clean and AWS_SECRET not in clean and REPLACEMENT in clean
    assert clean.split(REPLACEMENT)[0].strip().strip("\"'{$[")  # the setting's name is still there


# detect-secrets' FALSE_POSITIVES and the references it leaves alone: no secret in these
@pytest.mark.parametrize(
    "text",
    [
        'password = ""',
        "password = None",
        "password: null",
        "password = true",
        "password = getpass()",
        "token = os.environ['TOKEN']",
        "password: ${DB_PASSWORD}",
        "export PASSWORD=$SECRET_FROM_VAULT",
        "api_key: <your-api-key>",
        "password: {{ vault_password }}",
        "token: str",
        "tokenizer: gpt2-tokenizer-fast",
        "max_tokens=409600000",
        "passwords must be at least 8 characters",
        "the secret is in the vault",
        "num_token_ids: 12345678",
        '"password": {"type": "string", "description": "The password"}',
        "nopasswd: ALL",
    ],
)
def test_references_placeholders_and_prose_are_left_alone(text: str) -> None:
    assert Redactor().redact(text) == (text, 0)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("AKIAIOSFODNN7EXAMPLE", ""),  # AWS plugin: AKIA ids
        ("ASIAIOSFODNN7EXAMPLE", ""),
        (f"Authorization: Bearer {JWT}", "Authorization: Bearer "),
        (f"token {JWT} expires", "token "),  # JWT plugin: header.payload.signature
        ("postgres://admin:Sup3rS3cret@db.example.com:5432/app", "postgres://admin:"),
        ("mongodb+srv://app:pa55w0rd@cluster0.example.net/db", "mongodb+srv://app:"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAvJg\n-----END RSA PRIVATE KEY-----", ""),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n", ""),  # cut off
        ("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIObLW92AqkWunJXowVR2Z5/+yVPBaFHnEedDk5WJxk/BoAoGCCqGSM49", ""),
        ("PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nPrivate-Lines: 1\nAAAAB3\nPrivate-MAC: 0a1b2c", ""),
    ],
)
def test_token_shapes_of_the_aws_jwt_and_private_key_plugins(text: str, kept: str) -> None:
    clean, count = Redactor().redact(text)
    assert count >= 1 and clean.startswith(kept + REPLACEMENT)


def test_an_aws_secret_in_a_tool_result_does_not_survive_publish(tmp_path: Path) -> None:
    """The issue's reproduction: the AKIA id on one line was replaced, the secret key on the next survived."""
    episode = varied(1)
    result = {"output": f"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {AWS_SECRET}\n"}
    episode.messages[4].content = json.dumps(result)
    out = tmp_path / "dataset"
    publish([write_run(tmp_path / "run", [episode])], out, CurationSettings(), workers=1)
    text = (out / "README.md").read_text()
    assert "| Secrets replaced | 2 |" in text
    rows = [row for f in out.rglob("*.parquet") for row in pq.read_table(f).to_pylist()]
    published = json.dumps(rows)
    assert AWS_SECRET not in published and "AKIAIOSFODNN7EXAMPLE" not in published
    assert "aws_secret_access_key = [REDACTED]" in published
