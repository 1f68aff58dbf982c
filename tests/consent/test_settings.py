"""Settings come from the environment; the secret key is generated once and kept private."""

from __future__ import annotations

import stat
from pathlib import Path

from consent.base.settings import Settings


def test_defaults_put_everything_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"CONSENT_DATA_DIR": str(tmp_path / "data")})
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'consent.db'}"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.redis_url is None  # one process, everything live in its memory


def test_secret_key_is_generated_once_stored_privately_and_reused(tmp_path: Path) -> None:
    env = {"CONSENT_DATA_DIR": str(tmp_path)}
    first, second = Settings.from_env(env), Settings.from_env(env)
    assert len(first.secret_key) >= 48
    assert first.secret_key == second.secret_key
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert Settings.from_env({**env, "CONSENT_SECRET_KEY": "from-env"}).secret_key == "from-env"


def test_every_variable_is_read(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "CONSENT_DATA_DIR": str(tmp_path),
            "CONSENT_DATABASE_URL": "postgresql+asyncpg://h/db",
            "CONSENT_HOST": "0.0.0.0",
            "CONSENT_PORT": "9000",
            "CONSENT_SECURE_COOKIES": "true",
            "CONSENT_REDIS_URL": "redis://r:6379/0",
            "CONSENT_SIGN_UPS_PER_ADDRESS": "40",
            "CONSENT_SIGN_IN_FAILURES_PER_ACCOUNT": "6",
            "CONSENT_SIGN_IN_FAILURES_PER_ADDRESS": "200",
        }
    )
    assert settings.redis_url == "redis://r:6379/0"
    limits = (
        settings.sign_ups_per_address,
        settings.sign_in_failures_per_account,
        settings.sign_in_failures_per_address,
    )
    assert limits == (40, 6, 200)
    assert (settings.database_url, settings.host, settings.port, settings.secure_cookies) == (
        "postgresql+asyncpg://h/db",
        "0.0.0.0",
        9000,
        True,
    )
    assert not settings.is_sqlite
