"""Pushing messages to WeChat customers through the customer-service message API.

Used for answers that miss WeChat's 5-second passive-reply window, for extra messages
of a turn, and by the desk for agents' replies (`send_to_customer`). wechatpy's client
is synchronous (requests), so calls run in a worker thread.
"""
import asyncio
import functools
import logging
from typing import Any, Callable, Dict, List, Optional

import requests
from rasa.core.channels.channel import OutputChannel
from wechatpy import WeChatClient

from kefu.channels.wechat_config import WeChatConfig, WeChatConfigError
from kefu.channels.wechat_text import render_buttons, split_text

logger = logging.getLogger(__name__)

# Timeout of one HTTP call to the WeChat API, in seconds.
API_TIMEOUT = 10


class _SessionWithTimeout(requests.Session):
    """wechatpy fetches access tokens without a timeout; give every call one."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = API_TIMEOUT
        return super().request(*args, **kwargs)


class KefuWeChatClient(WeChatClient):
    """wechatpy's client, with the API host configurable (tests point it at loopback)."""

    def __init__(self, app_id: str, app_secret: str, api_base_url: str) -> None:
        super().__init__(app_id, app_secret, timeout=API_TIMEOUT)
        self.API_BASE_URL = api_base_url.rstrip("/") + "/cgi-bin/"
        self._http = _SessionWithTimeout()

    def fetch_access_token(self) -> Dict[str, Any]:
        # Same request as WeChatClient.fetch_access_token, on the configured host.
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self.secret,
            },
        )


class CustomerServiceApi:
    """Async facade over `client.message.send_text` that respects WeChat's size limit."""

    def __init__(self, client: KefuWeChatClient) -> None:
        self.client = client

    async def send_text(self, openid: str, text: str) -> None:
        """Sends a text, split into several messages when it is too long."""
        for chunk in split_text(text):
            await asyncio.to_thread(self.client.message.send_text, openid, chunk)

    async def send_texts(self, openid: str, texts: List[str], delay: float = 0) -> None:
        if delay:
            await asyncio.sleep(delay)
        for text in texts:
            await self.send_text(openid, text)


@functools.lru_cache(maxsize=None)
def customer_service_api(config: WeChatConfig) -> CustomerServiceApi:
    """One API client per account and host, so its access token is fetched once."""
    if not config.can_push:
        raise WeChatConfigError(
            "Sending WeChat messages needs WECHAT_APP_ID and WECHAT_APP_SECRET "
            "(or app_id / app_secret in credentials.yml)."
        )
    client = KefuWeChatClient(config.app_id, config.app_secret, config.api_base_url)
    return CustomerServiceApi(client)


class WeChatOutput(OutputChannel):
    """Delivers bot or agent messages to a WeChat customer at any time (not as a reply).

    `remember_buttons(openid, buttons)` tells the input channel which options a later
    numeric answer refers to (an empty list: none any more).
    """

    def __init__(
        self,
        api: CustomerServiceApi,
        remember_buttons: Optional[Callable[[str, List[Dict[str, Any]]], None]] = None,
    ) -> None:
        self.api = api
        self.remember_buttons = remember_buttons

    @classmethod
    def name(cls) -> str:
        return "wechat"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        if self.remember_buttons:
            self.remember_buttons(recipient_id, [])
        await self.api.send_text(recipient_id, text)

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: List[Dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        if self.remember_buttons:
            self.remember_buttons(recipient_id, buttons)
        await self.api.send_text(recipient_id, render_buttons(text, buttons))


async def send_to_customer(
    openid: str, text: str, config: Optional[WeChatConfig] = None
) -> None:
    """Sends `text` to the customer `openid` (e.g. an agent's reply from the desk).

    Reads the account from the environment (WECHAT_APP_ID, WECHAT_APP_SECRET,
    WECHAT_API_BASE_URL) unless a config is given. Raises WeChatConfigError when the
    account is not configured and wechatpy's WeChatClientException when WeChat refuses
    the message (e.g. more than 48 hours after the customer's last message).
    """
    api = customer_service_api(config or WeChatConfig.load())
    await api.send_text(openid, text)
