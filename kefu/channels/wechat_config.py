"""Settings of the WeChat channel: credentials.yml values, overridden by the environment.

Secrets never live in the repository: credentials.yml names the channel and may hold
non-secret settings, the deployment provides WECHAT_TOKEN, WECHAT_APP_ID,
WECHAT_APP_SECRET and WECHAT_AES_KEY (and WECHAT_API_BASE_URL to reach a WeChat API
other than Tencent's, e.g. a test double).
"""
import os
from dataclasses import dataclass, fields
from typing import Any, Dict, Mapping, Optional

DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"

# Setting name in credentials.yml -> environment variable that overrides it.
ENVIRONMENT_VARIABLES = {
    "token": "WECHAT_TOKEN",
    "app_id": "WECHAT_APP_ID",
    "app_secret": "WECHAT_APP_SECRET",
    "encoding_aes_key": "WECHAT_AES_KEY",
    "api_base_url": "WECHAT_API_BASE_URL",
    "reply_timeout": "WECHAT_REPLY_TIMEOUT",
}


class WeChatConfigError(ValueError):
    """The WeChat channel is not configured well enough to run."""


@dataclass(frozen=True)
class WeChatConfig:
    # Token typed into the Official Account's server settings (服务器配置 → 令牌).
    token: str = ""
    app_id: str = ""
    app_secret: str = ""
    # 43 characters, set in the same page (消息加解密密钥); needed for safe mode only.
    encoding_aes_key: str = ""
    api_base_url: str = DEFAULT_API_BASE_URL
    # WeChat waits 5 s for a passive reply; slower answers go through the
    # customer-service message API instead.
    reply_timeout: float = 4.5
    # Pause before extra messages of a turn go out through the API, so that they
    # arrive after the passive reply that carries the first one.
    followup_delay: float = 1.0
    # Retries come within ~15 s; remember message ids a while longer.
    dedup_ttl: float = 120.0
    dedup_max_entries: int = 10_000
    # How long a customer may answer the last numbered options with a number.
    buttons_ttl: float = 24 * 3600.0
    buttons_max_entries: int = 100_000

    @classmethod
    def load(
        cls,
        credentials: Optional[Mapping[str, Any]] = None,
        environ: Mapping[str, str] = os.environ,
    ) -> "WeChatConfig":
        """Reads the credentials.yml block; environment variables take precedence."""
        values: Dict[str, Any] = {
            key: value
            for key, value in (credentials or {}).items()
            if value not in (None, "")
        }
        for setting, variable in ENVIRONMENT_VARIABLES.items():
            if environ.get(variable):
                values[setting] = environ[variable]
        known = {field.name: field.type for field in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise WeChatConfigError(f"unknown WeChat channel settings: {unknown}")
        return cls(
            **{name: _convert(name, value, known[name]) for name, value in values.items()}
        )

    @property
    def can_push(self) -> bool:
        """Whether the customer-service message API can be used (needs app id + secret)."""
        return bool(self.app_id and self.app_secret)

    def require_token(self) -> None:
        if not self.token:
            raise WeChatConfigError(
                "The WeChat channel needs the token of the Official Account's server "
                "settings: set the environment variable WECHAT_TOKEN (or `token` under "
                "kefu.channels.wechat.WeChatInput in credentials.yml)."
            )


def _convert(name: str, value: Any, wanted: type) -> Any:
    try:
        return wanted(value)
    except (TypeError, ValueError):
        raise WeChatConfigError(
            f"WeChat channel setting {name}={value!r} is not a {wanted.__name__}"
        ) from None
