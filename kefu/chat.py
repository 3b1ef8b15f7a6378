"""Chat with the running assistant in a terminal, through the REST webhook.

`make chat` (after `make run`). Buttons are numbered: type the number to press one.
Rasa's address is KEFU_RASA_URL (kefu.settings), or --url.
"""
import argparse
import sys
import uuid

from kefu.rasa_client import REST_WEBHOOK, RasaClient, RasaError


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="Rasa's address (default KEFU_RASA_URL or http://localhost:5005)")
    parser.add_argument("--sender", default=f"shell-{uuid.uuid4().hex[:8]}")
    args = parser.parse_args(argv)
    client = RasaClient(args.url.removesuffix(REST_WEBHOOK) if args.url else None)
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
            buttons = show(client.say(args.sender, text))
        except RasaError as error:
            print(f"连接不到机器人（{error}）。先在另一个终端运行 make run。", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
