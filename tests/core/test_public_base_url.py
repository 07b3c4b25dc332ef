"""PUBLIC_BASE_URL is required in production; without it, links use the request's Host only when trusted."""

import pytest
from flask import request
from werkzeug.exceptions import SecurityError

from app import create_app
from modules.certificates import links
from modules.core.config import DEV_TRUSTED_HOSTS, ConfigError, load_config


@pytest.fixture
def overrides(monkeypatch, tmp_path) -> dict:
    """A clean environment for load_config, and overrides that keep its files in tmp_path."""
    for name in ("POLICYPASS_ENV", "PUBLIC_BASE_URL", "TRUSTED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    return {"INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "test-secret-key"}


def test_production_refuses_to_start_without_public_base_url(overrides, monkeypatch):
    monkeypatch.setenv("POLICYPASS_ENV", "production")
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL must be set when POLICYPASS_ENV=production"):
        load_config(overrides)
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        create_app(overrides)
    monkeypatch.setenv("PUBLIC_BASE_URL", "")
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        load_config(overrides)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://policypass.example.org")
    config = load_config(overrides)
    assert config["PUBLIC_BASE_URL"] == "https://policypass.example.org"
    assert config["POLICYPASS_ENV"] == "production" and not config["DEMO_ENABLED"]
    assert config["TRUSTED_HOSTS"] is None  # links never read the Host header here
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        load_config({**overrides, "PUBLIC_BASE_URL": None})


@pytest.mark.parametrize("base", ["policypass.example.org", "ftp://policypass.example.org", "https://",
                                  "https://policypass.example.org/?next=x"])
def test_a_malformed_public_base_url_is_refused_in_any_environment(overrides, monkeypatch, base):
    monkeypatch.setenv("PUBLIC_BASE_URL", base)
    with pytest.raises(ConfigError, match="absolute http"):
        load_config(overrides)


def test_outside_production_only_local_hosts_are_trusted_unless_configured(overrides, monkeypatch):
    config = load_config(overrides)
    assert config["POLICYPASS_ENV"] == "development" and config["DEMO_ENABLED"]
    assert config["PUBLIC_BASE_URL"] is None and config["TRUSTED_HOSTS"] == DEV_TRUSTED_HOSTS
    monkeypatch.setenv("TRUSTED_HOSTS", "policypass.test, .school.test")
    assert load_config(overrides)["TRUSTED_HOSTS"] == ["policypass.test", ".school.test"]


def test_a_forged_host_is_refused_and_never_reaches_a_link(empty_app):
    client = empty_app.test_client()
    assert client.get("/healthz").status_code == 200  # the test client's Host is localhost
    assert client.get("/healthz", headers={"Host": "127.0.0.1:5000"}).status_code == 200
    with empty_app.test_request_context("/", base_url="http://localhost:8000"):
        assert links.verify_url("ABC") == "http://localhost:8000/verify/ABC"
    with empty_app.test_request_context("/", base_url="http://evil.example"):
        assert isinstance(request.routing_exception, SecurityError)  # Flask answers such a request 400
        assert links.verify_url("ABC") == "http://127.0.0.1:5000/verify/ABC"
    assert links.verify_url("ABC") == "http://127.0.0.1:5000/verify/ABC"  # outside any request


def test_a_forged_host_gets_a_400_page(empty_app):
    response = empty_app.test_client().get("/healthz", headers={"Host": "evil.example"})
    assert response.status_code == 400 and "<h1>" in response.get_data(as_text=True)


def test_with_no_trusted_hosts_the_request_host_is_never_used(empty_app):
    empty_app.config["TRUSTED_HOSTS"] = None
    assert empty_app.test_client().get("/healthz", headers={"Host": "evil.example"}).status_code == 200
    with empty_app.test_request_context("/", base_url="http://evil.example"):
        assert links.verify_url("ABC") == "http://127.0.0.1:5000/verify/ABC"


def test_public_base_url_wins_over_any_request_host(empty_app):
    empty_app.config["PUBLIC_BASE_URL"] = "https://policypass.example.org/staff"
    with empty_app.test_request_context("/", base_url="http://localhost"):
        assert links.verify_url("ABC") == "https://policypass.example.org/staff/verify/ABC"
    assert links.absolute("certificates.mine").startswith("https://policypass.example.org/staff/")
