"""Chat with the running assistant in a terminal, through the REST webhook.

`make chat` (after `make run`). Buttons are numbered: type the number to press one.
"""
import argparse
import json
import sys
import urllib.request
import uuid

DEFAULT_URL = "http://localhost:5005/webhooks/rest/webhook"


def send(url: str, sender: str, text: str) -> list:
    body = json.dumps({"sender": sender, "message": text}).encode("utf-8")
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


def show(replies: list) -> list:
    """Print the bot's replies; return the buttons offered last."""
    buttons = []
    for reply in replies:
        if reply.get("text"):
            print(f"小客: {reply['text']}")
        buttons = reply.get("buttons") or buttons
    for number, button in enumerate(buttons, 1):
        print(f"   [{number}] {button['title']}")
    return buttons


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--sender", default=f"shell-{uuid.uuid4().hex[:8]}")
    args = parser.parse_args()
    print("和小客聊天（输入 /quit 退出）")
    buttons: list = []
    while True:
        try:
            text = input("您: ").strip()
        except (EOFError, KeyboardInterrupt):
            return 0
        if text == "/quit":
            return 0
        if text.isdigit() and 0 < int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        try:
            buttons = show(send(args.url, args.sender, text))
        except OSError as error:
            print(f"连接不到机器人（{error}）。先在另一个终端运行 make run。", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
